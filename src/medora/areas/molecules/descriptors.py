"""Fixed-length molecule features: Morgan count fingerprints and RDKit 2D descriptors.

Fingerprints plus descriptors are the classical baselines' input, the strongest simple
molecular representation on small property datasets. The compact descriptor set is the few
whole-molecule properties that message passing over local environments approximates poorly
(lipophilicity, polar surface, size); it is cheap enough to compute at prediction time.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import metadata

import numpy as np
from rdkit import Chem
from rdkit.Chem import Descriptors, rdFingerprintGenerator, rdMolDescriptors

MORGAN_RADIUS = 2
MORGAN_BITS = 2048

#: Every 2D descriptor RDKit computes, by name (the version is recorded with each run).
ALL_DESCRIPTORS: tuple[str, ...] = tuple(name for name, _ in Descriptors.descList)
COMPACT_DESCRIPTORS: tuple[str, ...] = (
    "MolLogP", "MolMR", "TPSA", "MolWt", "HeavyAtomCount", "NumHDonors", "NumHAcceptors",
    "NumRotatableBonds", "RingCount", "NumAromaticRings", "FractionCSP3", "NumHeteroatoms",
    "LabuteASA",
)
_FUNCTIONS = dict(Descriptors.descList)

# The compact descriptors straight from RDKit's C++ functions that Descriptors.descList wraps
# (same functions, same defaults, same values; tested), without the Python wrappers. Crippen's
# logP and molar refractivity come from one atom typing, computed once for both.
_DIRECT: dict[str, object] = {
    "TPSA": rdMolDescriptors.CalcTPSA,
    "MolWt": rdMolDescriptors._CalcMolWt,
    "HeavyAtomCount": Chem.Mol.GetNumHeavyAtoms,
    "NumHDonors": rdMolDescriptors.CalcNumHBD,
    "NumHAcceptors": rdMolDescriptors.CalcNumHBA,
    "NumRotatableBonds": rdMolDescriptors.CalcNumRotatableBonds,
    "RingCount": rdMolDescriptors.CalcNumRings,
    "NumAromaticRings": rdMolDescriptors.CalcNumAromaticRings,
    "FractionCSP3": rdMolDescriptors.CalcFractionCSP3,
    "NumHeteroatoms": rdMolDescriptors.CalcNumHeteroatoms,
    "LabuteASA": rdMolDescriptors.CalcLabuteASA,
}
_CRIPPEN = {"MolLogP": 0, "MolMR": 1}


def rdkit_version() -> str:
    return metadata.version("rdkit")


def _generator() -> rdFingerprintGenerator.FingerprintGenerator64:
    return rdFingerprintGenerator.GetMorganGenerator(radius=MORGAN_RADIUS, fpSize=MORGAN_BITS)


def morgan_counts(mols: Sequence[Chem.Mol]) -> np.ndarray:
    """(n, 2048) counts of radius-2 Morgan environments (ECFP4-like, hashed)."""
    generator = _generator()
    return np.stack([generator.GetCountFingerprintAsNumPy(mol) for mol in mols]).astype(
        np.float32) if mols else np.zeros((0, MORGAN_BITS), dtype=np.float32)


def morgan_counts_without_each_atom(mol: Chem.Mol) -> tuple[np.ndarray, np.ndarray]:
    """The molecule's count fingerprint, and one copy per atom with the environments that
    atom takes part in removed: the occlusion that maps fingerprint models onto atoms
    (Riniker and Landrum, J Cheminform 2013)."""
    generator = _generator()
    output = rdFingerprintGenerator.AdditionalOutput()
    output.AllocateBitInfoMap()
    full = generator.GetCountFingerprintAsNumPy(mol, additionalOutput=output).astype(np.float32)
    occluded = np.repeat(full[None, :], mol.GetNumAtoms(), axis=0)
    for bit, environments in output.GetBitInfoMap().items():
        for centre, radius in environments:
            atoms = {centre}
            if radius > 0:
                path = Chem.FindAtomEnvironmentOfRadiusN(mol, radius, centre)
                for bond_index in path:
                    bond = mol.GetBondWithIdx(bond_index)
                    atoms.update((bond.GetBeginAtomIdx(), bond.GetEndAtomIdx()))
            for atom in atoms:
                occluded[atom, bit] -= 1.0
    return full, occluded


def descriptor_matrix(mols: Sequence[Chem.Mol],
                      names: Sequence[str] = COMPACT_DESCRIPTORS) -> np.ndarray:
    """(n, len(names)) RDKit descriptors; values RDKit cannot compute become nan."""
    unknown = [name for name in names if name not in _FUNCTIONS]
    if unknown:
        raise ValueError(f"unknown RDKit descriptor(s) {unknown}; see "
                         "rdkit.Chem.Descriptors.descList for the available names")
    crippen = [(j, _CRIPPEN[name]) for j, name in enumerate(names) if name in _CRIPPEN]
    functions = [(j, _DIRECT.get(name, _FUNCTIONS[name])) for j, name in enumerate(names)
                 if name not in _CRIPPEN]
    matrix = np.full((len(mols), len(names)), np.nan, dtype=np.float64)
    for i, mol in enumerate(mols):
        row = matrix[i]
        if crippen:
            try:
                values = rdMolDescriptors.CalcCrippenDescriptors(mol)
            except (ValueError, RuntimeError):
                pass  # stays nan; imputed by the model from training data
            else:
                for j, which in crippen:
                    row[j] = values[which]
        for j, function in functions:
            try:
                row[j] = function(mol)
            except (ValueError, RuntimeError, ZeroDivisionError):
                continue  # stays nan; imputed by the model from training data
    # A few descriptors (Ipc) overflow float32 on large molecules: keep them finite.
    matrix[~np.isfinite(matrix)] = np.nan
    return np.clip(matrix, -1e6, 1e6).astype(np.float32)
