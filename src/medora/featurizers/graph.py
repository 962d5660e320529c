"""Molecules as graphs for message passing: atom and bond feature vectors, and batches.

The features are the ones a directed message-passing network needs to tell chemically
different environments apart (Yang et al., J Chem Inf Model 2019): element, degree, formal
charge, chirality, attached hydrogens, hybridisation, aromaticity and mass for atoms; bond order,
conjugation, ring membership and stereo for bonds. Every categorical feature is one-hot with a
final "other" slot, so an element or state unseen in training still gets a valid vector.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from rdkit import Chem

# The elements of organic and medicinal chemistry (H to Kr) plus iodine; anything else is
# "other".
ELEMENTS: tuple[int, ...] = (*range(1, 37), 53)
DEGREES: tuple[int, ...] = (0, 1, 2, 3, 4, 5)
FORMAL_CHARGES: tuple[int, ...] = (-2, -1, 0, 1, 2)
CHIRAL_TAGS: tuple[int, ...] = (0, 1, 2, 3)
HYDROGEN_COUNTS: tuple[int, ...] = (0, 1, 2, 3, 4)
HYBRIDISATIONS: tuple[Chem.HybridizationType, ...] = (
    Chem.HybridizationType.S, Chem.HybridizationType.SP, Chem.HybridizationType.SP2,
    Chem.HybridizationType.SP2D, Chem.HybridizationType.SP3, Chem.HybridizationType.SP3D,
    Chem.HybridizationType.SP3D2,
)
BOND_TYPES: tuple[Chem.BondType, ...] = (
    Chem.BondType.SINGLE, Chem.BondType.DOUBLE, Chem.BondType.TRIPLE, Chem.BondType.AROMATIC,
)
BOND_STEREO: tuple[int, ...] = (0, 1, 2, 3, 4, 5)


def _lookup(choices: Sequence[object], key: object = int) -> dict[object, int]:
    return {key(choice): position for position, choice in enumerate(choices)}


# (property of an atom, its one-hot vocabulary); a value outside the vocabulary maps to the
# extra "other" slot at the end of its block.
_ATOM_BLOCKS: tuple[tuple[object, dict[object, int], int], ...] = tuple(
    (getter, _lookup(choices), len(choices) + 1) for getter, choices in (
        (Chem.Atom.GetAtomicNum, ELEMENTS),
        (Chem.Atom.GetTotalDegree, DEGREES),
        (Chem.Atom.GetFormalCharge, FORMAL_CHARGES),
        (lambda atom: int(atom.GetChiralTag()), CHIRAL_TAGS),
        (Chem.Atom.GetTotalNumHs, HYDROGEN_COUNTS),
        (lambda atom: int(atom.GetHybridization()), HYBRIDISATIONS),
    ))
_BOND_BLOCKS: tuple[tuple[object, dict[object, int], int], ...] = tuple(
    (getter, _lookup(choices), len(choices) + 1) for getter, choices in (
        (lambda bond: int(bond.GetBondType()), BOND_TYPES),
        (lambda bond: int(bond.GetStereo()), BOND_STEREO),
    ))
ATOM_DIM = sum(size for _, _, size in _ATOM_BLOCKS) + 2   # + aromatic flag, scaled mass
BOND_DIM = sum(size for _, _, size in _BOND_BLOCKS) + 2   # + conjugated, in ring


def _one_hot_blocks(items: Sequence[object], blocks: tuple[tuple[object, dict[object, int], int],
                                                           ...], width: int) -> np.ndarray:
    """One row per item: each block's one-hot, written by fancy indexing in one pass."""
    matrix = np.zeros((len(items), width), dtype=np.float32)
    rows = np.arange(len(items))
    offset = 0
    for getter, positions, size in blocks:
        other = size - 1
        columns = [positions.get(getter(item), other) for item in items]
        matrix[rows, offset + np.asarray(columns, dtype=np.int64)] = 1.0
        offset += size
    return matrix


def atom_features(mol: Chem.Mol) -> np.ndarray:
    """(n_atoms, ATOM_DIM) feature matrix of a molecule's atoms."""
    atoms = list(mol.GetAtoms())
    matrix = _one_hot_blocks(atoms, _ATOM_BLOCKS, ATOM_DIM)
    matrix[:, -2] = [atom.GetIsAromatic() for atom in atoms]
    matrix[:, -1] = [atom.GetMass() * 0.01 for atom in atoms]  # on the scale of the one-hots
    return matrix


def bond_features(mol: Chem.Mol) -> np.ndarray:
    """(n_bonds, BOND_DIM) feature matrix of a molecule's bonds, in RDKit's bond order."""
    bonds = list(mol.GetBonds())
    matrix = _one_hot_blocks(bonds, _BOND_BLOCKS, BOND_DIM)
    matrix[:, -2] = [bond.GetIsConjugated() for bond in bonds]
    matrix[:, -1] = [bond.IsInRing() for bond in bonds]
    return matrix


@dataclass(frozen=True)
class MolGraph:
    """One molecule as a directed graph: every bond becomes two directed edges.

    ``edge_index[:, e]`` is (source atom, destination atom) of edge ``e``, and ``reverse[e]``
    is the edge running the other way, which a directed message must not send straight back.
    """

    atoms: np.ndarray       # (n_atoms, ATOM_DIM)
    edges: np.ndarray       # (n_edges, BOND_DIM)
    edge_index: np.ndarray  # (2, n_edges)
    reverse: np.ndarray     # (n_edges,)

    @property
    def n_atoms(self) -> int:
        return len(self.atoms)


def featurize(mol: Chem.Mol) -> MolGraph:
    bonds = bond_features(mol)
    ends = np.array([(b.GetBeginAtomIdx(), b.GetEndAtomIdx()) for b in mol.GetBonds()],
                    dtype=np.int64).reshape(-1, 2)
    # Each bond becomes the pair of directed edges (u->v, v->u) at positions 2i and 2i+1.
    edge_index = np.stack([ends, ends[:, ::-1]], axis=1).reshape(-1, 2).T.copy()
    reverse = np.arange(2 * len(ends), dtype=np.int64) ^ 1
    return MolGraph(atoms=atom_features(mol), edges=np.repeat(bonds, 2, axis=0),
                    edge_index=edge_index, reverse=reverse)


@dataclass
class GraphBatch:
    """Several molecules as one disconnected graph, with each atom's molecule recorded.

    ``descriptors`` holds optional molecule-level features appended before the output
    network.
    """

    atoms: torch.Tensor        # (total_atoms, ATOM_DIM)
    edges: torch.Tensor        # (total_edges, BOND_DIM)
    edge_index: torch.Tensor   # (2, total_edges)
    reverse: torch.Tensor      # (total_edges,)
    molecule: torch.Tensor     # (total_atoms,) index of each atom's molecule
    n_molecules: int
    descriptors: torch.Tensor | None = None

    def __len__(self) -> int:
        return self.n_molecules


def batch_graphs(graphs: Sequence[MolGraph], descriptors: np.ndarray | None = None) -> GraphBatch:
    atom_offsets = np.cumsum([0, *(g.n_atoms for g in graphs[:-1])])
    edge_offsets = np.cumsum([0, *(len(g.edges) for g in graphs[:-1])])
    return GraphBatch(
        atoms=torch.from_numpy(np.concatenate([g.atoms for g in graphs])),
        edges=torch.from_numpy(np.concatenate([g.edges for g in graphs]).reshape(-1, BOND_DIM)),
        edge_index=torch.from_numpy(np.concatenate(
            [g.edge_index + offset for g, offset in zip(graphs, atom_offsets, strict=True)],
            axis=1)),
        reverse=torch.from_numpy(np.concatenate(
            [g.reverse + offset for g, offset in zip(graphs, edge_offsets, strict=True)])),
        molecule=torch.from_numpy(np.repeat(np.arange(len(graphs)),
                                            [g.n_atoms for g in graphs])),
        n_molecules=len(graphs),
        descriptors=None if descriptors is None else torch.from_numpy(
            np.asarray(descriptors, dtype=np.float32)),
    )


GraphItem = tuple[MolGraph, np.ndarray | None, float]


class GraphDataset(torch.utils.data.Dataset):
    """Featurised molecules with optional descriptors and targets; batch with
    :func:`collate_graphs`."""

    def __init__(self, graphs: Sequence[MolGraph], targets: np.ndarray,
                 descriptors: np.ndarray | None = None) -> None:
        self.graphs = list(graphs)
        self.targets = np.asarray(targets, dtype=np.float32)
        self.descriptors = descriptors

    def __len__(self) -> int:
        return len(self.graphs)

    def __getitem__(self, index: int) -> GraphItem:
        descriptors = None if self.descriptors is None else self.descriptors[index]
        return self.graphs[index], descriptors, float(self.targets[index])


def collate_graphs(items: list[GraphItem]) -> tuple[GraphBatch, torch.Tensor]:
    graphs, descriptors, targets = zip(*items, strict=True)
    stacked = None if descriptors[0] is None else np.stack(descriptors)
    return batch_graphs(graphs, stacked), torch.tensor(targets, dtype=torch.float32)
