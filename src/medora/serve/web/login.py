"""Logging in and out, and the address every user starts from."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Form, HTTPException, Query, Request, Response
from fastapi.responses import RedirectResponse
from fastapi.security import OAuth2PasswordRequestForm

from medora.serve.db import ROLES
from medora.serve.routes import auth
from medora.serve.state import ServiceState, State
from medora.serve.web.pages import home_path, page_router, render
from medora.serve.web.session import (
    LOGIN_MESSAGES,
    LOGIN_PATH,
    SESSION_COOKIE,
    LoginReason,
    SubmittedForm,
    form_for,
    keep_login_nonce,
    local_path,
    login_csrf_token,
    login_form_is_genuine,
    new_login_nonce,
    optional_session,
    start_session,
)

router = page_router()
Logout = Annotated[SubmittedForm, Depends(form_for(*ROLES))]
FormText = Annotated[str, Form(max_length=2000)]


@router.get("/")
def index(request: Request) -> RedirectResponse:
    session = optional_session(request)
    return RedirectResponse(home_path(session) if session else LOGIN_PATH, status_code=303)


def _login_page(request: Request, state: ServiceState, next_path: str, *,
                message: str | None = None, error: str | None = None, username: str = "",
                status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    """The log-in form, with a fresh nonce cookie its CSRF token is bound to."""
    nonce = new_login_nonce()
    response = render(request, "login.html", None, status_code=status_code, message=message,
                      error=error, username=username, next_path=next_path,
                      csrf_token=login_csrf_token(nonce, state.settings))
    keep_login_nonce(request, response, nonce)
    response.headers.update(headers or {})
    return response


@router.get(LOGIN_PATH)
def login_page(request: Request, state: State,
               reason: Annotated[LoginReason | None, Query()] = None,
               next_path: Annotated[str, Query(alias="next", max_length=2000)] = "") -> Response:
    if session := optional_session(request):
        return RedirectResponse(local_path(next_path) or home_path(session), status_code=303)
    return _login_page(request, state, local_path(next_path) or "",
                       message=LOGIN_MESSAGES[reason] if reason else None)


@router.post(LOGIN_PATH)
def login(request: Request, state: State, username: FormText = "", password: FormText = "",
          csrf_token: FormText = "", next_path: Annotated[str, Form(alias="next")] = ""
          ) -> Response:
    next_path = local_path(next_path) or ""
    if not login_form_is_genuine(request, csrf_token, state.settings):
        return _login_page(request, state, next_path, username=username, status_code=403,
                           error="This log-in form has expired or was not sent from this "
                                 "site. Enter your user name and password again.")
    try:
        # The API's own token endpoint, called in-process: the page's log-ins and failed
        # attempts are checked and audited exactly as the API's are.
        token = auth.login(OAuth2PasswordRequestForm(username=username, password=password),
                           state)
    except HTTPException as refusal:
        return _login_page(request, state, next_path, username=username,
                           status_code=refusal.status_code, headers=refusal.headers,
                           error="Incorrect user name or password.")
    response = RedirectResponse(next_path or "/", status_code=303)
    start_session(request, response, token.access_token)
    return response


@router.post("/logout")
def logout(_: Logout) -> RedirectResponse:
    # The token stays valid until it expires (minutes): the API keeps no session state to
    # revoke. The browser forgets it now.
    response = RedirectResponse(f"{LOGIN_PATH}?reason=logged_out", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response
