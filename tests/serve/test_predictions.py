"""Predictions through the API: the answer, what is stored, and clear errors for bad requests."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from medora.areas.risk.cardio import FRAMINGHAM_CHD
from medora.core.registry import list_tasks, task_names
from medora.serve.db import AuditEvent, Prediction
from medora.serve.scoring import served_tasks

TASK = FRAMINGHAM_CHD.name


def test_tasks_list_their_inputs(service) -> None:
    tasks = {task["name"]: task for task in service.request("GET", "/tasks", "clinician").json()}
    # every registered task: tabular, molecule, survival, effect and event-sequence (EHR)
    assert sorted(tasks) == sorted(t.name for t in served_tasks())
    assert sorted(tasks) == sorted(t.name for t in list_tasks())
    age = next(spec for spec in tasks[TASK]["inputs"] if spec["name"] == "age")
    assert age == {"name": "age", "description": "age at examination", "kind": "continuous",
                   "unit": "years", "expected": "18 to 110 years", "required": True}
    assert tasks[TASK]["threshold"] == 0.2


def test_prediction_from_the_deep_model(serving, patient) -> None:
    assert serving.set_status(2, "approve").status_code == 200
    response = serving.predict("MRN-0042", role="clinician")
    assert response.status_code == 201
    body = response.json()
    assert (body["task"], body["model_version"], body["patient_id"]) == (TASK, 2, "MRN-0042")
    assert 0 <= body["risk_lower"] <= body["risk"] <= body["risk_upper"] <= 1
    assert body["flagged"] == (body["risk"] >= 0.2)
    assert body["threshold"] == 0.2 and "NCEP ATP III" in body["threshold_source"]
    assert body["review_status"] == "pending"
    assert body["created_by"] == "clinician"
    assert body["inputs"] == patient
    contributions = body["contributions"]
    assert len(contributions) == 5
    assert {c["feature"] for c in contributions} <= set(patient)
    magnitudes = [abs(c["contribution"]) for c in contributions]
    assert magnitudes == sorted(magnitudes, reverse=True)
    assert serving.request("GET", f"/predictions/{body['id']}", "data_scientist").json() == body


def test_every_prediction_is_stored_with_its_fingerprint(serving) -> None:
    ids = [serving.prediction(f"MRN-{i}", age=40 + i)["id"] for i in range(3)]
    with serving.database.read() as session:
        stored = session.scalars(select(Prediction).order_by(Prediction.created_at)).all()
        events = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "prediction.create")).all()
    assert [str(p.id) for p in stored] == ids
    assert [p.inputs["age"] for p in stored] == [40.0, 41.0, 42.0]
    assert len({p.input_fingerprint for p in stored}) == 3
    assert [e.details["input_fingerprint"] for e in events] == [
        p.input_fingerprint for p in stored]


def test_inputs_may_be_numeric_strings_and_left_out_when_optional(serving) -> None:
    response = serving.request("POST", f"/predict/{TASK}", "clinician", json={
        "patient_id": "MRN-7", "inputs": {"male": "1", "age": "58", "sysBP": 141}})
    assert response.status_code == 201
    inputs = response.json()["inputs"]
    assert (inputs["male"], inputs["age"], inputs["sysBP"]) == (1.0, 58.0, 141.0)
    assert inputs["glucose"] is None


def test_invalid_inputs_are_422_naming_each_problem(serving) -> None:
    response = serving.predict(age=7, sysBP="high", male=2, glucose=None)
    assert response.status_code == 422
    messages = [problem["msg"] for problem in response.json()["detail"]]
    assert len(messages) == 3
    assert any(m.startswith("column age:") and "18 to 110 years" in m for m in messages)
    assert any(m.startswith("column sysBP: non-numeric value(s) 'high'") for m in messages)
    assert any(m.startswith("column male:") and "0 or 1" in m for m in messages)

    response = serving.predict(cholesterol=200)
    assert response.status_code == 422
    assert "unexpected column(s): cholesterol" in response.json()["detail"][0]["msg"]
    with serving.database.read() as session:
        assert session.scalars(select(Prediction)).first() is None


def test_request_shape_errors_are_422(serving) -> None:
    cases = [
        {"inputs": {"age": 50}},  # no patient id
        {"patient_id": "MRN 1", "inputs": {}},  # space in the id
        {"patient_id": "MRN\x001", "inputs": {}},  # PostgreSQL cannot store NUL
        {"patient_id": "MRN-1", "inputs": {"age": True}},
        {"patient_id": "MRN-1", "inputs": {"age": [50]}},
        {"patient_id": "MRN-1", "inputs": {"age": 50}, "note": "x"},
    ]
    for body in cases:
        response = serving.request("POST", f"/predict/{TASK}", json=body)
        assert response.status_code == 422, body
    response = serving.request("POST", f"/predict/{TASK}", content=b'{"patient_id": ',
                               headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "json_invalid"
    response = serving.request("POST", f"/predict/{TASK}", content=b'{"patient_id": "MRN-1", '
                               b'"inputs": {"age": NaN}}',
                               headers={"Content-Type": "application/json"})
    assert response.status_code == 422


def test_unknown_task_is_404_listing_the_known_ones(serving) -> None:
    response = serving.request(
        "POST", "/predict/cardio.no_such_task", json={"patient_id": "MRN-1", "inputs": {}})
    assert response.status_code == 404
    detail = response.json()["detail"]
    assert "unknown task 'cardio.no_such_task'" in detail
    assert all(name in detail for name in task_names())


def test_an_ehr_task_without_an_approved_version_is_409(serving) -> None:
    # EHR tasks are served too, from a FHIR Bundle (tests/serve/test_ehr_serving.py); without
    # an approved version they answer 409 like every task.
    response = serving.request("POST", "/predict/ehr.readmission_30d",
                               json={"patient_id": "MRN-1", "inputs": {}})
    assert response.status_code == 409
    assert "ehr.readmission_30d" in response.json()["detail"]


def test_a_molecule_task_without_an_approved_model_is_409(serving) -> None:
    molecule = "mol.freesolv"
    response = serving.request("POST", f"/predict/{molecule}",
                               json={"patient_id": "CPD-1", "inputs": {"smiles": "CCO"}})
    assert response.status_code == 409, response.text
    assert molecule in response.json()["detail"]


def test_unknown_prediction_is_404(serving) -> None:
    assert serving.request("GET", f"/predictions/{uuid.uuid4()}").status_code == 404
    assert serving.request("GET", "/predictions/not-a-uuid").status_code == 422


def test_oversized_bodies_are_413(serving) -> None:
    limit = serving.state.settings.max_body_bytes
    padding = "x" * limit
    response = serving.request("POST", f"/predict/{TASK}",
                               json={"patient_id": "MRN-1", "inputs": {"note": padding}})
    assert response.status_code == 413
    assert response.json()["detail"] == f"request body larger than the {limit}-byte limit"

    def chunks():  # streamed without a Content-Length
        yield b'{"patient_id": "MRN-1", "inputs": {"note": "'
        for _ in range(limit // 65536 + 1):
            yield b"x" * 65536
        yield b'"}}'

    response = serving.request("POST", f"/predict/{TASK}", content=chunks(),
                               headers={"Content-Type": "application/json"})
    assert response.status_code == 413
