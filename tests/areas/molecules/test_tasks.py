"""Molecule tasks: registration beside the tabular tasks, loading, and the three splits."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from medora.areas.molecules.tasks import (
    MoleculeTask,
    bemis_murcko_scaffold,
    scaffold_sets,
    scaffold_split,
)
from medora.core.registry import area_named, area_of, get_task, list_tasks
from medora.core.task import Split
from medora.data.molecules import MoleculeTable

EXPECTED = {
    # name: (molecules, target, default split, target range)
    "mol.solubility": (1282, "logS", "given", (-11.62, 1.58)),
    "mol.freesolv": (642, "expt", "random", (-25.47, 3.43)),
    "mol.chembl2321810_pic50": (1017, "pIC50", "random", (4.27, 9.22)),
}


@cache
def _loaded(name: str) -> tuple[MoleculeTable, np.ndarray]:
    task = get_task(name)
    assert isinstance(task, MoleculeTask)
    _, table, y = task.load_molecules()
    return table, y


def _task(name: str) -> MoleculeTask:
    task = get_task(name)
    assert isinstance(task, MoleculeTask)
    return task


def _assert_partition(split: Split, n: int) -> None:
    parts = [split.train, split.validation, split.test]
    assert sum(len(part) for part in parts) == n
    assert len(np.unique(np.concatenate(parts))) == n  # disjoint and covering


def test_molecule_tasks_register_beside_the_tabular_ones() -> None:
    molecules = area_named("molecules")
    names = {task.name for task in list_tasks() if area_of(task) is molecules}
    assert names == {task.name for task in molecules.tasks()} == set(EXPECTED)
    assert area_of(get_task("cardio.framingham_chd")) is area_named("risk")
    summary = _task("mol.solubility").summary()
    assert set(summary) == set(get_task("cardio.framingham_chd").summary())
    assert summary["modality"] == "molecule" and summary["primary_metric"] == "rmse"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_load_molecules_shapes_and_ranges(name: str) -> None:
    table, y = _loaded(name)
    n, target, default_split, (low, high) = EXPECTED[name]
    task = _task(name)
    assert (len(table), len(y), task.target, task.split_kind) == (n, n, target, default_split)
    assert table.invalid == ()
    assert y.min() == low and y.max() == high
    assert len(set(table.ids)) == n  # ids name each molecule


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_split_partitions_and_is_seeded(name: str) -> None:
    table, _ = _loaded(name)
    task = _task(name)
    n = len(table)
    for kind in task.split_kinds:
        split = task.make_split(table.smiles, seed=3, kind=kind)
        _assert_partition(split, n)
        assert abs(len(split.test) - 0.1 * n) <= 0.21 * n  # "given" tests 20%, others ~10%
        again = task.make_split(table.smiles, seed=3, kind=kind)
        assert all(np.array_equal(a, b) for a, b in zip(
            (split.train, split.validation, split.test),
            (again.train, again.validation, again.test), strict=True))
        other = task.make_split(table.smiles, seed=4, kind=kind)
        assert not np.array_equal(other.validation, split.validation)


def test_random_split_is_80_10_10() -> None:
    table, _ = _loaded("mol.freesolv")
    assert _task("mol.freesolv").make_split(table.smiles, seed=0).sizes() == {
        "train": 513, "validation": 64, "test": 65}


def test_given_split_keeps_the_datasets_test_set() -> None:
    task = _task("mol.solubility")
    table, _ = _loaded("mol.solubility")
    split = task.make_split(table.smiles, seed=0)
    assert split.sizes() == {"train": 897, "validation": 128, "test": 257}
    assert np.array_equal(split.test, np.arange(1025, 1282))  # the test file's records
    with pytest.raises(ValueError, match="dataset's own 1282 molecules"):
        task.make_split(table.smiles[:100], seed=0, kind="given")


def test_given_split_only_where_the_dataset_has_one() -> None:
    task = _task("mol.freesolv")
    assert task.split_kinds == ("random", "scaffold")
    with pytest.raises(ValueError, match="has no 'given' split; choose one of random, scaffold"):
        task.make_split(["CCO"], seed=0, kind="given")
    with pytest.raises(ValueError, match="split_kind 'given' is not available"):
        MoleculeTask(name="x", description="", load=task.load, target="expt",
                     target_description="", units="", intended_use="", out_of_scope_use="",
                     split_kind="given")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_scaffold_split_never_shares_a_scaffold(name: str) -> None:
    table, _ = _loaded(name)
    split = _task(name).make_split(table.smiles, seed=1, kind="scaffold")
    scaffolds = [{bemis_murcko_scaffold(table.smiles[i]) for i in part}
                 for part in (split.train, split.validation, split.test)]
    assert not scaffolds[0] & scaffolds[1]
    assert not scaffolds[0] & scaffolds[2]
    assert not scaffolds[1] & scaffolds[2]
    assert len(split.train) <= 0.8 * len(table)  # sets go to train only while they fit


def test_scaffold_split_puts_big_sets_in_train_and_shuffles_small_ones() -> None:
    # 30 benzene analogues (one big scaffold set), 20 singleton ring scaffolds.
    big = ["c1ccccc1" + "C" * k for k in range(1, 31)]
    rings = [f"C1CC{'C' * k}C1" for k in range(20)]  # cyclobutane ... cyclotricosane
    smiles = big + rings
    sets = scaffold_sets(smiles)
    assert len(sets) == 21 and sets["c1ccccc1"] == list(range(30))
    split = scaffold_split(smiles, seed=0, spec=_task("mol.freesolv").split)
    _assert_partition(split, 50)
    assert set(range(30)) <= set(split.train)  # the big set first, whole, into train
    assert split.sizes() == {"train": 40, "validation": 5, "test": 5}
    other = scaffold_split(smiles, seed=1, spec=_task("mol.freesolv").split)
    assert not np.array_equal(split.test, other.test)


def test_acyclic_molecules_share_the_empty_scaffold() -> None:
    assert bemis_murcko_scaffold("CCO") == ""
    assert bemis_murcko_scaffold("CC(=O)Oc1ccccc1C(=O)O") == "c1ccccc1"
    with pytest.raises(ValueError, match="cannot compute the scaffold"):
        bemis_murcko_scaffold("C1CC")
