"""Fuzzing the API from its own OpenAPI schema: no generated request may get a 5xx.

Requests are sent as an admin (every operation is reachable) to a real app with an approved
model, on each test database, so generation explores past authentication into validation and
storage.
"""

from __future__ import annotations

import secrets
import tempfile
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from medora.serve.app import create_app
from medora.serve.settings import ServiceSettings

# The schema is read from an app that is never started: collection needs only its routes.
_schema_app = create_app(ServiceSettings(database_url="sqlite://",
                                         secret_key=secrets.token_urlsafe(48),
                                         registry_root=Path(tempfile.gettempdir())))
schema = schemathesis.openapi.from_dict(_schema_app.openapi())


@schema.parametrize()
@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_no_server_errors(case: schemathesis.Case, shared_service) -> None:
    kwargs = case.as_transport_kwargs(base_url="http://testserver",
                                      headers=shared_service.headers("admin"))
    response = shared_service.client.request(**kwargs)
    case.validate_response(response, checks=[not_a_server_error])
