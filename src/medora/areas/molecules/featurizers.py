"""Molecules as graphs for message passing: atom and bond feature vectors, and batches.

The features are the ones a directed message-passing network needs to tell chemically
different environments apart (Yang et al., J Chem Inf Model 2019): element, degree, formal
charge, chirality, attached hydrogens, hybridisation, aromaticity and mass for atoms; bond order,
conjugation, ring membership and stereo for bonds. Every categorical feature is one-hot with a
final "other" slot, so an element or state unseen in training still gets a valid vector.

Featurisation reads each atom and bond through RDKit once and builds every one-hot block for
all molecules of a call in a few array operations (:func:`featurize_batch` goes straight to a
batch); :func:`message_operators` turns a batch's edge lists into the sparse matrices that
evaluate message passing as sparse-dense products at prediction time. Everything here is
arrays, without torch: a prediction never loads it (:mod:`medora.areas.molecules.dmpnn` turns
batches into tensors for training).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from rdkit import Chem
from scipy import sparse

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

Vocabulary = tuple[np.ndarray, np.ndarray]


def _vocabulary(choices: Sequence[object]) -> Vocabulary:
    """The vocabulary's values sorted (for a binary search) and each one's one-hot position."""
    values = np.asarray([int(choice) for choice in choices], dtype=np.int64)
    order = np.argsort(values, kind="stable")
    return values[order], order


# One vocabulary per one-hot block, in column order; a value outside its vocabulary maps to
# the extra "other" slot at the end of its block.
_ATOM_VOCABULARIES: tuple[Vocabulary, ...] = tuple(_vocabulary(choices) for choices in (
    ELEMENTS, DEGREES, FORMAL_CHARGES, CHIRAL_TAGS, HYDROGEN_COUNTS, HYBRIDISATIONS))
_BOND_VOCABULARIES: tuple[Vocabulary, ...] = tuple(_vocabulary(choices) for choices in (
    BOND_TYPES, BOND_STEREO))
ATOM_DIM = sum(len(values) + 1 for values, _ in _ATOM_VOCABULARIES) + 2  # + aromatic, mass
BOND_DIM = sum(len(values) + 1 for values, _ in _BOND_VOCABULARIES) + 2  # + conjugated, ring

# What is read from RDKit per atom and per bond (in this order).
_ATOM_FIELDS = 7  # atomic number, hydrogens, formal charge, chirality, hybridisation,
#                   aromatic, mass
_BOND_FIELDS = 6  # begin atom, end atom, bond type, stereo, conjugated, in a ring


def _one_hot(columns: Sequence[np.ndarray], vocabularies: tuple[Vocabulary, ...],
             width: int) -> np.ndarray:
    """One row per item with each block's one-hot set: ``columns[k]`` holds every item's raw
    value for block ``k``."""
    n = len(columns[0]) if columns else 0
    matrix = np.zeros((n, width), dtype=np.float32)
    rows = np.arange(n)
    offset = 0
    for values, (known, positions) in zip(columns, vocabularies, strict=True):
        at = np.minimum(np.searchsorted(known, values), len(known) - 1)
        slot = np.where(known[at] == values, positions[at], len(known))
        matrix[rows, offset + slot] = 1.0
        offset += len(known) + 1
    return matrix


@dataclass(frozen=True)
class _RawGraphs:
    """What featurisation reads from RDKit for several molecules, before any array work."""

    atom_values: np.ndarray  # (total atoms, _ATOM_FIELDS)
    bond_values: np.ndarray  # (total bonds, _BOND_FIELDS), ends numbered within a molecule
    atom_counts: np.ndarray  # (molecules,)
    bond_counts: np.ndarray  # (molecules,)


def _read(mols: Sequence[Chem.Mol]) -> _RawGraphs:
    """Read every atom's and bond's properties from RDKit, one call each."""
    atom_values: list = []
    bond_values: list = []
    atom_counts = np.zeros(len(mols), dtype=np.int64)
    bond_counts = np.zeros(len(mols), dtype=np.int64)
    for index, mol in enumerate(mols):
        # By index: RDKit's GetAtoms()/GetBonds() iterators are Python generators that cost
        # more than the properties read.
        n_atoms, n_bonds = mol.GetNumAtoms(), mol.GetNumBonds()
        atom_with_index, bond_with_index = mol.GetAtomWithIdx, mol.GetBondWithIdx
        for position in range(n_atoms):
            atom = atom_with_index(position)
            atom_values += (atom.GetAtomicNum(), atom.GetTotalNumHs(), atom.GetFormalCharge(),
                            atom.GetChiralTag(), atom.GetHybridization(), atom.GetIsAromatic(),
                            atom.GetMass())
        for position in range(n_bonds):
            bond = bond_with_index(position)
            bond_values += (bond.GetBeginAtomIdx(), bond.GetEndAtomIdx(), bond.GetBondType(),
                            bond.GetStereo(), bond.GetIsConjugated(), bond.IsInRing())
        atom_counts[index] = n_atoms
        bond_counts[index] = n_bonds
    return _RawGraphs(
        atom_values=np.array(atom_values, dtype=np.float64).reshape(-1, _ATOM_FIELDS),
        bond_values=np.array(bond_values, dtype=np.int64).reshape(-1, _BOND_FIELDS),
        atom_counts=atom_counts, bond_counts=bond_counts)


@dataclass(frozen=True)
class _Features:
    """The atoms and bonds of several molecules, concatenated in molecule order."""

    atoms: np.ndarray        # (total atoms, ATOM_DIM)
    bonds: np.ndarray        # (total bonds, BOND_DIM), each molecule's bonds in RDKit order
    ends: np.ndarray         # (total bonds, 2) begin and end atom, numbered across molecules
    atom_counts: np.ndarray  # (molecules,)
    bond_counts: np.ndarray  # (molecules,)


def _features(mols: Sequence[Chem.Mol]) -> _Features:
    raw = _read(mols)
    raw_atoms, raw_bonds = raw.atom_values, raw.bond_values
    # Atom numbers across molecules: each molecule's start added to its bonds' ends.
    starts = np.cumsum(raw.atom_counts) - raw.atom_counts
    ends = raw_bonds[:, :2] + np.repeat(starts, raw.bond_counts)[:, None]
    # The total degree (bonded neighbours plus hydrogens) is RDKit's GetTotalDegree, with the
    # neighbours counted from the bond list instead of one more call per atom.
    degree = np.bincount(ends.ravel(), minlength=len(raw_atoms))
    integers = raw_atoms[:, :5].astype(np.int64)
    hydrogens = integers[:, 1]
    atoms = _one_hot([integers[:, 0], degree + hydrogens, integers[:, 2], integers[:, 3],
                      hydrogens, integers[:, 4]], _ATOM_VOCABULARIES, ATOM_DIM)
    atoms[:, -2] = raw_atoms[:, 5]
    atoms[:, -1] = raw_atoms[:, 6] * 0.01  # on the scale of the one-hots
    bonds = _one_hot([raw_bonds[:, 2], raw_bonds[:, 3]], _BOND_VOCABULARIES, BOND_DIM)
    bonds[:, -2:] = raw_bonds[:, 4:]
    return _Features(atoms=atoms, bonds=bonds, ends=ends, atom_counts=raw.atom_counts,
                     bond_counts=raw.bond_counts)


def _directed(ends: np.ndarray) -> np.ndarray:
    """(2, 2 * bonds) edge list: bond i becomes the edges u->v and v->u at 2i and 2i + 1."""
    return np.stack([ends, ends[:, ::-1]], axis=1).reshape(-1, 2).T.copy()


def atom_features(mol: Chem.Mol) -> np.ndarray:
    """(n_atoms, ATOM_DIM) feature matrix of a molecule's atoms."""
    return _features([mol]).atoms


def bond_features(mol: Chem.Mol) -> np.ndarray:
    """(n_bonds, BOND_DIM) feature matrix of a molecule's bonds, in RDKit's bond order."""
    return _features([mol]).bonds


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


def featurize_many(mols: Sequence[Chem.Mol]) -> list[MolGraph]:
    """:func:`featurize` of every molecule, read in one pass."""
    features = _features(mols)
    graphs = []
    atom_start = bond_start = 0
    for n_atoms, n_bonds in zip(features.atom_counts.tolist(), features.bond_counts.tolist(),
                                strict=True):
        bonds = slice(bond_start, bond_start + n_bonds)
        graphs.append(MolGraph(
            atoms=features.atoms[atom_start:atom_start + n_atoms],
            edges=np.repeat(features.bonds[bonds], 2, axis=0),
            edge_index=_directed(features.ends[bonds] - atom_start),
            reverse=np.arange(2 * n_bonds, dtype=np.int64) ^ 1))
        atom_start += n_atoms
        bond_start += n_bonds
    return graphs


def featurize(mol: Chem.Mol) -> MolGraph:
    return featurize_many([mol])[0]


@dataclass
class GraphBatch:
    """Several molecules as one disconnected graph, with each atom's molecule recorded.

    ``descriptors`` holds optional molecule-level features appended before the output
    network. Arrays, so that prediction needs no torch; training converts a batch to tensors.
    """

    atoms: np.ndarray        # (total_atoms, ATOM_DIM) float32
    edges: np.ndarray        # (total_edges, BOND_DIM) float32
    edge_index: np.ndarray   # (2, total_edges)
    reverse: np.ndarray      # (total_edges,)
    molecule: np.ndarray     # (total_atoms,) index of each atom's molecule
    n_molecules: int
    descriptors: np.ndarray | None = None  # (n_molecules, n_descriptors) float32

    def __len__(self) -> int:
        return self.n_molecules


def _descriptor_array(descriptors: np.ndarray | None) -> np.ndarray | None:
    return None if descriptors is None else np.asarray(descriptors, dtype=np.float32)


def batch_graphs(graphs: Sequence[MolGraph], descriptors: np.ndarray | None = None) -> GraphBatch:
    atom_offsets = np.cumsum([0, *(g.n_atoms for g in graphs[:-1])])
    edge_offsets = np.cumsum([0, *(len(g.edges) for g in graphs[:-1])])
    return GraphBatch(
        atoms=np.concatenate([g.atoms for g in graphs]),
        edges=np.concatenate([g.edges for g in graphs]).reshape(-1, BOND_DIM),
        edge_index=np.concatenate(
            [g.edge_index + offset for g, offset in zip(graphs, atom_offsets, strict=True)],
            axis=1),
        reverse=np.concatenate(
            [g.reverse + offset for g, offset in zip(graphs, edge_offsets, strict=True)]),
        molecule=np.repeat(np.arange(len(graphs)), [g.n_atoms for g in graphs]),
        n_molecules=len(graphs),
        descriptors=_descriptor_array(descriptors),
    )


def featurize_batch(mols: Sequence[Chem.Mol],
                    descriptors: np.ndarray | None = None) -> GraphBatch:
    """``batch_graphs([featurize(m) for m in mols], descriptors)``, built directly."""
    features = _features(mols)
    n_edges = 2 * len(features.ends)
    return GraphBatch(
        atoms=features.atoms,
        edges=np.repeat(features.bonds, 2, axis=0),
        edge_index=_directed(features.ends),
        # Every molecule starts at an even edge, so the pairs (2i, 2i + 1) hold batch-wide.
        reverse=np.arange(n_edges, dtype=np.int64) ^ 1,
        molecule=np.repeat(np.arange(len(mols)), features.atom_counts),
        n_molecules=len(mols),
        descriptors=_descriptor_array(descriptors),
    )


@dataclass(frozen=True)
class MessageOperators:
    """Message passing over a batch as sparse (CSR) matrices.

    ``incoming @ h`` is each directed edge u->v's message: the sum of the hidden states of the
    edges arriving at u, less the one from v. ``into_atoms @ h`` sums each atom's arriving
    edges; ``readout @ a`` averages each molecule's atoms. One sparse product reads each
    hidden state about once, where gathering and scattering read and write it several times.
    """

    incoming: sparse.csr_array    # (edges, edges)
    into_atoms: sparse.csr_array  # (atoms, edges)
    readout: sparse.csr_array     # (molecules, atoms)


def _csr(row_counts: np.ndarray, columns: np.ndarray, values: np.ndarray,
         n_columns: int) -> sparse.csr_array:
    """A float32 CSR matrix from the number of entries in each row, their columns and values
    (the entries of a row in the order given, not sorted)."""
    pointers = np.zeros(len(row_counts) + 1, dtype=np.int32)
    np.cumsum(row_counts, out=pointers[1:])
    return sparse.csr_array((values.astype(np.float32), columns.astype(np.int32), pointers),
                            shape=(len(row_counts), n_columns))


def message_operators(batch: GraphBatch) -> MessageOperators:
    source, destination = batch.edge_index
    reverse = batch.reverse
    n_atoms, n_edges = len(batch.atoms), len(reverse)
    # Edges grouped by the atom they arrive at: arriving[first[u]:first[u] + indegree[u]].
    indegree = np.bincount(destination, minlength=n_atoms)
    arriving = np.argsort(destination, kind="stable")
    first = np.cumsum(indegree) - indegree
    # Edge e = u->v takes every edge arriving at u except its own reverse v->u.
    counts = indegree[source]
    total = int(counts.sum())
    within = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
    candidates = arriving[np.repeat(first[source], counts) + within]
    keep = candidates != np.repeat(reverse, counts)
    atom_counts = np.bincount(batch.molecule, minlength=batch.n_molecules)
    return MessageOperators(
        incoming=_csr(counts - 1, candidates[keep], np.ones(total - n_edges), n_edges),
        into_atoms=_csr(indegree, arriving, np.ones(n_edges), n_edges),
        readout=_csr(atom_counts, np.arange(n_atoms),
                     np.repeat(1.0 / np.maximum(atom_counts, 1), atom_counts), n_atoms))


GraphItem = tuple[MolGraph, np.ndarray | None, float]


class GraphDataset:
    """Featurised molecules with optional descriptors and targets (a map-style dataset for a
    torch ``DataLoader``); batch with :func:`medora.areas.molecules.dmpnn.collate_graphs`."""

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
