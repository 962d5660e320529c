"""The EHR area's answers to the core, without a running service: the row `medora tasks`
shows, what `medora train` and `medora predict` take, the data verbs, and the serving of one
patient's bundle (its outcome, inputs, the model check, validation, score and the form).
tests/serve/test_ehr_serving.py runs the same path through the API and the web pages."""

from __future__ import annotations

import io
import re

import numpy as np
import pytest
from starlette.datastructures import FormData, UploadFile

from medora.areas.ehr import EhrArea
from medora.areas.ehr.schemas import EventSequenceDetails
from medora.areas.ehr.serving import BUNDLE_RULE, BundleInputs
from medora.areas.ehr.tasks import READMISSION_30D
from medora.core.area import AreaUsageError
from medora.core.errors import InputValidationError
from medora.evaluate.calibration import PlattCalibrator
from medora.models.calibrated import CalibratedModel
from medora.serve.contract import ServedModelError
from medora.serve.web.session import SubmittedForm
from medora.train.run import RunConfig

from .small_model import BUNDLE, DISCHARGE, fixture_sample_risk, trained_ehr_model

AREA = EhrArea()
SERVING = AREA.serving(READMISSION_30D)


def test_the_tasks_row_options_and_verbs() -> None:
    assert [task.name for task in AREA.tasks()] == [
        "ehr.readmission_30d", "ehr.mortality_1y", "ehr.diabetes_complication_2y"]
    assert AREA.describe(READMISSION_30D).data == (
        "bundled synthetic cohort (Synthea, 2,000 patients) or your event table (train --data "
        "PATH)")
    assert "event_gru" in AREA.model_names(READMISSION_30D)
    assert AREA.train_options == {"data"} and "index_time" in AREA.predict_options
    assert set(AREA.commands().data_commands) == {"ingest", "synthea"}
    assert AREA.detail_schemas() == (EventSequenceDetails,)


def test_train_refuses_a_split() -> None:
    with pytest.raises(AreaUsageError, match="its stratified random split, not 'scaffold'"):
        AREA.train(READMISSION_30D, RunConfig(split="scaffold"))


def test_the_outcome_and_the_two_inputs() -> None:
    outcome = SERVING.outcome
    assert (outcome.modality, outcome.unit, outcome.interval_coverage, outcome.value_range) == (
        "event_sequence", "probability", 0.95, (0.0, 1.0))
    catalogue = SERVING.catalogue()
    assert catalogue.threshold == 0.2
    assert [(item.name, item.kind) for item in catalogue.inputs] == [
        ("bundle", "fhir_bundle"), ("index_time", "datetime")]
    assert SERVING.multipart and SERVING.form_template == "web/ehr_form.html"


def test_only_a_calibrated_event_model_is_served() -> None:
    SERVING.check_model(trained_ehr_model())
    with pytest.raises(ServedModelError, match=r"^holds a ndarray, not an event model"):
        SERVING.check_model(CalibratedModel(np.zeros(3), PlattCalibrator()))  # type: ignore[arg-type]
    with pytest.raises(ServedModelError, match=r"^holds a ndarray, not the CalibratedModel"):
        SERVING.check_model(np.zeros(3))


def test_a_bundle_is_prepared_and_scored_as_its_training_sample() -> None:
    model = trained_ehr_model()
    prepared = SERVING.prepare(model, BundleInputs(BUNDLE.read_bytes()))
    assert len(prepared.stored["events"]) == 394
    score = SERVING.score(model, prepared)
    assert score.risk == pytest.approx(fixture_sample_risk(DISCHARGE), abs=1e-4)
    assert score.flagged == (score.risk >= 0.2) and score.details is not None
    assert EventSequenceDetails.model_validate(score.details).events_after_index == 33


def test_named_inputs_are_refused_with_where_to_send_the_bundle() -> None:
    with pytest.raises(InputValidationError,
                       match=re.escape("POST the bundle as the request body to "
                                       "/predict/ehr.readmission_30d/bundle")):
        SERVING.prepare(trained_ehr_model(), {"age": 61.0})


def test_the_form_reads_the_uploaded_bundle_and_the_index_time() -> None:
    def submitted(**fields: object) -> SubmittedForm:
        return SubmittedForm(session=None, fields=FormData(fields))  # type: ignore[arg-type]

    read = SERVING.read_form(submitted(**{"input:index_time": " 2012-06-01T00:00 "}), "input:")
    assert (read.values, read.errors, read.inputs) == (
        {"index_time": "2012-06-01T00:00"}, {"bundle": BUNDLE_RULE}, None)
    upload = UploadFile(io.BytesIO(b'{"resourceType": "Bundle"}'), filename="p.json")
    read = SERVING.read_form(submitted(**{"input:bundle": upload}), "input:")
    assert read.errors == {} and read.inputs == BundleInputs(b'{"resourceType": "Bundle"}')
