"""A molecule's model-free profile: identity, structural alerts and drug-likeness in one record.

The profile is what a chemist reads next to a model's prediction, so a score is never shown
without the structural and physicochemical context that may contradict it. Every rule in it
carries its literature source and the RDKit version that computed it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from rdkit import Chem
from rdkit.Chem import rdMolDescriptors

from medora.areas.molecules.chem._mol import RDKIT_VERSION, as_mol
from medora.areas.molecules.chem.alerts import StructuralAlert, structural_alerts
from medora.areas.molecules.chem.druglikeness import DrugLikeness, drug_likeness

__all__ = ["MoleculeProfile", "profile_molecule"]


@dataclass(frozen=True)
class MoleculeProfile:
    """Everything medora says about a molecule without a trained model.

    ``predictions`` is left for callers that attach model outputs (name to value); it is empty
    here because no rule in this package is a model.
    """

    smiles: str
    formula: str
    alerts: tuple[StructuralAlert, ...]
    drug_likeness: DrugLikeness
    rdkit_version: str = RDKIT_VERSION
    predictions: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Nested dicts, tuples, strings and numbers, ready for ``json.dumps``."""
        return asdict(self)


def profile_molecule(mol: Chem.Mol | str) -> MoleculeProfile:
    """Profile one molecule (an RDKit molecule or a SMILES string)."""
    mol = as_mol(mol)
    return MoleculeProfile(
        smiles=Chem.MolToSmiles(mol),
        formula=rdMolDescriptors.CalcMolFormula(mol),
        alerts=tuple(structural_alerts(mol)),
        drug_likeness=drug_likeness(mol),
    )
