"""Logging in (OAuth2 password flow) and asking who one is."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status
from fastapi.security import OAuth2PasswordRequestForm

from medora.serve import accounts, audit
from medora.serve.credentials import issue_access_token
from medora.serve.schemas import AccessToken, Identity, Problem
from medora.serve.security import AUTH_RESPONSES, AnyUser
from medora.serve.state import State

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/token", responses={401: {"model": Problem}})
def login(form: Annotated[OAuth2PasswordRequestForm, Depends()], state: State) -> AccessToken:
    """Exchange a user name and password for a short-lived access token. Every attempt is
    audited."""
    with state.database.read() as session:
        user = accounts.authenticate(session, form.username, form.password)
    with state.database.write() as session:
        if user is None:
            named = form.username if accounts.USER_NAME.fullmatch(form.username) else "?"
            audit.append(session, actor="anonymous", action="login.failed",
                         target=f"user:{named}")
        else:
            audit.append(session, actor=user.name, action="login", target=f"user:{user.name}")
    if user is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "incorrect user name or password",
                            headers={"WWW-Authenticate": "Bearer"})
    lifetime = state.settings.token_lifetime
    return AccessToken(access_token=issue_access_token(user.name, user.role, state.settings),
                       expires_in=int(lifetime.total_seconds()))


@router.get("/me", responses=AUTH_RESPONSES)
def who_am_i(principal: AnyUser) -> Identity:
    """The authenticated caller: name, role and how the request authenticated."""
    return Identity(name=principal.name, role=principal.role, via=principal.via)
