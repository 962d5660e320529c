"""The audit log: every action recorded, the hash chain verifies, tampering is found."""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from medora.serve import audit

TAMPER_GUARD = {  # how someone with DDL rights would switch off the append-only guard
    "sqlite": ["DROP TRIGGER audit_events_append_only_update",
               "DROP TRIGGER audit_events_append_only_delete"],
    "postgresql": ["ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"],
}


def activity(service) -> None:
    """A login, a model approval and stop, predictions and reviews."""
    service.add_user("alice", "clinician")
    assert service.login("alice").status_code == 200
    assert service.set_status(1, "approve").status_code == 200
    first, second = (service.prediction(f"MRN-{i}")["id"] for i in range(2))
    service.request("POST", f"/predictions/{first}/reviews", "clinician",
                    json={"action": "accept"})
    service.request("POST", f"/predictions/{second}/reviews", "clinician",
                    json={"action": "override", "reason": "frail", "clinician_value": 0.4})
    assert service.set_status(1, "stop", "incident 12").status_code == 200


def events(service, role: str = "auditor", **params) -> dict:
    response = service.request("GET", "/audit/events", role, params=params)
    assert response.status_code == 200
    return response.json()


def verify(service) -> dict:
    response = service.request("GET", "/audit/verify", "auditor")
    assert response.status_code == 200
    return response.json()


def test_every_action_is_logged_in_order(service) -> None:
    activity(service)
    log = events(service)["events"]
    assert [e["action"] for e in log] == [
        "model.register", "model.register", "login", "model.approve", "prediction.create",
        "prediction.create", "review.accept", "review.override", "model.stop"]
    assert [e["sequence"] for e in log] == list(range(1, 10))
    assert all(later["prev_hash"] == earlier["hash"] for earlier, later in pairwise(log))
    stop = log[-1]
    assert (stop["actor"], stop["target"]) == ("admin", "model:cardio.framingham_chd:v1")
    assert stop["details"] == {"from": "approved", "to": "stopped", "reason": "incident 12"}
    assert log[2]["actor"] == "alice"


def test_events_come_in_pages(service) -> None:
    activity(service)
    page = events(service, after=0, limit=4)
    assert [e["sequence"] for e in page["events"]] == [1, 2, 3, 4]
    assert page["next_after"] == 4
    rest = events(service, after=4, limit=100)
    assert [e["sequence"] for e in rest["events"]] == list(range(5, 10))
    assert rest["next_after"] is None


def test_failed_logins_are_logged(service) -> None:
    assert service.login("mallory").status_code == 401
    failed = events(service)["events"][-1]
    assert (failed["action"], failed["actor"], failed["target"]) == (
        "login.failed", "anonymous", "user:mallory")


def test_details_name_predictions_not_patients(serving) -> None:
    prediction = serving.prediction("PATIENT-QX7", totChol=287.25)
    text_of_log = json.dumps(events(serving)["events"])
    assert f"prediction:{prediction['id']}" in text_of_log
    assert "PATIENT-QX7" not in text_of_log and "287.25" not in text_of_log


def test_chain_verifies(service) -> None:
    activity(service)
    result = verify(service)
    assert result == {"ok": True, "checked": 9, "first_bad_sequence": None,
                      "head_hash": events(service)["events"][-1]["hash"]}


def test_the_log_is_append_only(service) -> None:
    activity(service)
    for statement in ("UPDATE audit_events SET actor = 'mallory' WHERE sequence = 3",
                      "DELETE FROM audit_events WHERE sequence = 9"):
        with pytest.raises(DBAPIError, match="append-only"), service.database.write() as session:
            session.execute(text(statement))


@pytest.mark.parametrize(("statement", "first_bad"), [
    ("UPDATE audit_events SET actor = 'mallory' WHERE sequence = 4", 4),
    ("UPDATE audit_events SET details = '{\"reason\": \"routine\"}' WHERE sequence = 9", 9),
    ("DELETE FROM audit_events WHERE sequence = 5", 5),
    ("UPDATE audit_events SET sequence = sequence + 100 WHERE sequence = 2", 2),
])
def test_tampering_is_found_at_the_first_bad_event(service, statement, first_bad) -> None:
    activity(service)
    with service.database.write() as session:
        for guard in TAMPER_GUARD[service.database.dialect]:
            session.execute(text(guard))
        session.execute(text(statement))
    result = verify(service)
    assert (result["ok"], result["first_bad_sequence"], result["checked"]) == (
        False, first_bad, first_bad - 1)


def test_concurrent_appends_never_fork_the_chain(service) -> None:
    def append(number: int) -> None:
        with service.database.write() as session:
            audit.append(session, actor="load", action="test.append", target=f"n:{number}")

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(append, range(80)))
    result = verify(service)
    assert result["ok"] and result["checked"] == 82  # and the two model registrations


# One writer process, as a worker of `medora serve --workers N` is: its own engine and
# connections, appending from two threads.
_APPENDER = """
import sys
from concurrent.futures import ThreadPoolExecutor
from medora.serve import audit
from medora.serve.db import Database

url, name, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
database = Database(url)

def append(number):
    with database.write() as session:
        audit.append(session, actor=name, action="test.append", target=f"n:{number}")

with ThreadPoolExecutor(max_workers=2) as pool:
    list(pool.map(append, range(count)))
database.dispose()
"""


def test_appends_from_several_processes_keep_one_chain(database_url: str, database) -> None:
    processes = [subprocess.Popen([sys.executable, "-c", _APPENDER, database_url, f"worker-{n}",
                                   "40"], stderr=subprocess.PIPE, text=True)
                 for n in range(3)]
    for process in processes:
        _, errors = process.communicate(timeout=120)
        assert process.returncode == 0, errors
    with database.read() as session:
        result = audit.verify_chain(session)
        actors = [event.actor for event in audit.events_after(session, 0, 1000)]
    assert result.ok and result.checked == 120
    assert sorted(set(actors)) == ["worker-0", "worker-1", "worker-2"]
    assert all(actors.count(f"worker-{n}") == 40 for n in range(3))
