"""Shared fixtures: an isolated medora home per test and small real-data slices."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from medora.areas.survival.data import SurvivalDataset

from medora.core.registry import get_task, task_registry
from medora.areas.survival.tasks import SurvivalTask


@pytest.fixture(autouse=True)
def medora_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own registry, so none sees another's models."""
    home = tmp_path / "medora-home"
    monkeypatch.setenv("MEDORA_HOME", str(home))
    monkeypatch.setenv("COLUMNS", "400")  # rich tables unabridged, so tests read whole cells
    return home


@pytest.fixture(scope="session")
def framingham_sample() -> tuple[pd.DataFrame, np.ndarray]:
    """A stratified 600-patient slice of the real Framingham data, missing values included."""
    task = get_task("cardio.framingham_chd")
    _, x, y = task.load_xy()
    rng = np.random.default_rng(0)
    picks = np.concatenate([rng.choice(np.flatnonzero(y == label), size, replace=False)
                            for label, size in ((0, 480), (1, 120))])
    picks.sort()
    return x.iloc[picks].reset_index(drop=True), y[picks]


@pytest.fixture(scope="session")
def freesolv_sample() -> tuple[list, np.ndarray]:
    """160 real FreeSolv molecules (RDKit Mol) with their hydration free energies."""
    task = get_task("mol.freesolv")
    _, table, y = task.load_molecules()
    picks = np.sort(np.random.default_rng(0).choice(len(y), 160, replace=False))
    return [table.mols[i] for i in picks], y[picks]


@pytest.fixture
def small_molecule_task(monkeypatch: pytest.MonkeyPatch):
    """``test.freesolv_small``: 150 real FreeSolv molecules, registered for this test only, so
    runs and CLI verbs exercise the whole molecule path in seconds."""
    from medora.data.bundled import Dataset

    full = get_task("mol.freesolv")

    def load() -> Dataset:
        dataset = full.load()
        return Dataset(frame=dataset.frame.sample(150, random_state=0).reset_index(drop=True),
                       provenance=dataset.provenance)

    task = replace(full, name="test.freesolv_small", load=load)
    monkeypatch.setitem(task_registry(), task.name, task)
    return task


@pytest.fixture(scope="session")
def gbsg2_subset() -> Callable[[str, int, int], SurvivalTask]:
    """Builds a survival task ``name`` on ``n`` real GBSG2 patients drawn with ``seed``: enough
    events for the folds, quick to train. The caller registers it for as long as it needs."""
    full = get_task("oncology.gbsg2_recurrence")

    def build(name: str, n: int, seed: int) -> SurvivalTask:
        def load() -> SurvivalDataset:
            data = full.load()
            rows = np.sort(np.random.default_rng(seed).choice(len(data.time), n, replace=False))
            return replace(data, features=data.features.iloc[rows].reset_index(drop=True),
                           time=data.time[rows], event=data.event[rows])

        return replace(full, name=name, load=load)

    return build


@pytest.fixture
def small_gbsg2(gbsg2_subset: Callable[[str, int, int], SurvivalTask],
                monkeypatch: pytest.MonkeyPatch) -> SurvivalTask:
    """``test.gbsg2_small``: 300 real GBSG2 patients, registered for this test only."""
    task = gbsg2_subset("test.gbsg2_small", 300, 0)
    monkeypatch.setitem(task_registry(), task.name, task)
    return task
