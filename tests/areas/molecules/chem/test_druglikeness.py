"""Lipinski, Veber, QED and synthetic accessibility on approved drugs."""

from __future__ import annotations

import pytest
from rdkit import Chem
from rdkit.Chem import Descriptors

from medora.areas.molecules.chem import (
    RDKIT_VERSION,
    drug_likeness,
    lipinski,
    qed,
    synthetic_accessibility,
    veber,
)


@pytest.mark.parametrize("name", ["aspirin", "atorvastatin", "cyclosporin", "tamoxifen"])
def test_rule_properties_are_rdkits_descriptors(drugs: dict[str, str], name: str) -> None:
    mol = Chem.MolFromSmiles(drugs[name])
    assert lipinski(mol).properties == {
        "MolWt": Descriptors.MolWt(mol),
        "MolLogP": Descriptors.MolLogP(mol),
        "NumHDonors": Descriptors.NHOHCount(mol),  # Lipinski's donors: NH and OH
        "NumHAcceptors": Descriptors.NOCount(mol),  # Lipinski's acceptors: N and O atoms
    }
    assert veber(mol).properties == {
        "NumRotatableBonds": Descriptors.NumRotatableBonds(mol),
        "TPSA": Descriptors.TPSA(mol),
    }


def test_aspirin_passes_every_rule(drugs: dict[str, str]) -> None:
    result = drug_likeness(drugs["aspirin"])
    assert result.lipinski.passed and result.lipinski.violations == ()
    assert result.lipinski.properties["MolWt"] == pytest.approx(180.159, abs=1e-3)
    assert result.veber.passed and result.veber.violations == ()
    for rule in (result.lipinski, result.veber):
        assert rule.rdkit_version == RDKIT_VERSION


def test_two_violations_fail_lipinski(drugs: dict[str, str]) -> None:
    atorvastatin = lipinski(drugs["atorvastatin"])
    assert not atorvastatin.passed
    assert atorvastatin.violations == ("MolWt 558.65 > 500", "MolLogP 6.31 > 5")
    cyclosporin = lipinski(drugs["cyclosporin"])
    assert not cyclosporin.passed
    assert cyclosporin.violations == ("MolWt 1202.63 > 500", "NumHAcceptors 23 > 10")
    assert "Lipinski" in cyclosporin.source and "Crippen" in cyclosporin.source


def test_one_violation_still_passes_lipinski(drugs: dict[str, str]) -> None:
    tamoxifen = lipinski(drugs["tamoxifen"])
    assert tamoxifen.passed
    assert tamoxifen.violations == ("MolLogP 6 > 5",)


def test_veber_fails_on_flexible_or_polar_drugs(drugs: dict[str, str]) -> None:
    assert veber(drugs["atorvastatin"]).violations == ("NumRotatableBonds 12 > 10",)
    cyclosporin = veber(drugs["cyclosporin"])
    assert not cyclosporin.passed
    assert cyclosporin.violations == ("NumRotatableBonds 15 > 10", "TPSA 278.8 > 140")
    assert "Veber" in cyclosporin.source


def test_aspirin_scores_in_published_ranges(drugs: dict[str, str]) -> None:
    aspirin_qed = qed(drugs["aspirin"])
    assert aspirin_qed.value == pytest.approx(0.55, abs=0.01)  # Bickerton et al. 2012 weights
    assert "Bickerton" in aspirin_qed.source
    aspirin_sa = synthetic_accessibility(drugs["aspirin"])
    assert 1.0 <= aspirin_sa.value <= 2.0  # "easy to make" end of the 1-10 scale
    assert "Ertl" in aspirin_sa.source and aspirin_sa.rdkit_version == RDKIT_VERSION


def test_a_cyclic_peptide_is_harder_to_make_and_less_drug_like(drugs: dict[str, str]) -> None:
    aspirin, cyclosporin = drug_likeness(drugs["aspirin"]), drug_likeness(drugs["cyclosporin"])
    assert cyclosporin.synthetic_accessibility.value > aspirin.synthetic_accessibility.value + 3
    assert cyclosporin.qed.value < aspirin.qed.value
