"""Clinician review: worklist order, accept / override / escalate, final decisions, history."""

from __future__ import annotations

import uuid

from medora.areas.risk.cardio import FRAMINGHAM_CHD

TASK = FRAMINGHAM_CHD.name


def review(service, prediction_id: str, role: str = "clinician", **body):
    return service.request("POST", f"/predictions/{prediction_id}/reviews", role, json=body)


def test_worklist_is_pending_predictions_highest_risk_first(serving) -> None:
    ages = (35, 70, 52, 64)
    ids = [serving.prediction(f"MRN-{age}", age=age)["id"] for age in ages]
    assert review(serving, ids[0], action="accept").status_code == 201
    worklist = serving.request("GET", "/reviews/worklist", "clinician").json()
    risks = [item["risk"] for item in worklist]
    assert risks == sorted(risks, reverse=True)
    assert {item["id"] for item in worklist} == set(ids[1:])
    assert worklist[0]["patient_id"] == "MRN-70"  # age raises CHD risk
    assert all(item["review_status"] == "pending" for item in worklist)
    limited = serving.request("GET", "/reviews/worklist?limit=1", "clinician").json()
    assert [item["id"] for item in limited] == [worklist[0]["id"]]
    other_task = serving.request("GET", "/reviews/worklist?task=oncology.wdbc_malignancy",
                                 "clinician").json()
    assert other_task == []


def test_accept(serving) -> None:
    prediction = serving.prediction()
    response = review(serving, prediction["id"], action="accept", reason="agrees with QRISK3")
    assert response.status_code == 201
    body = response.json()
    assert (body["action"], body["reviewer"], body["reason"], body["clinician_value"]) == (
        "accept", "clinician", "agrees with QRISK3", None)
    assert serving.request("GET", f"/predictions/{prediction['id']}").json()[
        "review_status"] == "accepted"


def test_override_needs_a_reason_and_the_clinicians_value(serving) -> None:
    prediction_id = serving.prediction()["id"]
    for body in ({"action": "override"}, {"action": "override", "reason": "on statins"},
                 {"action": "override", "clinician_value": 0.1},
                 {"action": "override", "reason": "", "clinician_value": 0.1},
                 {"action": "override", "reason": "on statins", "clinician_value": 1.5},
                 {"action": "override", "reason": "on\x00statins", "clinician_value": 0.1},
                 {"action": "dismiss"}):
        response = review(serving, prediction_id, **body)
        assert response.status_code == 422, body
    response = review(serving, prediction_id, action="override",
                      reason="already on statins; LDL controlled", clinician_value=0.08)
    assert response.status_code == 201
    assert response.json()["clinician_value"] == 0.08


def test_escalated_predictions_await_a_senior_decision(serving) -> None:
    prediction_id = serving.prediction()["id"]
    assert review(serving, prediction_id, action="escalate",
                  reason="unusual lipid profile").status_code == 201
    assert serving.request("GET", "/reviews/worklist", "clinician").json() == []
    escalated = serving.request("GET", "/reviews/worklist?status=escalated", "clinician").json()
    assert [item["id"] for item in escalated] == [prediction_id]
    again = review(serving, prediction_id, action="escalate")
    assert again.status_code == 409
    assert again.json()["detail"].endswith("it can still be: accept, override")
    assert review(serving, prediction_id, "admin", action="accept").status_code == 201


def test_decisions_are_final(serving) -> None:
    prediction_id = serving.prediction()["id"]
    assert review(serving, prediction_id, action="accept").status_code == 201
    for body in ({"action": "accept"}, {"action": "escalate"},
                 {"action": "override", "reason": "changed my mind", "clinician_value": 0.3}):
        response = review(serving, prediction_id, **body)
        assert response.status_code == 409
        assert response.json()["detail"] == (f"prediction {prediction_id} is accepted; that "
                                             "decision is final (see its history)")


def test_history_lists_every_review_in_order(serving) -> None:
    prediction = serving.prediction()
    review(serving, prediction["id"], action="escalate", reason="second opinion")
    review(serving, prediction["id"], "admin", action="override", reason="family history",
           clinician_value=0.35)
    history = serving.request("GET", f"/predictions/{prediction['id']}/history",
                              "data_scientist").json()
    assert history["prediction"]["id"] == prediction["id"]
    assert history["prediction"]["review_status"] == "overridden"
    assert [(r["action"], r["reviewer"]) for r in history["reviews"]] == [
        ("escalate", "clinician"), ("override", "admin")]


def test_reviewing_an_unknown_prediction_is_404(serving) -> None:
    missing = uuid.uuid4()
    assert review(serving, str(missing), action="accept").status_code == 404
    assert serving.request("GET", f"/predictions/{missing}/history").status_code == 404
