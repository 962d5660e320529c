"""Shared molecule handling for the chemistry rules: input parsing and provenance."""

from __future__ import annotations

import rdkit
from rdkit import Chem

__all__ = ["RDKIT_VERSION", "as_mol"]

#: Every rule result records the RDKit release that computed it: descriptor definitions
#: (logP atom types, filter SMARTS, fragment scores) change between releases, so a stored
#: value is only reproducible together with the version that produced it.
RDKIT_VERSION: str = rdkit.__version__


def as_mol(mol: Chem.Mol | str) -> Chem.Mol:
    """An RDKit molecule from a molecule or a SMILES string.

    RDKit returns ``None`` for unparsable SMILES instead of raising; failing loudly here keeps
    a typo from turning into an empty, seemingly clean profile.
    """
    if isinstance(mol, Chem.Mol):
        return mol
    parsed = Chem.MolFromSmiles(mol)
    if parsed is None:
        raise ValueError(f"Cannot parse SMILES {mol!r}.")
    return parsed
