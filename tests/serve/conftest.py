"""Service fixtures: one quick training per session; per test a fresh registry, database and
app. Database tests run on SQLite always and on PostgreSQL when ``MEDORA_TEST_POSTGRES_URL``
names a database the tests may wipe."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from medora.areas.molecules.graph import DMPNNRegressor
from medora.areas.molecules.regression import ConformalRegressor, TrainingReference
from medora.registry.card import render_card
from medora.registry.store import CARD_NAME, ModelStore, ModelVersion
from medora.serve import accounts, migrate
from medora.serve.app import create_app
from medora.serve.credentials import hash_password, issue_access_token
from medora.serve.db import Database, Role, User, utc_now
from medora.serve.settings import ServiceSettings
from medora.serve.state import ServiceState
from medora.core.registry import get_task
from medora.areas.risk.cardio import FRAMINGHAM_CHD
from medora.areas.molecules.tasks import INTERVAL_COVERAGE
from medora.areas.risk.run import train_task
from medora.train.run import Run, RunConfig
from medora.train.trainer import TrainerConfig

TASK = FRAMINGHAM_CHD.name
MOLECULE_TASK = "mol.freesolv"
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
def molecule_model(freesolv_sample: tuple[list, np.ndarray]) -> ConformalRegressor:
    """A tiny D-MPNN (hidden size 16, 2 members, 2 epochs) on 120 FreeSolv molecules, with
    conformal intervals calibrated on 20 more: a served molecule model in a few seconds."""
    mols, y = freesolv_sample
    trainer = TrainerConfig(max_epochs=2, patience=2, batch_size=32, progress=False)
    model = DMPNNRegressor(hidden_size=16, ffn_hidden_size=16, n_members=2, trainer=trainer,
                           seed=0).fit(mols[:120], y[:120], mols[120:140], y[120:140])
    return ConformalRegressor.calibrate(model, mols[120:140], y[120:140],
                                        TrainingReference.from_molecules(mols[:120], y[:120]),
                                        coverage=INTERVAL_COVERAGE)


def register_molecule_model(store: ModelStore, model: ConformalRegressor) -> ModelVersion:
    """Register ``model`` as the next draft of the FreeSolv task."""
    return store.register(MOLECULE_TASK, model, model_name="dmpnn", model_kind="graph",
                          run_id="test", data_fingerprint="0" * 64, metrics={}, config={},
                          documents=lambda record: {CARD_NAME: f"# {MOLECULE_TASK}"})


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


@pytest.fixture
def molecule_service(database_url: str, registry: ModelStore, molecule_model: ConformalRegressor,
                     password_hash: str, patient: dict[str, float | None]) -> Iterator[Service]:
    """The app on a fresh database and registry with Framingham v1 and FreeSolv v1 approved."""
    register_molecule_model(registry, molecule_model)
    with running_service(database_url, registry, password_hash, patient) as service:
        assert service.set_status(1, "approve").status_code == 200
        assert service.request("POST", f"/models/{MOLECULE_TASK}/versions/1/approve",
                               json={}).status_code == 200
        yield service


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
