"""`medora train` on an EHR task: the event table is passed with --data, and required."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from medora.cli import app

runner = CliRunner()
FIXTURE = Path(__file__).parent / "data" / "fixtures" / "ehr" / "events.parquet"


def test_train_readmission_on_an_event_table(tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = runner.invoke(app, ["train", "ehr.readmission_30d", "--data", str(FIXTURE),
                                 "--quick", "--out", str(out)])
    assert result.exit_code == 0, result.output
    for name in ("Event transformer", "Event GRU", "Logistic regression (bag of codes)",
                 "Gradient boosting (bag of codes)"):
        assert name in result.output
    assert "registered ehr.readmission_30d v1" in result.output
    document = json.loads((out / "metrics.json").read_text())
    assert document["task"] == "ehr.readmission_30d"
    assert (out / "report.html").is_file() and (out / "card.md").is_file()


def test_train_an_ehr_task_without_data_names_the_fix() -> None:
    result = runner.invoke(app, ["train", "ehr.mortality_1y", "--quick"])
    assert result.exit_code == 2
    assert "--data PATH" in result.output and "medora data ingest" in result.output


def test_data_is_refused_for_a_task_with_bundled_data() -> None:
    result = runner.invoke(app, ["train", "cardio.framingham_chd", "--data", str(FIXTURE)])
    assert result.exit_code == 2
    assert "takes no --data" in result.output


def test_a_missing_event_table_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.parquet"
    result = runner.invoke(app, ["train", "ehr.readmission_30d", "--data", str(missing),
                                 "--quick", "--out", str(tmp_path / "run")])
    assert result.exit_code == 2
    assert "nowhere.parquet" in result.output and "file not found" in result.output


def test_an_unknown_model_for_an_ehr_task_lists_the_event_models() -> None:
    result = runner.invoke(app, ["train", "ehr.readmission_30d", "--data", str(FIXTURE),
                                 "--model", "mlp"])
    assert result.exit_code == 2
    assert "event_transformer" in result.output
