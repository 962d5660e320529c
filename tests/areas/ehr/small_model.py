"""The small EHR model the EHR tests predict with, and the fixture records it is trained and
tested on: shared by the command-line tests here and the service's tests."""

from __future__ import annotations

import functools
from pathlib import Path

import pandas as pd

from medora.areas.ehr.models import EventTransformer, SequenceModelConfig
from medora.areas.ehr.tasks import EventSequenceTask
from medora.core.registry import get_task
from medora.data.meds import read_events
from medora.evaluate.calibration import PlattCalibrator
from medora.models.calibrated import CalibratedModel
from medora.registry.store import CARD_NAME, ModelStore
from medora.train.trainer import TrainerConfig

FIXTURES = Path(__file__).parents[2] / "data" / "fixtures"
EVENTS = FIXTURES / "ehr" / "events.parquet"
#: One patient of the EVENTS table (see its README): 427 events; one inpatient discharge, on
#: 2013-02-13, after which 33 events follow.
BUNDLE = FIXTURES / "ehr" / "bundle" / "patient-bundle.json"
SUBJECT = 1518160503632662902
DISCHARGE = pd.Timestamp("2013-02-13T18:57:07.057930")
INFANT = FIXTURES / "fhir" / "bundles" / "Lovetta_Hand_9c46e240.json"  # no inpatient stay
READMISSION = "ehr.readmission_30d"
DIABETES = "ehr.diabetes_complication_2y"
EHR_TASKS = (READMISSION, "ehr.mortality_1y", DIABETES)


def ehr_task(name: str = READMISSION) -> EventSequenceTask:
    task = get_task(name)
    assert isinstance(task, EventSequenceTask)
    return task


@functools.cache
def trained_ehr_model() -> CalibratedModel:
    """A small event transformer (width 16, one layer, 3 epochs, seed 0) fitted on the fixture
    table's readmission samples and Platt-calibrated on its validation patients, as a training
    run registers it; its window (512 events) holds the bundle patient's whole history."""
    task = ehr_task()
    samples = task.load_samples(EVENTS)
    split = task.make_split(samples, seed=0)
    y = samples.labels
    model = EventTransformer(
        SequenceModelConfig(width=16, layers=1, heads=2, max_events=512, min_count=2),
        TrainerConfig(max_epochs=3, patience=2, batch_size=64, learning_rate=3e-3,
                      progress=False), seed=0)
    validation = samples.subset(split.validation)
    model.fit(samples.subset(split.train), y[split.train], validation, y[split.validation])
    calibrator = PlattCalibrator().fit(model.predict_proba(validation)[:, 1],
                                       y[split.validation], seed=0)
    return CalibratedModel(model, calibrator)


def register_ehr_model(store: ModelStore, task: str, model: object) -> None:
    store.register(task, model, model_name="event_transformer", model_kind="deep",
                   run_id="test", data_fingerprint="0" * 64, metrics={}, config={},
                   documents=lambda record: {CARD_NAME: f"# {task}"})


def ehr_registry(root: Path) -> ModelStore:
    """v1 of every EHR task: the readmission model (the mortality and diabetes versions are
    there to test those tasks' index rules, not their risks)."""
    store = ModelStore(root)
    for task in EHR_TASKS:
        register_ehr_model(store, task, trained_ehr_model())
    return store


def fixture_sample_risk(index_time: pd.Timestamp) -> float:
    """The model's risk on the EVENTS table's own sample of the bundle's patient at
    ``index_time``: what training and evaluation computed."""
    events = read_events(EVENTS)
    task = ehr_task()
    sample = task.samples_at(events[events["subject_id"] == SUBJECT], index_time)
    return float(trained_ehr_model().predict_risk(sample).risk[0])
