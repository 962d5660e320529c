"""Crash safety: kill -9 a real `medora serve` during a burst of reviews and restart it. Every
review it acknowledged is there, and the audit chain still verifies."""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from medora.areas.risk.cardio import FRAMINGHAM_CHD
from medora.serve import accounts
from medora.serve.credentials import issue_access_token
from medora.serve.launch import ServiceProcess, start_service
from medora.serve.settings import ServiceSettings

TASK = FRAMINGHAM_CHD.name
SECRET = "crash-test-signing-secret-" + "c" * 40
PREDICTIONS = 120
KILL_AFTER = 20  # acknowledged reviews before the kill
DECISIONS = [{"action": "accept"}, {"action": "escalate", "reason": "second opinion"},
             {"action": "override", "reason": "on statins", "clinician_value": 0.1}]


class Server:
    """`medora serve` in a child process that can be killed and started again on one home."""

    def __init__(self, database_url: str, home: Path) -> None:
        self.env = {**os.environ, "MEDORA_HOME": str(home), "MEDORA_SECRET_KEY": SECRET}
        self.database_url = database_url
        self.log = home / "server.log"
        self.process: ServiceProcess | None = None

    @property
    def url(self) -> str:
        assert self.process is not None
        return self.process.url

    def start(self) -> None:
        self.process = start_service(["--db", self.database_url], env=self.env, log=self.log)

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()


def _review_burst(server: Server, prediction_ids: list[str],
                  headers: dict[str, str]) -> tuple[list[dict[str, Any]], list[int | None]]:
    """Review every prediction from 8 threads; kill the server once KILL_AFTER reviews have
    been acknowledged. Returns the acknowledged reviews and each request's status (None: no
    answer)."""
    acknowledged: list[dict[str, Any]] = []
    lock, enough = threading.Lock(), threading.Event()

    def send(index: int) -> int | None:
        try:
            response = httpx.post(f"{server.url}/predictions/{prediction_ids[index]}/reviews",
                                  json=DECISIONS[index % len(DECISIONS)], headers=headers,
                                  timeout=30)
        except httpx.TransportError:
            return None
        if response.is_success:
            with lock:
                acknowledged.append(response.json())
                if len(acknowledged) >= KILL_AFTER:
                    enough.set()
        return response.status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = pool.map(send, range(len(prediction_ids)))
        assert enough.wait(timeout=120), "the burst never reached the kill point"
        server.kill()
        return acknowledged, list(statuses)


@pytest.fixture
def server(database_url: str, database, registry, tmp_path: Path):
    """A real server on a free port, with an admin and a clinician; stopped afterwards."""
    with database.write() as session:
        for role in ("admin", "clinician"):
            accounts.add_user(session, role, role, "a long test password", actor="test")
    server = Server(database_url, tmp_path)  # the registry fixture lives in tmp_path/registry
    yield server
    server.stop()


def test_acknowledged_reviews_survive_kill_9(server: Server, database_url: str,
                                            registry) -> None:
    settings = ServiceSettings(database_url=database_url, secret_key=SECRET,
                               registry_root=registry.root)
    admin, clinician = ({"Authorization": "Bearer " + issue_access_token(role, role, settings)}
                        for role in ("admin", "clinician"))
    server.start()
    with httpx.Client(base_url=server.url, timeout=30) as client:
        approved = client.post(f"/models/{TASK}/versions/1/approve", json={}, headers=admin)
        assert approved.status_code == 200, approved.text
        prediction_ids = []
        for number in range(PREDICTIONS):
            response = client.post(f"/predict/{TASK}", headers=clinician, json={
                "patient_id": f"CRASH-{number}", "inputs": {"male": number % 2,
                                                            "age": 40 + number % 30,
                                                            "sysBP": 120 + number}})
            assert response.status_code == 201, response.text
            prediction_ids.append(response.json()["id"])

    acknowledged, statuses = _review_burst(server, prediction_ids, clinician)
    assert set(statuses) <= {201, None}
    assert KILL_AFTER <= len(acknowledged) < PREDICTIONS, "the kill came after the burst"

    server.start()
    with httpx.Client(base_url=server.url, timeout=30) as client:
        for review in acknowledged:
            history = client.get(f"/predictions/{review['prediction_id']}/history",
                                 headers=admin).json()
            assert [(r["id"], r["action"]) for r in history["reviews"]] == [
                (review["id"], review["action"])]
        verification = client.get("/audit/verify", headers=admin).json()
        assert verification["ok"], verification
        reviewed = client.get("/audit/events", params={"limit": 1000}, headers=admin).json()
        audited = {event["details"]["review_id"] for event in reviewed["events"]
                   if event["action"].startswith("review.")}
        assert {review["id"] for review in acknowledged} <= audited
    server.stop()

    log = server.log.read_text()
    assert "POST /predictions/{prediction_id}/reviews 201" in log
    assert "CRASH-" not in log
