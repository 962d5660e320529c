"""The treatment-effect verbs: `medora train effect.*` and `medora predict effect.*` with
per-patient effects, intervals, overlap refusals and bad input."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from medora.areas.effects.tasks import EffectTask
from medora.cli.app import app
from medora.core.registry import get_task

runner = CliRunner()


def test_unknown_model_and_split_are_refused() -> None:
    result = runner.invoke(app, ["train", "effect.acic2016", "--model", "mlp"])
    assert result.exit_code == 2 and "choose one of causal_forest" in result.output
    result = runner.invoke(app, ["train", "effect.actg175", "--split", "scaffold"])
    assert result.exit_code == 2 and "its stratified random split" in result.output


def test_predict_needs_a_registered_model(tmp_path: Path) -> None:
    patients = tmp_path / "patients.csv"
    patients.write_text("age\n40\n")
    result = runner.invoke(app, ["predict", "effect.actg175", str(patients)])
    assert result.exit_code == 2
    assert "train one with `medora train effect.actg175`" in result.output


def test_train_and_predict_acic(tmp_path: Path) -> None:
    """The whole path on the full ACIC 2016 instance 1 in quick mode (about 20 s)."""
    result = runner.invoke(app, ["train", "effect.acic2016", "--quick", "--out",
                                 str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    assert "registered effect.acic2016 v1" in result.output and "PEHE" in result.output
    for name in ("report.html", "metrics.json", "card.md"):
        assert (tmp_path / "run" / name).is_file()

    task = get_task("effect.acic2016")
    assert isinstance(task, EffectTask)
    covariates = task.load().covariates.head(40)
    patients = tmp_path / "patients.csv"
    covariates.assign(patient_id=[f"p{i}" for i in range(40)]).to_csv(patients, index=False)
    out = tmp_path / "effects.csv"
    result = runner.invoke(app, ["predict", "effect.acic2016", str(patients), "--out",
                                 str(out)])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out)
    assert table["patient_id"].tolist() == [f"p{i}" for i in range(40)]
    assert (table["effect_lower"] <= table["effect"]).all()
    assert (table["effect"] <= table["effect_upper"]).all()
    outside = table[~table["inside_overlap"]]
    assert len(outside) and (outside["recommendation"] == "no recommendation").all()
    assert outside["reason"].str.startswith("outside overlap").all()

    broken = tmp_path / "broken.csv"
    covariates.drop(columns=["x_1"]).assign(x_2="Z").to_csv(broken, index=False)
    result = runner.invoke(app, ["predict", "effect.acic2016", str(broken)])
    assert result.exit_code == 2
    assert "missing column(s) ['x_1']" in result.output
    assert "column 'x_2' must be one of" in result.output
