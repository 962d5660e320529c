"""Who is calling and what they may do: FastAPI dependencies for authentication and roles.

People log in with the OAuth2 password flow (POST /auth/token) and send the JWT as a bearer
token; machine clients send an API key in ``X-API-Key``. A missing, expired or tampered
credential answers 401 with ``WWW-Authenticate: Bearer``; a role that may not act answers 403.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import jwt
from fastapi import Depends, HTTPException, status
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer

from medora.serve import accounts
from medora.serve.credentials import read_access_token
from medora.serve.db import Role
from medora.serve.schemas import Problem
from medora.serve.state import State


@dataclass(frozen=True)
class Principal:
    """The authenticated caller."""

    name: str
    role: Role
    via: Literal["token", "api_key"]


bearer = OAuth2PasswordBearer(tokenUrl="auth/token", auto_error=False,
                              description="Log in with a user name and password.")
api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False,
                              description="An API key from `medora users key NAME`.")


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail,
                         headers={"WWW-Authenticate": "Bearer"})


def current_user(state: State, token: Annotated[str | None, Depends(bearer)],
                 api_key: Annotated[str | None, Depends(api_key_header)]) -> Principal:
    """The caller, from an API key or a bearer token, checked against the user table on every
    request so that a deleted user or changed role takes effect at once (one indexed lookup,
    a fraction of a millisecond: not worth a cache that would delay a revocation)."""
    if api_key:
        with state.database.read_statement() as connection:
            identity = accounts.identity_for_api_key(connection, api_key)
        if identity is None:
            raise _unauthorized("unknown API key")
        return Principal(*identity, "api_key")
    if not token:
        raise _unauthorized("not authenticated: send a bearer token from POST /auth/token or "
                            "an API key in the X-API-Key header")
    try:
        claims = read_access_token(token, state.settings)
    except jwt.ExpiredSignatureError:
        raise _unauthorized("the access token has expired; log in again") from None
    except jwt.InvalidTokenError:
        raise _unauthorized("invalid access token") from None
    with state.database.read_statement() as connection:
        role = accounts.role_of(connection, claims["sub"])
    if role is None or role != claims["role"]:
        raise _unauthorized("the access token no longer matches the account; log in again")
    return Principal(claims["sub"], role, "token")


def require_roles(*roles: Role) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency that lets through only callers with one of ``roles``."""
    allowed = frozenset(roles)

    async def dependency(principal: Annotated[Principal, Depends(current_user)]) -> Principal:
        # async: checking a role need not cost a trip through the threadpool
        if principal.role not in allowed:
            raise HTTPException(status.HTTP_403_FORBIDDEN,
                                f"a user with role {principal.role} may not do this; it needs "
                                f"one of: {', '.join(sorted(allowed))}")
        return principal

    return dependency


# The answers every authenticated route may give, for the documentation.
AUTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "Missing, expired or invalid credentials."},
    403: {"model": Problem, "description": "The caller's role may not do this."},
}

# Who may do what; each route declares one of these.
AnyUser = Annotated[Principal, Depends(current_user)]
ModelReader = Annotated[Principal, Depends(require_roles(
    "admin", "data_scientist", "clinician", "auditor"))]
ModelManager = Annotated[Principal, Depends(require_roles("admin", "data_scientist"))]
Predictor = Annotated[Principal, Depends(require_roles("admin", "data_scientist", "clinician"))]
Reviewer = Annotated[Principal, Depends(require_roles("admin", "clinician"))]
AuditReader = Annotated[Principal, Depends(require_roles("admin", "auditor"))]
MetricsReader = Annotated[Principal, Depends(require_roles(
    "admin", "data_scientist", "auditor"))]
