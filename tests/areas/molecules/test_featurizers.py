"""Graph and fixed-length featurisation of known molecules."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from rdkit import Chem
from rdkit.Chem import Crippen, Descriptors

from medora.areas.molecules.descriptors import (
    COMPACT_DESCRIPTORS,
    MORGAN_BITS,
    descriptor_matrix,
    morgan_counts,
    morgan_counts_without_each_atom,
)
from medora.areas.molecules.dmpnn import collate_graphs
from medora.areas.molecules.featurizers import (
    ATOM_DIM,
    BOND_DIM,
    ELEMENTS,
    GraphDataset,
    batch_graphs,
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
    assert isinstance(batch.atoms, torch.Tensor) and batch.atoms.shape == (6, ATOM_DIM)


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


# -- Batch featurisation: the same numbers as reading each atom and bond on its own -----------

VARIED = ["CC(=O)Oc1ccccc1C(=O)O", "[Xe]", "C[C@H](N)C(=O)[O-]", "F/C=C/Cl", "c1ccc2[nH]ccc2c1",
          "[2H]C([2H])([2H])Cl", "C#N", "O=[N+]([O-])c1ccccc1", "C1CC1", "[Na+]", "CC[S@@](=O)C",
          "[U]", "*C"]


def _reference_atoms(mol: Chem.Mol) -> np.ndarray:
    """Atom features as the definition reads: one RDKit call per property per atom."""
    from medora.areas.molecules import featurizers as graph

    blocks = [(lambda a: a.GetAtomicNum(), graph.ELEMENTS),
              (lambda a: a.GetTotalDegree(), graph.DEGREES),
              (lambda a: a.GetFormalCharge(), graph.FORMAL_CHARGES),
              (lambda a: int(a.GetChiralTag()), graph.CHIRAL_TAGS),
              (lambda a: a.GetTotalNumHs(), graph.HYDROGEN_COUNTS),
              (lambda a: int(a.GetHybridization()), [int(h) for h in graph.HYBRIDISATIONS])]
    rows = []
    for atom in mol.GetAtoms():
        row: list[float] = []
        for getter, choices in blocks:
            one_hot = [0.0] * (len(choices) + 1)
            value = getter(atom)
            one_hot[list(choices).index(value) if value in choices else len(choices)] = 1.0
            row += one_hot
        rows.append([*row, float(atom.GetIsAromatic()), atom.GetMass() * 0.01])
    return np.asarray(rows, dtype=np.float32).reshape(-1, ATOM_DIM)


def _reference_bonds(mol: Chem.Mol) -> np.ndarray:
    from medora.areas.molecules import featurizers as graph

    rows = []
    for bond in mol.GetBonds():
        row: list[float] = []
        for value, choices in ((int(bond.GetBondType()), [int(b) for b in graph.BOND_TYPES]),
                               (int(bond.GetStereo()), list(graph.BOND_STEREO))):
            one_hot = [0.0] * (len(choices) + 1)
            one_hot[choices.index(value) if value in choices else len(choices)] = 1.0
            row += one_hot
        rows.append([*row, float(bond.GetIsConjugated()), float(bond.IsInRing())])
    return np.asarray(rows, dtype=np.float32).reshape(-1, BOND_DIM)


def test_features_equal_the_per_atom_definition() -> None:
    mols = [Chem.MolFromSmiles(s) for s in VARIED]
    # explicit hydrogens count as neighbours in the degree, not as attached hydrogens
    with_hydrogens = Chem.AddHs(Chem.MolFromSmiles("CO"))
    for mol in [*mols, with_hydrogens]:
        graph = featurize(mol)
        assert np.array_equal(graph.atoms, _reference_atoms(mol))
        assert np.array_equal(graph.edges[::2], _reference_bonds(mol))
        assert np.array_equal(graph.edges[1::2], _reference_bonds(mol))


def test_featurize_batch_equals_batching_single_graphs() -> None:
    from medora.areas.molecules.featurizers import featurize_batch, featurize_many

    mols = [Chem.MolFromSmiles(s) for s in VARIED]
    descriptors = np.arange(len(mols) * 2, dtype=np.float32).reshape(-1, 2)
    expected = batch_graphs([featurize(mol) for mol in mols], descriptors)
    batch = featurize_batch(mols, descriptors)
    for name in ("atoms", "edges", "edge_index", "reverse", "molecule", "descriptors"):
        assert np.array_equal(getattr(batch, name), getattr(expected, name)), name
    assert batch.n_molecules == expected.n_molecules == len(mols)
    for one, other in zip(featurize_many(mols), (featurize(mol) for mol in mols), strict=True):
        for name in ("atoms", "edges", "edge_index", "reverse"):
            assert np.array_equal(getattr(one, name), getattr(other, name))


def test_message_operators_equal_gather_and_scatter() -> None:
    from medora.areas.molecules.featurizers import featurize_batch, message_operators

    batch = featurize_batch([Chem.MolFromSmiles(s) for s in VARIED])
    operators = message_operators(batch)
    rng = np.random.default_rng(0)
    hidden = rng.standard_normal((len(batch.edges), 5)).astype(np.float32)
    source, destination = batch.edge_index
    arriving = np.zeros((len(batch.atoms), 5), dtype=np.float32)
    np.add.at(arriving, destination, hidden)
    assert np.allclose(operators.into_atoms @ hidden, arriving, atol=1e-6)
    assert np.allclose(operators.incoming @ hidden, arriving[source] - hidden[batch.reverse],
                       atol=1e-5)
    atoms = rng.standard_normal((len(batch.atoms), 3)).astype(np.float32)
    means = np.stack([atoms[batch.molecule == m].mean(0) for m in range(len(VARIED))])
    assert np.allclose(operators.readout @ atoms, means, atol=1e-6)


def test_every_compact_descriptor_equals_rdkit() -> None:
    functions = dict(Descriptors.descList)
    mols = [Chem.MolFromSmiles(s) for s in VARIED]
    matrix = descriptor_matrix(mols, COMPACT_DESCRIPTORS)
    for j, name in enumerate(COMPACT_DESCRIPTORS):
        expected = np.asarray([functions[name](Chem.Mol(mol)) for mol in mols], dtype=np.float32)
        assert np.array_equal(matrix[:, j], expected), name
