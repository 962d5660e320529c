"""Fixtures for the web pages' tests: browser-like clients logged in as a user of each role."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from medora.serve.db import Role
from medora.serve.web.session import CSRF_FIELD, SESSION_COOKIE

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
