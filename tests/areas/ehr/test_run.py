"""An event-sequence task's run end to end on the EHR fixture: the sequence models and the
bag-of-codes baselines on one patient split, metrics with CIs, fairness groups, report, card
and the registered candidate."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from medora.areas.ehr.run import train_event_task
from medora.areas.ehr.tasks import EventSequenceTask
from medora.core.registry import get_task
from medora.data.meds import Event, EventWriter
from medora.data.tabular import InputValidationError
from medora.registry.store import ModelStore
from medora.train.run import RunConfig

FIXTURE = Path(__file__).parents[2] / "data" / "fixtures" / "ehr" / "events.parquet"
MODELS = ["event_transformer", "event_gru", "bag_logistic_regression", "bag_gradient_boosting"]


def readmission() -> EventSequenceTask:
    task = get_task("ehr.readmission_30d")
    assert isinstance(task, EventSequenceTask)
    return task


def test_quick_run_compares_every_model_with_cis_and_fairness(tmp_path: Path) -> None:
    run = train_event_task(readmission(), RunConfig(quick=True, out_dir=tmp_path,
                                                    progress=False, n_resamples=50,
                                                    data=FIXTURE))
    assert list(run.results) == MODELS
    document = json.loads((tmp_path / "metrics.json").read_text())
    assert document["split"]["kind"].startswith("patient-level")
    assert document["data"]["cohort"]["patients"] == 28
    assert document["data"]["sha256"] == run.provenance.sha256
    assert document["config"]["data"] == str(FIXTURE)
    for name in MODELS:
        auroc = document["models"][name]["auroc"]
        assert auroc["ci"][0] <= auroc["value"] <= auroc["ci"][1]
        assert set(document["models"][name]) >= {"auroc", "auprc", "brier"}
    assert set(document["subgroups"]) == {"sex", "race", "ethnicity", "age_band"}
    groups = {row["group"] for row in document["subgroups"]["sex"]["event_transformer"][
        "groups"]}
    assert groups >= {"female", "male"}
    assert set(document["comparisons"]) == {f"event_transformer_vs_{m}" for m in MODELS[1:]}
    # The candidate's examples name past events with their time before the index.
    assert all(c.value is not None and c.value >= 0 for example in run.examples
               for c in example.contributions)
    report = (tmp_path / "report.html").read_text()
    assert "Index (prediction time)" in report and "days before" in report
    card = (tmp_path / "card.md").read_text()
    assert "events at or before the index time" in card.replace("coded events", "events")
    assert "patient-level" in card
    record = ModelStore().get("ehr.readmission_30d")
    assert record.model_name == "event_transformer"
    loaded = ModelStore().load(record)
    samples = readmission().load_samples(FIXTURE)
    test = samples.subset(readmission().make_split(samples, 0).test)
    assert np.allclose(loaded.predict_proba(test)[:, 1], run.primary.test_probability,
                       atol=1e-6)


def test_run_on_a_cohort_without_positives_says_so(tmp_path: Path) -> None:
    table = tmp_path / "events.parquet"
    with EventWriter(table) as writer:
        writer.extend(Event(subject, datetime(2020, 1, day), code, "visit")
                      for subject in range(10)
                      for day, code in ((1, "ENCOUNTER/IMP"), (3, "ENCOUNTER_END/IMP")))
        writer.extend([Event(0, datetime(2024, 12, 31), "LOINC/8302-2", "measurement")])
        writer.close()
    with pytest.raises(InputValidationError, match="more patients"):
        train_event_task(readmission(), RunConfig(quick=True, out_dir=tmp_path / "run",
                                                  progress=False, data=table))
