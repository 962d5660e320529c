"""Shared fixtures: an isolated medora home per test, small real-data slices, and the service:
one quick training per session, per test a fresh registry, database and app, and page clients
logged in by role. Database tests run on SQLite always and on PostgreSQL when
``MEDORA_TEST_POSTGRES_URL`` names a database the tests may wipe."""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from medora.areas.risk.cardio import FRAMINGHAM_CHD
from medora.areas.risk.run import train_task
from medora.areas.survival.data import SurvivalDataset
from medora.areas.survival.tasks import SurvivalTask
from medora.core.registry import get_task, task_registry
from medora.registry.card import render_card
from medora.registry.store import CARD_NAME, ModelStore, ModelVersion
from medora.serve import accounts, migrate
from medora.serve.app import create_app
from medora.serve.credentials import hash_password, issue_access_token
from medora.serve.db import Database, Role, User, utc_now
from medora.serve.settings import ServiceSettings
from medora.serve.state import ServiceState
from medora.serve.web.session import CSRF_FIELD, SESSION_COOKIE
from medora.train.run import Run, RunConfig


@pytest.fixture(autouse=True)
def medora_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own registry, so none sees another's models."""
    home = tmp_path / "medora-home"
    monkeypatch.setenv("MEDORA_HOME", str(home))
    monkeypatch.setenv("COLUMNS", "400")  # rich tables unabridged, so tests read whole cells
    return home


@pytest.fixture(scope="session")
def framingham_sample() -> tuple[pd.DataFrame, np.ndarray]:
    """A stratified 600-patient slice of the real Framingham data, missing values included."""
    task = get_task("cardio.framingham_chd")
    _, x, y = task.load_xy()
    rng = np.random.default_rng(0)
    picks = np.concatenate([rng.choice(np.flatnonzero(y == label), size, replace=False)
                            for label, size in ((0, 480), (1, 120))])
    picks.sort()
    return x.iloc[picks].reset_index(drop=True), y[picks]


@pytest.fixture(scope="session")
def freesolv_sample() -> tuple[list, np.ndarray]:
    """160 real FreeSolv molecules (RDKit Mol) with their hydration free energies."""
    task = get_task("mol.freesolv")
    _, table, y = task.load_molecules()
    picks = np.sort(np.random.default_rng(0).choice(len(y), 160, replace=False))
    return [table.mols[i] for i in picks], y[picks]


@pytest.fixture
def small_molecule_task(monkeypatch: pytest.MonkeyPatch):
    """``test.freesolv_small``: 150 real FreeSolv molecules, registered for this test only, so
    runs and CLI verbs exercise the whole molecule path in seconds."""
    from medora.data.bundled import Dataset

    full = get_task("mol.freesolv")

    def load() -> Dataset:
        dataset = full.load()
        return Dataset(frame=dataset.frame.sample(150, random_state=0).reset_index(drop=True),
                       provenance=dataset.provenance)

    task = replace(full, name="test.freesolv_small", load=load)
    monkeypatch.setitem(task_registry(), task.name, task)
    return task


@pytest.fixture(scope="session")
def gbsg2_subset() -> Callable[[str, int, int], SurvivalTask]:
    """Builds a survival task ``name`` on ``n`` real GBSG2 patients drawn with ``seed``: enough
    events for the folds, quick to train. The caller registers it for as long as it needs."""
    full = get_task("oncology.gbsg2_recurrence")

    def build(name: str, n: int, seed: int) -> SurvivalTask:
        def load() -> SurvivalDataset:
            data = full.load()
            rows = np.sort(np.random.default_rng(seed).choice(len(data.time), n, replace=False))
            return replace(data, features=data.features.iloc[rows].reset_index(drop=True),
                           time=data.time[rows], event=data.event[rows])

        return replace(full, name=name, load=load)

    return build


@pytest.fixture
def small_gbsg2(gbsg2_subset: Callable[[str, int, int], SurvivalTask],
                monkeypatch: pytest.MonkeyPatch) -> SurvivalTask:
    """``test.gbsg2_small``: 300 real GBSG2 patients, registered for this test only."""
    task = gbsg2_subset("test.gbsg2_small", 300, 0)
    monkeypatch.setitem(task_registry(), task.name, task)
    return task


TASK = FRAMINGHAM_CHD.name
PASSWORD = "correct horse battery staple"
SECRET = "test-signing-secret-" + "s" * 40
POSTGRES_URL = os.environ.get("MEDORA_TEST_POSTGRES_URL")
DATABASES = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.skipif(
        not POSTGRES_URL, reason="set MEDORA_TEST_POSTGRES_URL to run the PostgreSQL cases")),
]


def fresh_database_url(kind: str, directory: Path) -> str:
    """An empty database: a new SQLite file, or the PostgreSQL test database with its public
    schema dropped and created again."""
    if kind == "sqlite":
        return f"sqlite:///{directory / 'medora.db'}"
    assert POSTGRES_URL
    database = Database(POSTGRES_URL)
    with database.engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    database.dispose()
    return POSTGRES_URL


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return fresh_database_url(request.param, tmp_path)


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    """The fresh database, migrated to the newest schema."""
    database = Database(database_url)
    migrate.upgrade(database)
    yield database
    database.dispose()


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """One quick training of the Framingham task: the MLP and its baselines (about 12 s)."""
    config = RunConfig(quick=True, progress=False, out_dir=tmp_path_factory.mktemp("run"),
                       register=False)  # each test registers the models it needs
    return train_task(get_task(TASK), config)


def register_model(store: ModelStore, run: Run, model_name: str) -> ModelVersion:
    """Register one of the run's trained models as the next version, with its own card."""
    result = run.results[model_name]
    as_candidate = dataclasses.replace(run, primary_model=model_name)
    return store.register(
        TASK, result.predictor, model_name=model_name, model_kind=result.kind,
        run_id=run.run_id, data_fingerprint=run.data_fingerprint,
        metrics={name: estimate.to_dict() for name, estimate in result.metrics.items()},
        config=run.config.to_dict(),
        documents=lambda record: {CARD_NAME: render_card(as_candidate, record)})


def registry_with_drafts(root: Path, run: Run) -> ModelStore:
    """A registry with two drafts: v1 the logistic regression (fast to explain), v2 the MLP."""
    store = ModelStore(root)
    register_model(store, run, "logistic_regression")
    register_model(store, run, "mlp")
    return store


@pytest.fixture
def registry(tmp_path: Path, trained_run: Run) -> ModelStore:
    """The test's own registry, with v1 and v2 drafts (see :func:`registry_with_drafts`)."""
    return registry_with_drafts(tmp_path / "registry", trained_run)


@pytest.fixture
def register_version(registry: ModelStore, trained_run: Run) -> Callable[[str], ModelVersion]:
    return lambda model_name: register_model(registry, trained_run, model_name)


@pytest.fixture(scope="session")
def password_hash() -> str:
    """argon2 costs ~0.2 s per hash by design, so the tests' password is hashed once."""
    return hash_password(PASSWORD)


@pytest.fixture(scope="session")
def patient() -> dict[str, float | None]:
    """A real Framingham participant's inputs, missing values included."""
    _, x, _ = get_task(TASK).load_xy()
    return {name: None if pd.isna(value) else float(value)
            for name, value in x.iloc[3].items()}


class Service:
    """A running app and its test client, with helpers to act as users of each role."""

    def __init__(self, client: TestClient, password_hash: str,
                 patient: dict[str, float | None]) -> None:
        self.client = client
        self.password_hash = password_hash
        self.patient = patient
        self._headers: dict[Role, dict[str, str]] = {}

    @property
    def state(self) -> ServiceState:
        return self.client.app.state.service  # type: ignore[attr-defined]

    @property
    def database(self) -> Database:
        return self.state.database

    def add_user(self, name: str, role: Role) -> None:
        """A user whose password is PASSWORD, hashed once per session (see password_hash)."""
        with self.database.write() as session:
            session.add(User(name=name, role=role, password_hash=self.password_hash,
                             created_at=utc_now()))

    def login(self, name: str, password: str = PASSWORD) -> httpx.Response:
        return self.client.post("/auth/token", data={"username": name, "password": password})

    def token(self, name: str, role: Role, now: datetime | None = None) -> str:
        return issue_access_token(name, role, self.state.settings, now)

    def user(self, role: Role) -> str:
        """The name of a user with ``role`` (named after it), created on first use."""
        if role not in self._headers:
            self.add_user(role, role)
            self._headers[role] = {"Authorization": f"Bearer {self.token(role, role)}"}
        return role

    def headers(self, role: Role) -> dict[str, str]:
        """Bearer headers of the user with ``role``."""
        return self._headers[self.user(role)]

    def api_key(self, name: str) -> dict[str, str]:
        with self.database.write() as session:
            return {"X-API-Key": accounts.add_api_key(session, name, actor="test")}

    def request(self, method: str, path: str, role: Role = "admin",
                headers: dict[str, str] | None = None, **kwargs: Any) -> httpx.Response:
        return self.client.request(method, path, headers={**self.headers(role), **(headers or {})},
                                   **kwargs)

    def set_status(self, version: int, action: str, reason: str = "test",
                   role: Role = "admin") -> httpx.Response:
        return self.request("POST", f"/models/{TASK}/versions/{version}/{action}", role,
                            json={"reason": reason})

    def predict(self, patient_id: str = "MRN-0001", role: Role = "clinician",
                **inputs: float | str | None) -> httpx.Response:
        return self.request("POST", f"/predict/{TASK}", role,
                            json={"patient_id": patient_id, "inputs": {**self.patient,
                                                                       **inputs}})

    def prediction(self, patient_id: str = "MRN-0001", **inputs: float | str | None
                   ) -> dict[str, Any]:
        response = self.predict(patient_id, **inputs)
        assert response.status_code == 201, response.text
        return response.json()


@contextmanager
def running_service(database_url: str, registry: ModelStore, password_hash: str,
                    patient: dict[str, float | None]) -> Iterator[Service]:
    """The app on ``database_url`` and ``registry``, started (migrated, registry synced) and
    shut down afterwards."""
    settings = ServiceSettings(database_url=database_url, secret_key=SECRET,
                               registry_root=registry.root)
    with TestClient(create_app(settings)) as client:
        yield Service(client, password_hash, patient)


@pytest.fixture
def service(database_url: str, registry: ModelStore, password_hash: str,
            patient: dict[str, float | None]) -> Iterator[Service]:
    """The app on a fresh database and registry (v1 and v2 drafts)."""
    with running_service(database_url, registry, password_hash, patient) as service:
        yield service


@pytest.fixture
def serving(service: Service) -> Service:
    """The service with v1 (logistic regression) approved."""
    assert service.set_status(1, "approve").status_code == 200
    return service


@pytest.fixture(scope="module", params=DATABASES)
def shared_service(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
                   trained_run: Run, password_hash: str,
                   patient: dict[str, float | None]) -> Iterator[Service]:
    """One app for a whole module whose tests only read its answers' status (the access
    matrix), with v1 approved."""
    directory = tmp_path_factory.mktemp("shared")
    url = fresh_database_url(request.param, directory)
    store = registry_with_drafts(directory / "registry", trained_run)
    with running_service(url, store, password_hash, patient) as service:
        assert service.set_status(1, "approve").status_code == 200
        yield service


_CSRF = re.compile(rf'name="{CSRF_FIELD}" value="([^"]*)"')


class WebUser:
    """A client of the pages with its own cookies, logged in as the user named after ``role``
    (None: not logged in) with a token like the one the log-in page issues."""

    def __init__(self, service: Any, role: Role | None) -> None:
        cookies = {SESSION_COOKIE: service.token(service.user(role), role)} if role else {}
        # Not entered as a context manager: the service's own client already started the app.
        self.client = TestClient(service.client.app, cookies=cookies, follow_redirects=False,
                                 headers={"Accept": "text/html,application/xhtml+xml"})

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.get(path, **kwargs)

    @staticmethod
    def csrf_token(page: httpx.Response) -> str:
        match = _CSRF.search(page.text)
        assert match, page.text
        return match[1]

    def submit(self, page: str, action: str, data: dict[str, str],
               csrf: str | None = None) -> httpx.Response:
        """Post ``data`` to ``action`` as the form on ``page`` does: with that page's CSRF
        token, unless ``csrf`` gives another ("" sends none)."""
        token = self.csrf_token(self.get(page)) if csrf is None else csrf
        return self.client.post(action, data={**data, CSRF_FIELD: token} if token else data)


Pages = Callable[[Role | None], WebUser]


@pytest.fixture
def web(serving: Any) -> Pages:
    """Page clients of the ``serving`` service (v1 approved), by role."""
    return lambda role: WebUser(serving, role)


@pytest.fixture(scope="module")
def shared_web(shared_service: Any) -> Pages:
    """Page clients of the module's ``shared_service``, by role."""
    return lambda role: WebUser(shared_service, role)


def load_as_pickled_before_the_move(model: object, old_names: dict[str, str], path: Path
                                    ) -> object:
    """``model`` pickled with its classes' modules named as before the areas moved
    (``old_names``: new module -> old), written to ``path`` and loaded as the registry loads an
    artifact."""
    import pickle

    import joblib

    from medora.registry.legacy import moved_modules_importable

    # Protocol 2 names each class's module as text, so the old names can be written back.
    data = pickle.dumps(model, protocol=2)
    for new, old in old_names.items():
        data = data.replace(f"c{new}\n".encode(), f"c{old}\n".encode())
    assert b"medora.areas" not in data
    path.write_bytes(data)
    with moved_modules_importable():
        return joblib.load(path)
