"""`medora serve --workers N`: worker processes configured from the environment on one
database prepared once, idle keep-alive connections that outlive a client's, and what each
worker assumes about the serving version checked against the database."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from medora.areas.risk.cardio import FRAMINGHAM_CHD
from medora.serve import accounts, migrate
from medora.serve.app import create_app
from medora.serve.credentials import issue_access_token
from medora.serve.db import Database, write_gate
from medora.serve.launch import HOST, running_service, start_service
from medora.serve.settings import ServiceSettings

TASK = FRAMINGHAM_CHD.name
SECRET = "workers-test-signing-secret-" + "w" * 40
WORKERS = 2


def _worker_processes(pid: int) -> set[int]:
    """The multiprocessing children of ``pid`` that run a worker (not its resource tracker)."""
    children: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        children |= {int(child) for child in (task / "children").read_text().split()}
    return {child for child in children if _alive(child)
            and b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes()}


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _status_line(connection: socket.socket) -> bytes:
    """The status line of the next answer on ``connection``, its body read and dropped; empty
    when the server has closed the connection."""
    received = b""
    while b"\r\n\r\n" not in received:
        try:
            chunk = connection.recv(65536)
        except ConnectionError:
            return b""
        if not chunk:
            return b""
        received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                  if line.lower().startswith(b"content-length:"))
    while len(body) < length:
        body += connection.recv(65536)
    return head.split(b"\r\n", 1)[0]


def _get_twice_on_one_connection(port: int, idle_seconds: float) -> list[bytes]:
    """Two GET /health on one keep-alive connection, ``idle_seconds`` apart: the status line of
    each answer (empty when the server had closed the connection)."""
    request = f"GET /health HTTP/1.1\r\nHost: {HOST}:{port}\r\n\r\n".encode()
    lines = []
    with socket.create_connection((HOST, port), timeout=10) as connection:
        for attempt in range(2):
            if attempt:
                time.sleep(idle_seconds)
            try:
                connection.sendall(request)
            except ConnectionError:
                lines.append(b"")
                continue
            lines.append(_status_line(connection))
    return lines


@pytest.fixture
def users(database: Database) -> None:
    with database.write() as session:
        for role in ("admin", "clinician"):
            accounts.add_user(session, role, role, "a long test password", actor="test")


def test_workers_serve_one_database_from_the_environment(
        database_url: str, users: None, registry, tmp_path: Path) -> None:
    # No --db: the URL reaches the workers through the environment, as the secret does.
    env = {**os.environ, "MEDORA_HOME": str(tmp_path), "MEDORA_SECRET_KEY": SECRET,
           "MEDORA_DATABASE_URL": database_url}
    log = tmp_path / "server.log"
    server = start_service(["--workers", str(WORKERS)], env=env, log=log)
    workers: set[int] = set()
    try:
        base = server.url
        # uvicorn's supervisor and its worker processes.
        deadline = time.monotonic() + 60
        while len(workers) < WORKERS and time.monotonic() < deadline:
            workers = _worker_processes(server.pid)
            time.sleep(0.2)
        assert len(workers) == WORKERS, log.read_text()

        settings = ServiceSettings(database_url=database_url, secret_key=SECRET,
                                   registry_root=registry.root)
        admin, clinician = ({"Authorization": "Bearer " + issue_access_token(role, role,
                                                                             settings)}
                            for role in ("admin", "clinician"))
        with httpx.Client(base_url=base, timeout=60) as client:
            approved = client.post(f"/models/{TASK}/versions/1/approve", json={}, headers=admin)
            assert approved.status_code == 200, approved.text

            def predict(number: int) -> int:
                # A connection each, so that both workers take requests.
                inputs = {"male": number % 2, "age": 40 + number % 30, "sysBP": 120 + number}
                return httpx.post(f"{base}/predict/{TASK}", headers=clinician, timeout=60,
                                  json={"patient_id": f"W-{number}", "inputs": inputs}).status_code

            with ThreadPoolExecutor(max_workers=8) as pool:
                assert set(pool.map(predict, range(40))) == {201}
            verification = client.get("/audit/verify", headers=admin).json()
            assert verification["ok"], verification
            events = client.get("/audit/events", params={"limit": 1000}, headers=admin).json()
        actions = [event["action"] for event in events["events"]]
        # The registry was synced once, before the workers started, not once per worker.
        assert actions.count("model.register") == 2
        assert actions.count("prediction.create") == 40

        # An idle connection outlives httpx's 5 s keep-alive expiry: a client that reuses a
        # connection it still believes open never races the server's close.
        assert _get_twice_on_one_connection(server.port, idle_seconds=5.5) == [
            b"HTTP/1.1 200 OK"] * 2
    finally:
        server.stop()
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in workers), "a worker outlived the server"
    text = log.read_text()
    assert text.count("Application startup complete") == WORKERS
    assert "W-" not in text  # patient ids never reach the log


def test_keep_alive_is_configurable(tmp_path: Path) -> None:
    env = {**os.environ, "MEDORA_HOME": str(tmp_path), "MEDORA_SECRET_KEY": SECRET}
    with running_service(["--keep-alive", "1"], env=env, log=tmp_path / "server.log") as server:
        assert _get_twice_on_one_connection(server.port, idle_seconds=2.5) == [
            b"HTTP/1.1 200 OK", b""]


def test_a_worker_refuses_a_database_it_would_have_to_migrate(database_url: str,
                                                               tmp_path: Path) -> None:
    settings = ServiceSettings(database_url=database_url, secret_key=SECRET,
                               registry_root=tmp_path / "registry")
    with pytest.raises(RuntimeError, match="medora db upgrade"), \
            TestClient(create_app(settings, prepare=False)):
        pass
    database = Database(database_url)
    try:
        migrate.upgrade(database)
        assert migrate.pending(database)[0] == migrate.pending(database)[1]
        migrate.require_current(database)
    finally:
        database.dispose()


def _second_worker(service):
    """Another app on the service's database and registry, acting as the same users."""
    client = TestClient(create_app(service.state.settings))
    other = type(service)(client, service.password_hash, service.patient)
    other._headers = service._headers  # the same users, already in the database
    return other


def test_each_worker_checks_its_serving_version_against_the_database(service) -> None:
    """Two apps on one database, as two workers: what one changes, the other's next
    prediction obeys, though it had remembered another serving version."""
    first = service
    assert first.set_status(1, "approve").status_code == 200
    first.user("clinician")
    second = _second_worker(first)
    with second.client:
        assert first.prediction("MRN-1")["model_version"] == 1
        assert first.state.models.serving_hint(TASK).version == 1

        assert second.set_status(2, "approve").status_code == 200  # v2 serves from now on
        assert first.prediction("MRN-2")["model_version"] == 2
        assert first.state.models.serving_hint(TASK).version == 2

        assert second.set_status(2, "stop", "drift").status_code == 200
        stopped = first.predict("MRN-3")
        assert stopped.status_code == 503 and "drift" in stopped.json()["detail"]
        assert first.state.models.serving_hint(TASK) is None
    history = first.request("GET", "/audit/events", params={"limit": 100}).json()["events"]
    assert [e["action"] for e in history].count("prediction.create") == 2


def test_serving_models_are_loaded_at_start(serving) -> None:
    restarted = _second_worker(serving)
    with restarted.client:
        hint = restarted.state.models.serving_hint(TASK)
        assert hint is not None and hint.version == 1
        assert (TASK, 1) in restarted.state.models._models


_HOLDER = """
import fcntl, os, sys, time
descriptor = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
fcntl.flock(descriptor, fcntl.LOCK_EX)
print("held", flush=True)
time.sleep(float(sys.argv[2]))
"""


def test_sqlite_writers_of_all_processes_queue_at_one_gate(tmp_path: Path) -> None:
    path = tmp_path / "medora.db"
    first, second = Database(f"sqlite:///{path}"), Database(f"sqlite:///{path}")
    try:
        assert first._gate is second._gate is write_gate(path)  # one line per process
        migrate.upgrade(first)
        with first.write():
            pass
        lock_file = tmp_path / "medora.db.write-lock"
        assert lock_file.exists() and stat.S_IMODE(lock_file.stat().st_mode) == 0o600

        # Another process holding the gate: a writer here waits for it, then gives up with an
        # error after the timeout, as SQLite's own busy timeout would.
        holder = subprocess.Popen([sys.executable, "-c", _HOLDER, str(lock_file), "1.5"],
                                  stdout=subprocess.PIPE, text=True)
        try:
            assert holder.stdout is not None and holder.stdout.readline() == "held\n"
            held = time.monotonic()
            with pytest.raises(TimeoutError), write_gate(path).hold(timeout=0.3):
                pass
            assert 0.3 <= time.monotonic() - held < 1.4
            with write_gate(path).hold(timeout=10):  # let in once the holder is gone
                assert time.monotonic() - held >= 1.4
        finally:
            holder.kill()
            holder.wait()
    finally:
        first.dispose()
        second.dispose()
