"""Model versions through the API: listing, cards, status rules, stop and roll-back."""

from __future__ import annotations

import pytest

from medora.areas.risk.cardio import FRAMINGHAM_CHD
from medora.registry.store import ModelStore
from medora.serve import lifecycle

TASK = FRAMINGHAM_CHD.name


def test_new_registry_versions_appear_as_drafts(service) -> None:
    response = service.request("GET", "/models", "auditor")
    assert response.status_code == 200
    assert response.json() == [{"task": TASK, "versions": 2, "latest_version": 2,
                                "serving_version": None, "state": "no approved version"}]
    versions = service.request("GET", f"/models/{TASK}/versions", "auditor").json()
    assert [(v["version"], v["model_name"], v["status"]) for v in versions] == [
        (1, "logistic_regression", "draft"), (2, "mlp", "draft")]
    assert 0.6 < versions[1]["metrics"]["auroc"]["value"] < 0.85


def test_version_and_card(service) -> None:
    version = service.request("GET", f"/models/{TASK}/versions/2", "clinician").json()
    assert version["model_name"] == "mlp" and len(version["artifact_sha256"]) == 64
    card = service.request("GET", f"/models/{TASK}/versions/2/card", "auditor").json()
    assert card["markdown"].startswith(f"# Model card: {TASK} v2")
    assert "## Intended use" in card["markdown"]
    for path in (f"/models/{TASK}/versions/9", f"/models/{TASK}/versions/9/card",
                 "/models/no.such_task/versions"):
        response = service.request("GET", path)
        assert response.status_code == 404, path
        assert response.json()["detail"]


def test_predict_needs_an_approved_version(service) -> None:
    response = service.predict()
    assert response.status_code == 409
    assert response.json()["detail"] == (f"{TASK} has no approved version; an admin or data "
                                         "scientist must approve one")


def test_approve_serves_and_is_mirrored_to_the_registry(service, registry: ModelStore) -> None:
    response = service.set_status(1, "approve", "validated locally", role="data_scientist")
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["approved_by"], body["status_reason"]) == (
        "approved", "data_scientist", "validated locally")
    assert service.prediction()["model_version"] == 1
    record = registry.get(TASK, 1)
    assert (record.status, record.approved_by) == ("approved", "data_scientist")
    assert record.history[-1]["reason"] == "validated locally"
    assert service.request("GET", "/models").json()[0]["serving_version"] == 1


def test_newest_approved_version_serves(serving) -> None:
    assert serving.set_status(2, "approve").status_code == 200
    prediction = serving.prediction()
    assert prediction["model_version"] == 2
    assert len(prediction["contributions"]) == 5


def test_stop_is_immediate_and_names_who_and_why(serving, registry: ModelStore) -> None:
    serving.prediction()
    response = serving.set_status(1, "stop", "calibration drift on May patients",
                                  role="data_scientist")
    assert response.status_code == 200
    stopped_at = response.json()["status_at"]
    response = serving.predict()
    assert response.status_code == 503
    detail = response.json()["detail"]
    assert detail.startswith(f"{TASK} v1 was stopped by data_scientist at {stopped_at[:19]}")
    assert detail.endswith(": calibration drift on May patients")
    assert registry.get(TASK, 1).status == "stopped"
    summary = serving.request("GET", "/models").json()[0]
    assert (summary["state"], summary["serving_version"]) == ("stopped", None)

    assert serving.set_status(1, "resume").status_code == 200
    assert serving.predict().status_code == 201


def test_a_stop_never_falls_back_to_an_older_version(serving) -> None:
    assert serving.set_status(2, "approve").status_code == 200
    assert serving.set_status(2, "stop", "wrong units").status_code == 200
    assert serving.predict().status_code == 503


def test_stop_requires_a_reason(serving) -> None:
    for body in ({}, {"reason": ""}):
        response = serving.request("POST", f"/models/{TASK}/versions/1/stop", json=body)
        assert response.status_code == 422


@pytest.mark.parametrize(("version", "action", "status"), [
    (1, "approve", "approved"), (1, "resume", "approved"), (2, "stop", "draft"),
    (2, "resume", "draft")])
def test_transitions_that_the_status_forbids_are_409(serving, version, action, status) -> None:
    response = serving.set_status(version, action)
    assert response.status_code == 409
    assert response.json()["detail"].startswith(f"{TASK} v{version} is {status}; {action} "
                                                "applies only to")


def test_retire_applies_to_any_status_once(serving) -> None:
    assert serving.set_status(2, "retire").status_code == 200
    assert serving.set_status(2, "retire").status_code == 409
    assert serving.set_status(1, "retire").status_code == 200
    assert serving.predict().status_code == 409


def test_rollback_restores_the_previous_approved_version(serving, registry: ModelStore) -> None:
    assert serving.set_status(2, "approve").status_code == 200
    assert serving.set_status(2, "stop", "alert fatigue").status_code == 200
    response = serving.request("POST", f"/models/{TASK}/rollback", "data_scientist",
                               json={"reason": "alert fatigue"})
    assert response.status_code == 200
    body = response.json()
    assert (body["retired"]["version"], body["retired"]["status"]) == (2, "retired")
    assert (body["restored"]["version"], body["restored"]["status"]) == (1, "approved")
    assert body["restored"]["approved_by"] == "data_scientist"
    assert serving.prediction()["model_version"] == 1
    assert [registry.get(TASK, v).status for v in (1, 2)] == ["approved", "retired"]

    response = serving.request("POST", f"/models/{TASK}/rollback", json={"reason": "again"})
    assert response.status_code == 409
    assert "no earlier approved version" in response.json()["detail"]


def test_rollback_without_a_version_in_service_is_409(service) -> None:
    response = service.request("POST", f"/models/{TASK}/rollback", json={"reason": "why"})
    assert response.status_code == 409


def test_sync_registers_versions_trained_while_running(service, register_version) -> None:
    assert service.set_status(3, "approve").status_code == 404
    register_version("gradient_boosting")
    response = service.request("POST", "/models/sync", "data_scientist")
    assert response.status_code == 200
    assert [(v["version"], v["status"]) for v in response.json()] == [(3, "draft")]
    assert service.request("POST", "/models/sync").json() == []
    assert service.set_status(3, "approve").status_code == 200


def test_restart_repairs_a_registry_that_missed_a_status_change(service, registry) -> None:
    """A crash between the database commit and the version.json write leaves the registry
    behind; the next start makes it agree with the database again."""
    assert service.set_status(1, "approve").status_code == 200
    registry.set_status(registry.get(TASK, 1), "draft", by="someone", reason="stale copy")
    lifecycle.sync_registry(service.database, registry)
    assert registry.get(TASK, 1).status == "approved"
