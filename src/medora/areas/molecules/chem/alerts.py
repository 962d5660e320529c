"""Structural alerts: substructures that flag assay interference, reactivity or toxicity.

A model trained on assay read-outs inherits the artefacts of the assay. Compounds that react
with proteins, aggregate, fluoresce or chelate show up as "active" in many unrelated screens
(pan-assay interference compounds, PAINS), and some functional groups are unwanted in a drug
for toxicity or pharmacokinetic reasons. These alerts need no trained model: they are
published SMARTS substructure filters, shipped and curated in RDKit's ``FilterCatalog``. An
alert is a reason to look closer, not a verdict: approved drugs carry alerts too (aspirin's
phenol ester is a Brenk alert, because acylating proteins is exactly how it works).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from rdkit import Chem
from rdkit.Chem.FilterCatalog import FilterCatalog, FilterCatalogParams, SmartsMatcher

from medora.areas.molecules.chem._mol import RDKIT_VERSION, as_mol

__all__ = ["CATALOG_SOURCES", "StructuralAlert", "structural_alerts"]

_PAINS = (
    "Baell JB, Holloway GA. New substructure filters for removal of pan assay interference "
    "compounds (PAINS) from screening libraries and for their exclusion in bioassays. "
    "J Med Chem 53 (2010) 2719-2740. doi:10.1021/jm901137j"
)

#: Literature source of every catalog, in the order they are searched. The SMARTS are RDKit's
#: curated translations (RDKit's ``FilterCatalog``), hence the RDKit version on every alert.
CATALOG_SOURCES: dict[str, str] = {
    "PAINS_A": _PAINS + " (family A)",
    "PAINS_B": _PAINS + " (family B)",
    "PAINS_C": _PAINS + " (family C)",
    "BRENK": (
        "Brenk R, Schipani A, James D, et al. Lessons learnt from assembling screening "
        "libraries for drug discovery for neglected diseases. ChemMedChem 3 (2008) 435-444. "
        "doi:10.1002/cmdc.200700139"
    ),
    "NIH": (
        "Jadhav A, Ferreira RS, Klumpp C, et al. Quantitative analyses of aggregation, "
        "autofluorescence, and reactivity artifacts in a screen for inhibitors of a thiol "
        "protease. J Med Chem 53 (2010) 37-51. doi:10.1021/jm901070c"
    ),
}


@dataclass(frozen=True)
class StructuralAlert:
    """One alert that fires on a molecule.

    ``atoms`` are the indices of every atom in any occurrence of the alert's substructure, so
    a depiction can highlight all of them. ``smarts`` is the pattern as RDKit matched it
    (explicit hydrogens of the PAINS definitions merged into atom queries), or ``None`` for a
    filter that is not a single SMARTS.
    """

    catalog: str
    name: str
    atoms: tuple[int, ...]
    smarts: str | None
    source: str
    rdkit_version: str = RDKIT_VERSION


@cache
def _catalogs() -> dict[str, FilterCatalog]:
    """One filter catalog per rule set, built on first use: building parses ~770 SMARTS."""
    catalogs = {}
    for name in CATALOG_SOURCES:
        params = FilterCatalogParams()
        params.AddCatalog(getattr(FilterCatalogParams.FilterCatalogs, name))
        catalogs[name] = FilterCatalog(params)
    return catalogs


def structural_alerts(mol: Chem.Mol | str) -> list[StructuralAlert]:
    """Every PAINS (A, B, C), Brenk and NIH alert that fires on ``mol``, catalog by catalog.

    The catalog decides whether an alert fires (some filters require a minimum count of the
    group); RDKit then reports only the first occurrence of a SMARTS, so all occurrences are
    matched again to give the atoms of each one.
    """
    mol = as_mol(mol)
    alerts = []
    for catalog, filters in _catalogs().items():
        for entry in filters.GetMatches(mol):
            atoms: set[int] = set()
            smarts = None
            for match in entry.GetFilterMatches(mol):
                atoms.update(pair.target for pair in match.atomPairs)
                if isinstance(match.filterMatch, SmartsMatcher):
                    pattern = match.filterMatch.GetPattern()
                    smarts = Chem.MolToSmarts(pattern)
                    for occurrence in mol.GetSubstructMatches(pattern):
                        atoms.update(occurrence)
            alerts.append(
                StructuralAlert(
                    catalog=catalog,
                    name=entry.GetDescription(),
                    atoms=tuple(sorted(atoms)),
                    smarts=smarts,
                    source=CATALOG_SOURCES[catalog],
                )
            )
    return alerts
