"""Model-free chemistry for drug discovery: structural alerts, drug-likeness, similarity and an
applicability domain, molecule profiles and depictions. Every rule carries its literature
source and the RDKit version that computed it."""

from medora.areas.molecules.chem._mol import RDKIT_VERSION, as_mol
from medora.areas.molecules.chem.alerts import CATALOG_SOURCES, StructuralAlert, structural_alerts
from medora.areas.molecules.chem.depict import HIGHLIGHT_COLOUR, WEIGHT_COLOURS, draw_molecule
from medora.areas.molecules.chem.druglikeness import (
    DrugLikeness,
    RuleResult,
    Score,
    drug_likeness,
    lipinski,
    qed,
    synthetic_accessibility,
    veber,
)
from medora.areas.molecules.chem.profile import MoleculeProfile, profile_molecule
from medora.areas.molecules.chem.similarity import (
    MORGAN_BITS,
    MORGAN_RADIUS,
    ApplicabilityDomain,
    DomainAssessment,
    morgan_fingerprint,
    morgan_fingerprints,
    nearest_neighbours,
)

__all__ = [
    "CATALOG_SOURCES",
    "HIGHLIGHT_COLOUR",
    "MORGAN_BITS",
    "MORGAN_RADIUS",
    "RDKIT_VERSION",
    "WEIGHT_COLOURS",
    "ApplicabilityDomain",
    "DomainAssessment",
    "DrugLikeness",
    "MoleculeProfile",
    "RuleResult",
    "Score",
    "StructuralAlert",
    "as_mol",
    "draw_molecule",
    "drug_likeness",
    "lipinski",
    "morgan_fingerprint",
    "morgan_fingerprints",
    "nearest_neighbours",
    "profile_molecule",
    "qed",
    "structural_alerts",
    "synthetic_accessibility",
    "veber",
]
