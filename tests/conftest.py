"""Shared fixtures: an isolated medora home per test and small real-data slices."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from medora.tasks import get_task


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
