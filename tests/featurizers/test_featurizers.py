"""Graph and fixed-length featurisation of known molecules."""

from __future__ import annotations

import numpy as np
import pytest
from rdkit import Chem
from rdkit.Chem import Crippen, Descriptors

from medora.featurizers.descriptors import (
    COMPACT_DESCRIPTORS,
    MORGAN_BITS,
    descriptor_matrix,
    morgan_counts,
    morgan_counts_without_each_atom,
)
from medora.featurizers.graph import (
    ATOM_DIM,
    BOND_DIM,
    ELEMENTS,
    GraphDataset,
    batch_graphs,
    collate_graphs,
    featurize,
)

ASPIRIN = Chem.MolFromSmiles("CC(=O)Oc1ccccc1C(=O)O")


def test_aspirin_graph_has_two_directed_edges_per_bond() -> None:
    graph = featurize(ASPIRIN)
    assert graph.atoms.shape == (13, ATOM_DIM)
    assert graph.edges.shape == (26, BOND_DIM)
    source, destination = graph.edge_index
    # every edge's reverse runs the other way
    assert np.array_equal(source[graph.reverse], destination)
    assert np.array_equal(destination[graph.reverse], source)
    bond = ASPIRIN.GetBondWithIdx(0)
    assert (source[0], destination[0]) == (bond.GetBeginAtomIdx(), bond.GetEndAtomIdx())


def test_atom_features_are_one_hot_blocks() -> None:
    graph = featurize(ASPIRIN)
    carbon = graph.atoms[0]
    assert carbon[ELEMENTS.index(6)] == 1.0
    # six one-hot blocks, each with exactly one entry set, plus aromatic flag and mass
    assert carbon[:-2].sum() == 6
    assert carbon[-1] == pytest.approx(12.011 * 0.01, abs=1e-4)
    aromatic = graph.atoms[4]
    assert aromatic[-2] == 1.0


def test_unknown_element_goes_to_the_other_slot() -> None:
    graph = featurize(Chem.MolFromSmiles("[Xe]"))
    assert graph.atoms[0, len(ELEMENTS)] == 1.0
    assert graph.edges.shape == (0, BOND_DIM) and graph.edge_index.shape == (2, 0)


def test_batch_offsets_atoms_and_edges() -> None:
    graphs = [featurize(Chem.MolFromSmiles(s)) for s in ("CCO", "c1ccccc1")]
    batch = batch_graphs(graphs, np.zeros((2, 3)))
    assert batch.n_molecules == 2 and batch.atoms.shape == (9, ATOM_DIM)
    assert batch.molecule.tolist() == [0, 0, 0, 1, 1, 1, 1, 1, 1]
    # benzene's edges point at atoms 3..8 and their reverses at edges 4..15
    assert batch.edge_index[:, 4:].min() == 3
    assert batch.reverse[4:].min() == 4
    assert batch.descriptors.shape == (2, 3)


def test_dataset_collates_to_a_batch_and_targets() -> None:
    graphs = [featurize(Chem.MolFromSmiles(s)) for s in ("CCO", "CCN", "CCC")]
    dataset = GraphDataset(graphs, np.array([1.0, 2.0, 3.0]))
    batch, targets = collate_graphs([dataset[0], dataset[2]])
    assert batch.n_molecules == 2 and targets.tolist() == [1.0, 3.0]
    assert batch.descriptors is None


def test_descriptors_equal_rdkit_values() -> None:
    matrix = descriptor_matrix([ASPIRIN], COMPACT_DESCRIPTORS)
    values = dict(zip(COMPACT_DESCRIPTORS, matrix[0], strict=True))
    assert values["MolLogP"] == pytest.approx(Crippen.MolLogP(ASPIRIN), rel=1e-5)
    assert values["TPSA"] == pytest.approx(Descriptors.TPSA(ASPIRIN), rel=1e-5)
    with pytest.raises(ValueError, match="unknown RDKit descriptor"):
        descriptor_matrix([ASPIRIN], ["NotADescriptor"])


def test_occluding_an_atom_removes_its_environments() -> None:
    full, occluded = morgan_counts_without_each_atom(ASPIRIN)
    assert np.array_equal(full, morgan_counts([ASPIRIN])[0])
    assert occluded.shape == (13, MORGAN_BITS)
    assert (occluded >= 0).all()
    # each atom is the centre of its radius-0 environment at least, so removes something
    assert ((full - occluded).sum(axis=1) >= 1).all()


def test_descriptors_of_salts_are_computed() -> None:
    """The parent of a salt must be a complete molecule: every compact descriptor defined."""
    from medora.data.molecules import parse_smiles

    table = parse_smiles(["[Na+].[O-]C(=O)c1ccccc1", "Cl.CCN", "CCO"])
    assert table.n_fragments == (2, 2, 1)
    assert np.isfinite(descriptor_matrix(list(table.mols))).all()
