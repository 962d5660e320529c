"""EHR tasks through the service: listed with their inputs, predicted from one patient's FHIR
Bundle exactly as the model predicts the same patient's training sample, events after the
index time left out, stored with the events the model read, refused with a clear 422 (413 for
an oversized bundle) with nothing stored, reviewed as a probability, stopped like every task."""

from __future__ import annotations

import copy
import hashlib
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from medora.areas.ehr.predict import assess, read_patient_bundle
from medora.data.meds import read_events
from medora.evaluate.calibration import PlattCalibrator
from medora.models.calibrated import CalibratedModel
from medora.registry.store import ModelStore
from medora.serve.app import create_app
from medora.serve.db import AuditEvent, Prediction
from medora.serve.settings import (
    DEFAULT_MAX_EHR_BODY_BYTES,
    MAX_EHR_BODY_ENV,
    ServiceSettings,
    max_ehr_body_bytes,
)

from ...conftest import SECRET, Service
from .small_model import (
    BUNDLE,
    DIABETES,
    DISCHARGE,
    EHR_TASKS,
    EVENTS,
    FIXTURES,
    INFANT,
    READMISSION,
    SUBJECT,
    ehr_registry,
    ehr_task,
    fixture_sample_risk,
    register_ehr_model,
    trained_ehr_model,
)

OTHER_PATIENT = FIXTURES / "fhir" / "bundles" / "Tyrone_Murray_1144a524.json"
PATIENT_ID = "MRN-EHR-1"


@contextmanager
def ehr_running_service(database_url: str, directory: Path, password_hash: str,
                        patient: dict[str, float | None], **settings: Any) -> Iterator[Service]:
    """The app with v1 of every EHR task approved; ``settings`` override the defaults."""
    store = ehr_registry(directory / "registry")
    configured = ServiceSettings(database_url=database_url, secret_key=SECRET,
                                 registry_root=store.root, **settings)
    with TestClient(create_app(configured)) as client:
        service = Service(client, password_hash, patient)
        for task in EHR_TASKS:
            approved = service.request("POST", f"/models/{task}/versions/1/approve", json={})
            assert approved.status_code == 200, approved.text
        yield service


@pytest.fixture
def ehr_service(database_url: str, tmp_path: Path, password_hash: str,
                patient: dict[str, float | None]) -> Iterator[Service]:
    with ehr_running_service(database_url, tmp_path, password_hash, patient) as service:
        yield service


def post_bundle(service: Service, body: bytes, task: str = READMISSION,
                patient_id: str = PATIENT_ID, **params: str) -> httpx.Response:
    return service.request("POST", f"/predict/{task}/bundle", "clinician",
                           params={"patient_id": patient_id, **params}, content=body,
                           headers={"Content-Type": "application/fhir+json"})


def bundle_document() -> dict[str, Any]:
    return json.loads(BUNDLE.read_bytes())


def as_bytes(document: object) -> bytes:
    return json.dumps(document).encode()


def present(event: dict[str, Any]) -> dict[str, Any]:
    """An event as stored: the response lists every field, null or not."""
    return {key: value for key, value in event.items() if value is not None}


def stored_rows(service: Service) -> tuple[int, int]:
    """Predictions stored, and prediction.create events in the audit log."""
    with service.database.read() as session:
        predictions = len(session.scalars(select(Prediction.id)).all())
        audited = len(session.scalars(select(AuditEvent.sequence).where(
            AuditEvent.action == "prediction.create")).all())
    return predictions, audited


# -- Listing ------------------------------------------------------------------------------------


def test_tasks_list_the_ehr_tasks_with_their_bundle_input(ehr_service: Service) -> None:
    tasks = {task["name"]: task for task in ehr_service.request("GET", "/tasks").json()}
    for name in EHR_TASKS:
        info = tasks[name]
        assert (info["modality"], info["unit"], info["interval_coverage"]) == (
            "event_sequence", "probability", 0.95)
        assert info["threshold"] == ehr_task(name).threshold.value
        inputs = {item["name"]: item for item in info["inputs"]}
        assert list(inputs) == ["bundle", "index_time"]
        assert (inputs["bundle"]["kind"], inputs["bundle"]["required"]) == ("fhir_bundle", True)
        assert f"/predict/{name}/bundle" in inputs["bundle"]["description"]
        assert (inputs["index_time"]["kind"], inputs["index_time"]["required"]) == (
            "datetime", False)
    assert "inpatient discharge" in tasks[READMISSION]["inputs"][1]["description"]
    assert "type 2 diabetes" in tasks[DIABETES]["inputs"][1]["expected"]
    schema = ehr_service.client.get("/openapi.json").json()
    operation = schema["paths"]["/predict/{task}/bundle"]["post"]
    assert set(operation["requestBody"]["content"]) == {"application/fhir+json",
                                                        "application/json"}
    assert {"patient_id", "index_time"} <= {p["name"] for p in operation["parameters"]}
    assert "event_sequence" in json.dumps(schema["components"]["schemas"]["TaskInfo"])


# -- Predicting ---------------------------------------------------------------------------------


def test_a_bundle_is_predicted_as_its_training_sample_and_stored_with_what_the_model_read(
        ehr_service: Service) -> None:
    body = BUNDLE.read_bytes()
    response = post_bundle(ehr_service, body)
    assert response.status_code == 201, response.text
    prediction = response.json()
    details = prediction["details"]
    assert (prediction["modality"], prediction["unit"]) == ("event_sequence", "probability")
    # At the latest inpatient discharge, the same risk as the table's own sample there.
    assert pd.Timestamp(details["index_time"]) == DISCHARGE
    assert details["index_source"] == ("the latest inpatient discharge (ENCOUNTER_END/IMP) in "
                                       "the record")
    assert prediction["risk"] == pytest.approx(fixture_sample_risk(DISCHARGE), abs=1e-4)
    assert prediction["risk_lower"] <= prediction["risk"] <= prediction["risk_upper"]
    assert prediction["interval_coverage"] == 0.95 and prediction["threshold"] == 0.2
    assert prediction["flagged"] == (prediction["risk"] >= 0.2)
    # Counts: 427 events in the bundle, 33 after the discharge, all the rest read.
    assert (details["events_in_record"], details["events_after_index"],
            details["events_seen"], details["events_before_window"]) == (427, 33, 394, 0)
    assert details["max_events"] == 512 and details["age_at_index"] == pytest.approx(5.1)
    assert details["ingest"]["Observation"] == {"read": 276, "accepted": 276, "rejected": 0,
                                                "skipped": 0, "events": 289}
    assert details["bundle_sha256"] == hashlib.sha256(body).hexdigest()
    assert details["bundle_bytes"] == len(body)
    # The inputs are the events the model read, none after the index time, not the bundle.
    inputs = prediction["inputs"]
    assert inputs["bundle_sha256"] == details["bundle_sha256"]
    events = [present(event) for event in inputs["events"]]
    assert len(events) == 394
    assert max(pd.Timestamp(e["time"]) for e in events if "time" in e) == DISCHARGE
    assert events[0] == {"code": "GENDER/male", "display": "Sex: male"}
    height = next(e for e in events if e["code"] == "LOINC/8302-2")
    assert height["display"] == "Body Height" and height["unit"] == "cm"
    assert "entry" not in json.dumps(inputs)
    # The top events, largest first, point at the stored events they name.
    top = details["top_events"]
    assert len(top) == 10 == len(prediction["contributions"])
    sizes = [abs(item["contribution"]) for item in top]
    assert sizes == sorted(sizes, reverse=True)
    for item, term in zip(top, prediction["contributions"], strict=True):
        stored = events[item["position"]]
        assert (stored["code"], stored.get("time")) == (item["code"], item.get("time"))
        assert item["vocabulary"] == item["code"].split("/")[0]
        assert (term["feature"], term["contribution"]) == (item["code"], item["contribution"])
    # Stored as answered, with its audit event.
    with ehr_service.database.read() as session:
        row = session.get(Prediction, uuid.UUID(prediction["id"]))
        assert row is not None and row.inputs["events"] == events
        assert row.details["events_seen"] == 394
        audit = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "prediction.create")).one()
    assert audit.details["input_fingerprint"] == row.input_fingerprint
    assert audit.details["task"] == READMISSION and "events" not in audit.details
    assert ehr_service.request("GET", f"/predictions/{prediction['id']}").json() == prediction


def test_an_index_time_leaves_every_later_event_out(ehr_service: Service) -> None:
    response = post_bundle(ehr_service, BUNDLE.read_bytes(), index_time="2012-06-01T00:00:00")
    assert response.status_code == 201, response.text
    prediction = response.json()
    details = prediction["details"]
    at = pd.Timestamp("2012-06-01")
    events = read_events(EVENTS)
    patient = events[events["subject_id"] == SUBJECT]
    later = int((patient["time"] > at).sum()) - (len(patient) - 427)  # of the bundle's 427
    assert details["index_source"] == "given"
    assert details["events_after_index"] == later > 33
    assert details["events_seen"] == 427 - later
    times = [pd.Timestamp(e["time"]) for e in prediction["inputs"]["events"] if e["time"]]
    assert max(times) <= at
    assert prediction["risk"] == pytest.approx(fixture_sample_risk(at), abs=1e-4)
    # An offset is converted to UTC, as the event table's times are.
    shifted = post_bundle(ehr_service, BUNDLE.read_bytes(), index_time="2012-06-01T02:00:00+02:00")
    assert shifted.json()["details"]["index_time"] == "2012-06-01T00:00:00"


def test_rejected_resources_are_counted_and_the_rest_predicted(ehr_service: Service) -> None:
    document = bundle_document()
    observations = [i for i, entry in enumerate(document["entry"])
                    if entry["resource"]["resourceType"] == "Observation"]
    broken = document["entry"][observations[0]]["resource"]
    broken["effectiveDateTime"] = "2020-13-45"
    lost = len(broken.get("component") or [broken])  # a panel's events are its components
    document["entry"].append({"resource": {"resourceType": "Claim", "id": "c1"}})
    response = post_bundle(ehr_service, as_bytes(document))
    assert response.status_code == 201, response.text
    details = response.json()["details"]
    assert details["ingest"]["Observation"]["rejected"] == 1
    assert details["ingest"]["Claim"] == {"read": 1, "accepted": 0, "rejected": 0,
                                          "skipped": 1, "events": 0}
    assert details["rejected_by_reason"] == {"bad date": 1}
    (rejection,) = details["rejections"]
    assert rejection["location"] == f"bundle#entry[{observations[0]}]"
    assert "2020-13-45" in rejection["detail"]
    assert details["events_in_record"] == 427 - lost


def test_a_sequence_window_leaves_the_oldest_events_out() -> None:
    """A model reading the 100 most recent events stores those (and the static facts and the
    birth), and counts the older ones as left out."""
    windowed = copy.deepcopy(trained_ehr_model())
    windowed.model.config = replace(windowed.model.config, max_events=100)
    record = read_patient_bundle(BUNDLE.read_bytes())
    assessment = assess(ehr_task(), windowed, record)
    static = 4  # sex, race, ethnicity and the birth (for the age)
    assert len(assessment.seen) == 100 + static
    assert assessment.before_window == 394 - 100 - static
    assert assessment.after_index == 33
    assert assessment.attributions is not None
    assert set(assessment.attributions["row"]) <= set(assessment.seen)


# -- Refused ------------------------------------------------------------------------------------


def two_patients() -> bytes:
    document = bundle_document()
    document["entry"] += json.loads(OTHER_PATIENT.read_bytes())["entry"]
    return as_bytes(document)


def patient_without_id() -> bytes:
    document = bundle_document()
    patient = document["entry"][0]
    assert patient["resource"]["resourceType"] == "Patient"
    del patient["resource"]["id"], patient["fullUrl"]
    return as_bytes(document)


BAD_BUNDLES = {
    "not JSON": (b'{"resourceType": "Bundle", "entry": [', "bundle: not JSON"),
    "empty": (b"", "bundle: not JSON"),
    "not a Bundle": (as_bytes({"resourceType": "Patient", "id": "p1"}),
                     "bundle: not a FHIR Bundle (resourceType 'Patient')"),
    "entry not a list": (as_bytes({"resourceType": "Bundle", "entry": 5}),
                         "bundle: the Bundle's entry is not a list"),
    "no Patient": (as_bytes({"resourceType": "Bundle", "entry": [
        {"resource": {"resourceType": "Observation", "subject": {"reference": "Patient/p1"}}}]}),
        "bundle: the Bundle holds no Patient resource"),
    "two patients": (None, "bundle: the Bundle holds 2 patients; a prediction is for one "
                           "patient"),
    "every resource rejected": (None, "bundle: no resource of the Bundle gave an event"),
}


@pytest.mark.parametrize("case", list(BAD_BUNDLES))
def test_an_unusable_bundle_is_refused_with_the_fix_and_nothing_stored(
        ehr_service: Service, case: str) -> None:
    body, expected = BAD_BUNDLES[case]
    if body is None:
        body = two_patients() if case == "two patients" else patient_without_id()
    response = post_bundle(ehr_service, body)
    assert response.status_code == 422, response.text
    (problem,) = response.json()["detail"]
    assert problem["loc"] == ["body"]
    assert problem["msg"].startswith(expected), problem["msg"]
    fixes = ("send one patient's FHIR R4 Bundle", "include the patient", "entry array",
             "send each patient's bundle on its own", "fix the rejected resources")
    assert any(fix in problem["msg"] for fix in fixes)
    assert stored_rows(ehr_service) == (0, 0)


def test_a_record_without_an_index_event_says_to_pass_an_index_time(
        ehr_service: Service) -> None:
    infant = INFANT.read_bytes()
    response = post_bundle(ehr_service, infant)
    assert response.status_code == 422
    (problem,) = response.json()["detail"]
    assert "predicts at each inpatient discharge (ENCOUNTER_END/IMP), and the record has none" \
        in problem["msg"]
    assert "pass index_time" in problem["msg"] and "--index-time" in problem["msg"]
    assert stored_rows(ehr_service) == (0, 0)
    # Predicting at a discharge the record does not hold yet.
    given = post_bundle(ehr_service, infant, index_time="2024-06-01")
    assert given.status_code == 201, given.text
    assert given.json()["details"]["index_source"] == "given"


def test_the_diabetes_task_names_why_a_patient_is_not_eligible(ehr_service: Service) -> None:
    response = post_bundle(ehr_service, BUNDLE.read_bytes(), task=DIABETES)
    assert response.status_code == 422
    message = response.json()["detail"][0]["msg"]
    assert "none eligible" in message
    assert "no type 2 diabetes diagnosis (SNOMED/44054006" in message
    at = post_bundle(ehr_service, BUNDLE.read_bytes(), task=DIABETES, index_time="2012-01-01")
    assert at.status_code == 422
    (problem,) = at.json()["detail"]
    assert problem["loc"] == ["query", "index_time"]
    assert problem["msg"].startswith(f"index_time: {DIABETES} does not predict at 2012-01-01")
    assert stored_rows(ehr_service) == (0, 0)


@pytest.mark.parametrize(("value", "expected"), [
    ("yesterday", "index_time: 'yesterday' is not an ISO 8601 date or date-time"),
    ("2001-01-01", "index_time: ehr.readmission_30d does not predict at 2001-01-01 00:00:00: "
                   "it is before the patient's birth on 2008-01-08"),
    ("2300-01-01", "index_time: at the index time 2300-01-01 00:00:00, the patient would be "
                   "292 years old; check the record's dates"),
])
def test_a_bad_index_time_is_refused(ehr_service: Service, value: str, expected: str) -> None:
    response = post_bundle(ehr_service, BUNDLE.read_bytes(), index_time=value)
    assert response.status_code == 422
    (problem,) = response.json()["detail"]
    assert problem["loc"] == ["query", "index_time"] and problem["msg"].startswith(expected)
    assert stored_rows(ehr_service) == (0, 0)


def test_each_kind_of_task_is_sent_to_its_own_route(ehr_service: Service) -> None:
    inputs = ehr_service.request("POST", f"/predict/{READMISSION}", "clinician",
                                 json={"patient_id": PATIENT_ID, "inputs": {}})
    assert inputs.status_code == 422
    assert f"POST the bundle as the request body to /predict/{READMISSION}/bundle" in \
        inputs.json()["detail"][0]["msg"]
    tabular = post_bundle(ehr_service, BUNDLE.read_bytes(), task="cardio.framingham_chd")
    assert tabular.status_code == 404
    assert "POST its inputs to /predict/cardio.framingham_chd" in tabular.json()["detail"]
    unknown = post_bundle(ehr_service, BUNDLE.read_bytes(), task="ehr.nothing")
    assert unknown.status_code == 404
    bad_id = post_bundle(ehr_service, BUNDLE.read_bytes(), patient_id="no spaces")
    assert bad_id.status_code == 422 and bad_id.json()["detail"][0]["loc"] == [
        "query", "patient_id"]
    assert ehr_service.client.post(f"/predict/{READMISSION}/bundle",
                                   params={"patient_id": PATIENT_ID},
                                   content=BUNDLE.read_bytes()).status_code == 401
    assert stored_rows(ehr_service) == (0, 0)


# -- Body size ----------------------------------------------------------------------------------


def test_the_ehr_body_limit_is_its_own_and_names_its_setting(
        database_url: str, tmp_path: Path, password_hash: str,
        patient: dict[str, float | None]) -> None:
    limit = 3 << 20  # 3 MiB: more than the 1 MiB of every other request
    with ehr_running_service(database_url, tmp_path, password_hash, patient,
                             max_ehr_body_bytes=limit) as service:
        body = BUNDLE.read_bytes()
        padded = body[:-1] + b" " * (2 << 20) + body[-1:]  # 2 MiB more white space
        large = post_bundle(service, padded)
        assert large.status_code == 201, large.text
        assert large.json()["details"]["bundle_bytes"] == len(padded)
        oversized = body[:-1] + b" " * limit + body[-1:]
        refused = post_bundle(service, oversized)
        assert refused.status_code == 413
        detail = refused.json()["detail"]
        assert f"larger than the {limit}-byte limit (3 MiB) for EHR prediction" in detail
        assert MAX_EHR_BODY_ENV in detail

        def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
            for start in range(0, len(oversized), 1 << 16):
                yield oversized[start:start + (1 << 16)]

        chunked = service.request("POST", f"/predict/{READMISSION}/bundle", "clinician",
                                  params={"patient_id": PATIENT_ID}, content=chunks())
        assert chunked.status_code == 413 and MAX_EHR_BODY_ENV in chunked.json()["detail"]
        # Every other request keeps the 1 MiB limit.
        json_route = service.request("POST", f"/predict/{READMISSION}", "clinician",
                                     json={"patient_id": PATIENT_ID,
                                           "inputs": {"x": "y" * 64},
                                           "padding": " " * (1 << 20)})
        assert json_route.status_code == 413
        assert json_route.json()["detail"] == "request body larger than the 1048576-byte limit"
        assert stored_rows(service) == (1, 1)


def test_the_ehr_body_limit_comes_from_the_environment(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(MAX_EHR_BODY_ENV, raising=False)
    assert max_ehr_body_bytes() == DEFAULT_MAX_EHR_BODY_BYTES == 32 << 20
    monkeypatch.setenv(MAX_EHR_BODY_ENV, str(64 << 20))
    assert ServiceSettings(secret_key=SECRET).max_ehr_body_bytes == 64 << 20
    for wrong in ("64MB", "0", "-5"):
        monkeypatch.setenv(MAX_EHR_BODY_ENV, wrong)
        with pytest.raises(ValueError, match="whole number of bytes"):
            max_ehr_body_bytes()


# -- Review and stop ----------------------------------------------------------------------------


def test_an_ehr_prediction_is_reviewed_as_a_probability_and_stopped_like_any(
        ehr_service: Service) -> None:
    prediction = post_bundle(ehr_service, BUNDLE.read_bytes()).json()

    def override(value: float) -> httpx.Response:
        return ehr_service.request("POST", f"/predictions/{prediction['id']}/reviews",
                                   "clinician", json={"action": "override",
                                                      "reason": "readmitted elsewhere",
                                                      "clinician_value": value})

    assert override(35.0).status_code == 422
    assert override(0.35).status_code == 201
    history = ehr_service.request("GET", f"/predictions/{prediction['id']}/history").json()
    assert history["prediction"]["review_status"] == "overridden"
    worklist = ehr_service.request("GET", "/reviews/worklist", "clinician")
    assert worklist.status_code == 200
    stopped = ehr_service.request("POST", f"/models/{READMISSION}/versions/1/stop",
                                  json={"reason": "drift"})
    assert stopped.status_code == 200
    refused = post_bundle(ehr_service, BUNDLE.read_bytes())
    assert refused.status_code == 503 and "drift" in refused.json()["detail"]
    assert stored_rows(ehr_service) == (1, 1)


def test_a_model_of_another_kind_registered_for_an_ehr_task_is_not_served(
        database_url: str, tmp_path: Path, password_hash: str,
        patient: dict[str, float | None]) -> None:
    with ehr_running_service(database_url, tmp_path, password_hash, patient) as service:
        # The kind of artifact a tabular task serves, but around no event model.
        register_ehr_model(ModelStore(service.state.settings.registry_root), READMISSION,
                           CalibratedModel(np.zeros(3), PlattCalibrator()))  # type: ignore[arg-type]
        assert service.request("POST", "/models/sync", json={}).status_code == 200
        assert service.request("POST", f"/models/{READMISSION}/versions/2/approve",
                               json={}).status_code == 200
        response = post_bundle(service, BUNDLE.read_bytes())
    assert response.status_code == 503
    assert "holds a ndarray, not an event model" in response.json()["detail"]
