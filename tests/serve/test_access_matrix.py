"""Every endpoint x every role, by token and by API key; and every endpoint refuses a missing,
expired, tampered or unknown credential."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property
from typing import Any

import pytest

from medora.areas.risk.cardio import FRAMINGHAM_CHD
from medora.serve.credentials import issue_access_token
from medora.serve.db import ROLES, Role, utc_now
from medora.serve.settings import ServiceSettings

TASK = FRAMINGHAM_CHD.name
EVERYONE: tuple[Role, ...] = ROLES
MANAGERS: tuple[Role, ...] = ("admin", "data_scientist")
PREDICTORS: tuple[Role, ...] = ("admin", "data_scientist", "clinician")
REVIEWERS: tuple[Role, ...] = ("admin", "clinician")
AUDITORS: tuple[Role, ...] = ("admin", "auditor")
PUBLIC = {("GET", "/health"), ("POST", "/auth/token")}


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    roles: tuple[Role, ...]
    body: dict[str, Any] | None = field(default=None, compare=False)

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


ENDPOINTS = [
    Endpoint("GET", "/auth/me", EVERYONE),
    Endpoint("GET", "/tasks", PREDICTORS),
    Endpoint("GET", "/models", EVERYONE),
    Endpoint("POST", "/models/sync", MANAGERS),
    Endpoint("GET", "/models/{task}/versions", EVERYONE),
    Endpoint("GET", "/models/{task}/versions/{version}", EVERYONE),
    Endpoint("GET", "/models/{task}/versions/{version}/card", EVERYONE),
    Endpoint("POST", "/models/{task}/versions/{version}/approve", MANAGERS, {}),
    Endpoint("POST", "/models/{task}/versions/{version}/stop", MANAGERS, {"reason": "matrix"}),
    Endpoint("POST", "/models/{task}/versions/{version}/resume", MANAGERS, {}),
    Endpoint("POST", "/models/{task}/versions/{version}/retire", MANAGERS, {}),
    Endpoint("POST", "/models/{task}/rollback", MANAGERS, {"reason": "matrix"}),
    Endpoint("POST", "/predict/{task}", PREDICTORS,
             {"patient_id": "MRN-1", "inputs": {"male": 1, "age": 50, "sysBP": 130}}),
    Endpoint("POST", "/predict/{task}/bundle", PREDICTORS),  # a tabular task's: 404 or 422
    Endpoint("GET", "/predictions/{prediction_id}", PREDICTORS),
    Endpoint("GET", "/predictions/{prediction_id}/history", PREDICTORS),
    Endpoint("GET", "/predictions/{prediction_id}/atom-map", PREDICTORS),
    Endpoint("POST", "/predictions/{prediction_id}/reviews", REVIEWERS, {"action": "escalate"}),
    Endpoint("GET", "/reviews/worklist", REVIEWERS),
    Endpoint("GET", "/audit/events", AUDITORS),
    Endpoint("GET", "/audit/verify", AUDITORS),
    Endpoint("GET", "/metrics", ("admin", "data_scientist", "auditor")),
]


def _tampered(token: str) -> str:
    """The token with its role claim raised to admin and the signature left as it was."""
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    forged = base64.urlsafe_b64encode(json.dumps({**claims, "role": "admin"}).encode())
    return f"{header}.{forged.rstrip(b'=').decode()}.{signature}"


class Matrix:
    """The shared service, one user per role, and every kind of credential."""

    def __init__(self, service) -> None:
        self.service = service
        self.prediction_id = service.prediction()["id"]
        self.keys = {role: service.api_key(service.user(role)) for role in ROLES}

    def call(self, endpoint: Endpoint, headers: dict[str, str]):
        path = endpoint.path.format(task=TASK, version=2, prediction_id=self.prediction_id)
        return self.service.client.request(endpoint.method, path, headers=headers,
                                           json=endpoint.body)

    def credential(self, via: str, role: Role) -> dict[str, str]:
        return self.service.headers(role) if via == "token" else self.keys[role]

    @cached_property
    def bad_credentials(self) -> dict[str, dict[str, str]]:
        settings = self.service.state.settings
        other_secret = ServiceSettings(database_url="", secret_key="another-" + "k" * 40,
                                       registry_root=settings.registry_root)
        expired = self.service.token("admin", "admin", now=utc_now() - timedelta(hours=1))
        valid = self.service.token("clinician", "clinician")
        return {
            "none": {},
            "expired": {"Authorization": f"Bearer {expired}"},
            "tampered": {"Authorization": f"Bearer {_tampered(valid)}"},
            "other_secret": {"Authorization": "Bearer "
                             + issue_access_token("admin", "admin", other_secret)},
            "not_a_jwt": {"Authorization": "Bearer not.a.jwt"},
            "unknown_key": {"X-API-Key": "mdr_" + "x" * 43},
        }


@pytest.fixture(scope="module")
def matrix(shared_service) -> Matrix:
    return Matrix(shared_service)


def test_the_matrix_covers_every_endpoint(matrix: Matrix) -> None:
    paths = matrix.service.client.get("/openapi.json").json()["paths"]
    documented = {(method.upper(), path) for path, item in paths.items() for method in item}
    assert documented - PUBLIC == {(endpoint.method, endpoint.path) for endpoint in ENDPOINTS}


@pytest.mark.parametrize("via", ["token", "api_key"])
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
def test_each_role_gets_exactly_its_endpoints(matrix: Matrix, endpoint: Endpoint, role: Role,
                                             via: str) -> None:
    response = matrix.call(endpoint, matrix.credential(via, role))
    if role in endpoint.roles:
        assert response.status_code not in {401, 403, 500}, response.text
    else:
        assert response.status_code == 403, response.text
        assert response.json()["detail"].startswith(f"a user with role {role} may not do this")


@pytest.mark.parametrize("credential", ["none", "expired", "tampered", "other_secret",
                                        "not_a_jwt", "unknown_key"])
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
def test_bad_credentials_are_401(matrix: Matrix, endpoint: Endpoint, credential: str) -> None:
    response = matrix.call(endpoint, matrix.bad_credentials[credential])
    assert response.status_code == 401, response.text
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_public_endpoints_need_no_credentials(matrix: Matrix) -> None:
    client = matrix.service.client
    assert client.get("/health").status_code == 200
    assert client.get("/openapi.json").status_code == 200
    assert client.get("/docs").status_code == 200
    assert client.post("/auth/token", data={"username": "nobody", "password": "x" * 12}
                       ).status_code == 401
