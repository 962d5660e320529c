"""`medora train` on an EHR task (the event table passed with --data; the bundled cohort's
is tested in tests/data/test_bundled_cohort.py) and
`medora predict` on one patient's FHIR Bundle (the risk at the index time, the events the
model read and, with --explain, the past events that drove it)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from medora.cli.app import app
from medora.registry.store import ModelStore

from .small_model import (
    BUNDLE,
    DISCHARGE,
    EVENTS,
    INFANT,
    fixture_sample_risk,
    register_ehr_model,
    trained_ehr_model,
)

runner = CliRunner()


def test_train_readmission_on_an_event_table(tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = runner.invoke(app, ["train", "ehr.readmission_30d", "--data", str(EVENTS),
                                 "--quick", "--out", str(out)])
    assert result.exit_code == 0, result.output
    for name in ("Event transformer", "Event GRU", "Logistic regression (bag of codes)",
                 "Gradient boosting (bag of codes)"):
        assert name in result.output
    assert "registered ehr.readmission_30d v1" in result.output
    document = json.loads((out / "metrics.json").read_text())
    assert document["task"] == "ehr.readmission_30d"
    assert (out / "report.html").is_file() and (out / "card.md").is_file()


def test_data_is_refused_for_a_task_with_bundled_data() -> None:
    result = runner.invoke(app, ["train", "cardio.framingham_chd", "--data", str(EVENTS)])
    assert result.exit_code == 2
    assert "takes no --data" in result.output


def test_a_missing_event_table_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.parquet"
    result = runner.invoke(app, ["train", "ehr.readmission_30d", "--data", str(missing),
                                 "--quick", "--out", str(tmp_path / "run")])
    assert result.exit_code == 2
    assert "nowhere.parquet" in result.output and "file not found" in result.output


def test_an_unknown_model_for_an_ehr_task_lists_the_event_models() -> None:
    result = runner.invoke(app, ["train", "ehr.readmission_30d", "--data", str(EVENTS),
                                 "--model", "mlp"])
    assert result.exit_code == 2
    assert "event_transformer" in result.output


# -- `medora predict` on one patient's FHIR Bundle ----------------------------------------------


@pytest.fixture
def registered() -> ModelStore:
    """This test's registry with the small readmission model of the serving tests as v1."""
    store = ModelStore()
    register_ehr_model(store, "ehr.readmission_30d", trained_ehr_model())
    return store


def test_predict_a_bundle_prints_the_risk_the_index_time_and_the_events(
        registered: ModelStore) -> None:
    result = runner.invoke(app, ["predict", "ehr.readmission_30d", str(BUNDLE), "--explain"])
    assert result.exit_code == 0, result.output
    risk = fixture_sample_risk(DISCHARGE)
    assert f"risk {risk:.1%}" in result.output
    assert ("not flagged (below 20%)" if risk < 0.2 else "flagged (at or above 20%)") in \
        result.output
    assert ("index time 2013-02-13T18:57:07.057930: the latest inpatient discharge "
            "(ENCOUNTER_END/IMP) in the record") in result.output
    assert "the model read 394 of the record's 427; left out: 33 after the index time" in \
        result.output
    assert "391 resources read, 391 accepted, 0 rejected" in result.output
    assert "past events that drove the risk" in result.output
    ranks = re.findall(r"^│ (\d+) +│ \d{4}-\d\d-\d\dT", result.output, flags=re.MULTILINE)
    assert ranks == [str(rank) for rank in range(1, 11)]


def test_predict_a_bundle_at_an_index_time_to_a_file(registered: ModelStore,
                                                     tmp_path: Path) -> None:
    out = tmp_path / "risk.csv"
    result = runner.invoke(app, ["predict", "ehr.readmission_30d", str(BUNDLE), "--index-time",
                                 "2012-06-01", "--explain", "--out", str(out)])
    assert result.exit_code == 0, result.output
    (row,) = pd.read_csv(out).to_dict("records")
    assert row["index_time"] == "2012-06-01T00:00:00"
    assert row["risk"] == pytest.approx(fixture_sample_risk(pd.Timestamp("2012-06-01")),
                                        abs=1e-4)
    assert row["events_seen"] + row["events_after_index"] == 427
    assert row["model_version"] == "ehr.readmission_30d:v1"
    assert row["top_events"].count(";") == 9 and "LOINC/" in row["top_events"]


@pytest.mark.parametrize(("arguments", "expected"), [
    (["ehr.readmission_30d", str(INFANT)],
     "predicts at each inpatient discharge (ENCOUNTER_END/IMP), and the record has none"),
    (["ehr.readmission_30d", str(BUNDLE), "--index-time", "soon"],
     "index_time: 'soon' is not an ISO 8601 date or date-time"),
    (["ehr.readmission_30d", str(EVENTS)], "bundle: not JSON"),
    (["ehr.readmission_30d", "nowhere.json"], "nowhere.json: 1 problem(s) found"),
    (["cardio.framingham_chd", str(BUNDLE), "--index-time", "2012-01-01"],
     "--index-time: not an option of cardio.framingham_chd"),
])
def test_predict_refuses_what_it_cannot_use_and_names_the_fix(
        registered: ModelStore, arguments: list[str], expected: str) -> None:
    result = runner.invoke(app, ["predict", *arguments])
    assert result.exit_code == 2, result.output
    assert expected in " ".join(result.output.split()), result.output


def test_predict_a_bundle_without_a_model_says_to_train_one(tmp_path: Path) -> None:
    result = runner.invoke(app, ["predict", "ehr.mortality_1y", str(BUNDLE)])
    assert result.exit_code == 2
    assert "ehr.mortality_1y" in result.output
