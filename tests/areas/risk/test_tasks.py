"""Registered tasks: loaders, label balance, splits, sensitive attributes."""

from __future__ import annotations

import numpy as np
import pytest

from medora.core.registry import area_of, get_task, list_tasks, task_names
from medora.core.task import SplitSpec

EXPECTED = {
    # name: (patients, features, positives)
    "cardio.framingham_chd": (4240, 15, 644),
    "cardio.heart_failure_death": (299, 11, 96),
    "oncology.wdbc_malignancy": (569, 30, 212),
}


def test_the_three_tabular_tasks_are_registered() -> None:
    assert set(EXPECTED) <= set(task_names())
    assert {t.name for t in list_tasks() if area_of(t).name == "risk"} == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_loader_shapes_and_label_balance(name: str) -> None:
    task = get_task(name)
    _, x, y = task.load_xy()
    patients, features, positives = EXPECTED[name]
    assert x.shape == (patients, features)
    assert int(y.sum()) == positives
    assert set(np.unique(y)) == {0, 1}
    assert not set(task.excluded_columns) & set(x.columns)


def test_heart_failure_excludes_the_leaking_follow_up_time() -> None:
    assert "time" in get_task("cardio.heart_failure_death").excluded_columns
    assert "time" not in get_task("cardio.heart_failure_death").feature_names


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_split_is_stratified_disjoint_and_seeded(name: str) -> None:
    task = get_task(name)
    _, _, y = task.load_xy()
    split = task.make_split(y, seed=3)
    parts = [split.train, split.validation, split.test]
    assert sum(len(p) for p in parts) == len(y)
    assert len(np.unique(np.concatenate(parts))) == len(y)
    for part in parts:
        assert abs(y[part].mean() - y.mean()) < 0.02
    again = task.make_split(y, seed=3)
    assert np.array_equal(again.test, split.test)
    assert not np.array_equal(task.make_split(y, seed=4).test, split.test)


def test_sensitive_attributes_map_to_named_groups() -> None:
    task = get_task("cardio.framingham_chd")
    dataset, _, _ = task.load_xy()
    sex, age = (a.groups(dataset.frame) for a in task.sensitive_attributes)
    assert set(sex) == {"female", "male"}
    assert set(age) == {"<40", "40-49", "50-59", "60+"}
    assert age[dataset.frame["age"] == 45].eq("40-49").all()


def test_unknown_task_lists_the_known_ones() -> None:
    with pytest.raises(KeyError, match=r"cardio\.framingham_chd"):
        get_task("cardio.nope")


def test_split_fractions_are_validated() -> None:
    with pytest.raises(ValueError, match="sum to less than 1"):
        SplitSpec(validation_fraction=0.5, test_fraction=0.5)
