"""Errors the service's operations raise, each with the HTTP status it answers with and a
message written for the person who sent the request."""

from __future__ import annotations

from typing import ClassVar


class ServiceError(Exception):
    status_code: ClassVar[int]

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFoundError(ServiceError):
    status_code = 404


class ConflictError(ServiceError):
    """The request is valid but the current state forbids it (e.g. approving a retired model)."""

    status_code = 409


class UnavailableError(ServiceError):
    """The model that would answer may not be used now (stopped, or its artifact is missing)."""

    status_code = 503
