"""`medora predict` on a survival task: per-patient risk score, survival at the task's horizons
and curves, on real GBSG2 rows, with the same input validation as every patient file."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr
from typer.testing import CliRunner

from medora.areas.survival import run as survival_run
from medora.areas.survival.predictor import predict_survival_patients
from medora.areas.survival.run import train_survival_task
from medora.areas.survival.tasks import SurvivalTask
from medora.cli.app import app
from medora.core.registry import get_task, task_registry
from medora.registry.store import ModelStore
from medora.train.run import RunConfig

runner = CliRunner()
NAME = "test.gbsg2_predict"
SUBSET = (250, 2)  # real GBSG2 patients, and the seed that draws them
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def trained_home(tmp_path_factory: pytest.TempPathFactory,
                 gbsg2_subset: Callable[[str, int, int], SurvivalTask]) -> Path:
    """A registry holding one quick-trained version, trained once for the whole module (the
    GPL baselines are skipped: they are not what is tested here and cost most of the time)."""
    home = tmp_path_factory.mktemp("survival-predict-home")
    task = gbsg2_subset(NAME, *SUBSET)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MEDORA_HOME", str(home))
        patch.setitem(task_registry(), NAME, task)
        patch.setattr(survival_run, "sksurv_available", lambda: False)
        train_survival_task(task, RunConfig(quick=True, progress=False,
                                            out_dir=tmp_path_factory.mktemp("run")))
    return home


@pytest.fixture
def task(trained_home: Path, medora_home: Path, monkeypatch: pytest.MonkeyPatch,
         gbsg2_subset: Callable[[str, int, int], SurvivalTask]) -> Iterator[SurvivalTask]:
    """The task registered and its trained registry copied into this test's medora home."""
    shutil.copytree(trained_home, medora_home)
    small = gbsg2_subset(NAME, *SUBSET)
    monkeypatch.setitem(task_registry(), NAME, small)
    yield small


def _patients(path: Path, n: int = 6) -> Path:
    """Real GBSG2 rows, written as in the source file (labels such as "yes", "Post", "II")."""
    data = get_task("oncology.gbsg2_recurrence").load()
    rows = np.random.default_rng(7).choice(len(data.time), n, replace=False)
    frame = data.features.iloc[rows].reset_index(drop=True)
    frame.insert(0, "patient_id", [f"P{i + 1}" for i in range(n)])
    frame.to_csv(path, index=False)
    return path


def test_predict_survival_writes_probabilities_and_curves(task: SurvivalTask,
                                                          tmp_path: Path) -> None:
    inputs = _patients(tmp_path / "patients.csv")
    out, plot = tmp_path / "predictions.csv", tmp_path / "curves.png"
    result = runner.invoke(app, ["predict", NAME, str(inputs), "--out", str(out),
                                 "--plot", str(plot)])
    assert result.exit_code == 0, result.output
    assert "is draft: not approved for use" in result.output
    table = pd.read_csv(out)
    horizons = [c for c in table.columns if c.startswith("survival_at_")]
    assert len(horizons) == 3 and all(c.endswith("d") for c in horizons)
    assert table["patient_id"].tolist() == [f"P{i + 1}" for i in range(6)]
    assert (table["model_version"] == f"{NAME}:v1").all()
    survival = table[horizons].to_numpy()
    assert ((survival >= 0) & (survival <= 1)).all()
    assert (np.diff(survival, axis=1) <= 1e-9).all()  # S(t) never rises with t
    # A higher risk score means an earlier expected event: lower survival at the last horizon.
    assert spearmanr(table["risk_score"], survival[:, -1]).statistic < -0.8
    assert table["risk_score"].idxmax() == int(np.argmin(survival[:, -1]))
    # Ranked against the training patients by the probability of the event by the middle
    # horizon: percentiles in that order, groups cut at the training tertiles.
    (event_by,) = [c for c in table.columns if c.startswith("event_by_")]
    assert event_by == f"event_by_{horizons[1].removeprefix('survival_at_')}"
    assert np.allclose(table[event_by], 1 - table[horizons[1]], atol=2e-4)
    ordered = table.sort_values(event_by)
    assert ordered["risk_percentile"].is_monotonic_increasing
    assert table["risk_percentile"].between(0, 100).all()
    assert set(table["risk_group"]) <= {"low", "intermediate", "high"}
    assert ordered["risk_group"].map({"low": 0, "intermediate": 1, "high": 2}
                                     ).is_monotonic_increasing
    assert plot.read_bytes().startswith(PNG_SIGNATURE)

    shown = runner.invoke(app, ["predict", NAME, str(inputs)])
    assert shown.exit_code == 0, shown.output
    assert horizons[-1] in shown.output and "risk_score" in shown.output


def test_labels_and_codes_give_the_same_prediction(task: SurvivalTask, tmp_path: Path) -> None:
    raw = pd.read_csv(_patients(tmp_path / "patients.csv", n=3), dtype=str)
    coded = raw.assign(horTh=raw["horTh"].map({"no": "0", "yes": "1"}),
                       menostat=raw["menostat"].map({"Pre": "0", "Post": "1"}),
                       tgrade=raw["tgrade"].map({"I": "1", "II": "2", "III": "3"}))
    by_label = predict_survival_patients(task, raw, store=ModelStore())
    by_code = predict_survival_patients(task, coded, store=ModelStore())
    pd.testing.assert_frame_equal(by_label.table, by_code.table)
    assert by_label.curves.shape == (3, by_label.curve_times.size)


def test_malformed_files_fail_naming_the_column(task: SurvivalTask, tmp_path: Path) -> None:
    raw = pd.read_csv(_patients(tmp_path / "patients.csv", n=3), dtype=str)
    out = tmp_path / "predictions.csv"

    raw.drop(columns="pnodes").to_csv(tmp_path / "missing.csv", index=False)
    result = runner.invoke(app, ["predict", NAME, str(tmp_path / "missing.csv"),
                                 "--out", str(out)])
    assert result.exit_code == 2 and "missing column(s): pnodes" in result.output

    raw.assign(tsize=["25", "large", "30"]).to_csv(tmp_path / "text.csv", index=False)
    result = runner.invoke(app, ["predict", NAME, str(tmp_path / "text.csv"),
                                 "--out", str(out)])
    assert result.exit_code == 2
    assert "column tsize: non-numeric value(s) 'large' on line(s) 3" in result.output

    raw.assign(tgrade=["II", "IV", "I"], age=["50", "", "61"]).to_csv(tmp_path / "bad.csv",
                                                                      index=False)
    result = runner.invoke(app, ["predict", NAME, str(tmp_path / "bad.csv")])
    assert result.exit_code == 2
    assert "column tgrade" in result.output and "'III']" in result.output  # the labels listed
    assert "column age: missing value on line(s) 3" in result.output
    assert not out.exists()


def test_plot_is_for_survival_tasks_only(tmp_path: Path) -> None:
    result = runner.invoke(app, ["predict", "cardio.framingham_chd", str(tmp_path / "x.csv"),
                                 "--plot", str(tmp_path / "p.png")])
    assert result.exit_code == 2
    assert "--plot: not an option of cardio.framingham_chd" in result.output
