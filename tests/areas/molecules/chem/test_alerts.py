"""Structural alerts on RDKit's own PAINS test molecules and on a clean drug."""

from __future__ import annotations

import os

import pytest
from rdkit import Chem, RDConfig

from medora.areas.molecules.chem import CATALOG_SOURCES, RDKIT_VERSION, structural_alerts


def _pains_test_molecule(chembl_id: str) -> str:
    """A SMILES from RDKit's curated PAINS test set (each line: id, SMARTS, SMILES, source)."""
    path = os.path.join(RDConfig.RDDataDir, "Pains", "test_data", "test_set3.txt")
    with open(path) as lines:
        for line in lines:
            fields = line.split()
            if not line.startswith("#") and fields[3] == chembl_id:
                return fields[2]
    raise LookupError(chembl_id)


@pytest.mark.parametrize(
    ("chembl_id", "catalog", "name"),
    [
        ("CHEMBL3288601", "PAINS_A", "quinone_A(370)"),
        ("CHEMBL2287693", "PAINS_B", "cyano_imine_B(17)"),
        ("CHEMBL2358992", "PAINS_C", "thio_amide_A(6)"),
    ],
)
def test_known_pains_fire_with_their_atoms(chembl_id: str, catalog: str, name: str) -> None:
    mol = Chem.MolFromSmiles(_pains_test_molecule(chembl_id))
    alerts = {(a.catalog, a.name): a for a in structural_alerts(mol)}
    alert = alerts[(catalog, name)]
    assert alert.source == CATALOG_SOURCES[catalog]
    assert "Baell" in alert.source and "doi:10.1021/jm901137j" in alert.source
    assert alert.rdkit_version == RDKIT_VERSION
    # The reported atoms are exactly the union of the pattern's occurrences in the molecule.
    assert alert.smarts is not None
    pattern = Chem.MolFromSmarts(alert.smarts)
    occurrences = {i for match in mol.GetSubstructMatches(pattern) for i in match}
    assert set(alert.atoms) == occurrences and alert.atoms == tuple(sorted(alert.atoms))


def test_aspirin_has_no_pains_but_its_acylating_ester_is_a_brenk_alert(
    drugs: dict[str, str],
) -> None:
    alerts = structural_alerts(drugs["aspirin"])
    assert not [a for a in alerts if a.catalog.startswith("PAINS")]
    assert [(a.catalog, a.name) for a in alerts] == [("BRENK", "phenol_ester")]
    assert "Brenk" in alerts[0].source


def test_every_occurrence_is_highlighted_and_nih_is_searched() -> None:
    two_aldehydes = "O=CCCCCCC=O"
    alerts = {(a.catalog, a.name): a for a in structural_alerts(two_aldehydes)}
    assert set(alerts[("NIH", "aldehyde")].atoms) == {0, 1, 2, 6, 7, 8}
    assert "Jadhav" in alerts[("NIH", "aldehyde")].source


def test_invalid_smiles_is_an_error() -> None:
    with pytest.raises(ValueError, match="Cannot parse SMILES"):
        structural_alerts("C1CC")
