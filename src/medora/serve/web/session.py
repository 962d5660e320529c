"""Who is using the pages: the session cookie, the roles each page admits, and CSRF tokens.

The session is the API's own access token (:func:`~medora.serve.credentials.issue_access_token`)
in an HttpOnly, SameSite=Strict cookie, checked on every request by the API's
:func:`~medora.serve.security.current_user`, so a page and a JSON route accept exactly the same
people. Every state-changing form carries a CSRF token, an HMAC of the session token under the
service's secret: a page of another site can neither read it nor compute it. The log-in form,
sent before any session exists, is bound the same way to a random nonce in a cookie of its own.
"""

# No `from __future__ import annotations` here: FastAPI reads the dependencies' annotations at
# run time, and those made inside allow() and form_for() name their arguments, which only an
# annotation evaluated where it is written can see.
import hashlib
import hmac
import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Literal
from urllib.parse import urlencode

import jwt
from fastapi import Depends, HTTPException, Request, Response
from fastapi.responses import RedirectResponse
from starlette.datastructures import FormData

from medora.serve.credentials import read_access_token
from medora.serve.db import Role
from medora.serve.security import Principal, current_user
from medora.serve.settings import ServiceSettings
from medora.serve.state import State, get_state

SESSION_COOKIE = "medora_session"
LOGIN_COOKIE = "medora_login"
LOGIN_PATH = "/login"
CSRF_FIELD = "csrf_token"
LOGIN_NONCE_SECONDS = 3600

# The roles each page admits: those of the JSON routes it stands for (see security.py), except
# the model page, which is for the people who manage models and those who audit them.
REVIEWERS: tuple[Role, ...] = ("admin", "clinician")
PREDICTORS: tuple[Role, ...] = ("admin", "data_scientist", "clinician")
MODEL_MANAGERS: tuple[Role, ...] = ("admin", "data_scientist")
MODEL_VIEWERS: tuple[Role, ...] = (*MODEL_MANAGERS, "auditor")
AUDIT_READERS: tuple[Role, ...] = ("admin", "auditor")

LoginReason = Literal["required", "expired", "invalid", "logged_out"]
LOGIN_MESSAGES: dict[LoginReason, str] = {
    "required": "Log in to continue.",
    "expired": "Your session has expired; log in again.",
    "invalid": "Your session is no longer valid; log in again.",
    "logged_out": "You have logged out.",
}


class LoginRequired(Exception):
    """No usable session: the page answers with a redirect to the log-in page."""

    def __init__(self, reason: LoginReason) -> None:
        super().__init__(reason)
        self.reason = reason


class Forbidden(Exception):
    """The user may not see this page or send this form: the page answers 403."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


@dataclass(frozen=True)
class WebSession:
    user: Principal
    csrf_token: str

    def may(self, roles: tuple[Role, ...]) -> bool:
        return self.user.role in roles


@dataclass(frozen=True)
class SubmittedForm:
    """A form whose CSRF token checked out, sent by a user whose role may send it."""

    session: WebSession
    fields: FormData

    def text(self, name: str) -> str:
        """The field's value with surrounding white space removed; "" when absent."""
        value = self.fields.get(name)
        return value.strip() if isinstance(value, str) else ""


def _sign(settings: ServiceSettings, purpose: str, value: str) -> str:
    # The purpose keeps a token made for one use from being valid for another.
    message = f"{purpose}\x00{value}".encode()
    return hmac.new(settings.secret_key.encode(), message, hashlib.sha256).hexdigest()


def _same(sent: str, expected: str) -> bool:
    return hmac.compare_digest(sent.encode(), expected.encode())


def _set_cookie(request: Request, response: Response, name: str, value: str,
                max_age: int | None = None, path: str = "/") -> None:
    # Out of reach of scripts, never sent with requests started by other sites, and over TLS
    # only when the page came over TLS.
    response.set_cookie(name, value, max_age=max_age, path=path, httponly=True,
                        samesite="strict", secure=request.url.scheme == "https")


def start_session(request: Request, response: Response, token: str) -> None:
    # A browser-session cookie: the token's own expiry ends the session, and the browser keeps
    # sending it until then so that the log-in page can say the session expired.
    _set_cookie(request, response, SESSION_COOKIE, token)
    response.delete_cookie(LOGIN_COOKIE, path=LOGIN_PATH)


def _why_refused(token: str, settings: ServiceSettings) -> LoginReason:
    try:
        read_access_token(token, settings)
    except jwt.ExpiredSignatureError:
        return "expired"
    except jwt.InvalidTokenError:
        pass
    return "invalid"


def read_session(request: Request, state: State) -> WebSession:
    """The session of the request's cookie; :class:`LoginRequired` when there is none."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise LoginRequired("required")
    try:
        user = current_user(state, token, api_key=None)
    except HTTPException:
        raise LoginRequired(_why_refused(token, state.settings)) from None
    return WebSession(user, _sign(state.settings, "csrf", token))


def optional_session(request: Request) -> WebSession | None:
    """The session, if the request has a usable one (for pages anyone may see)."""
    try:
        return read_session(request, get_state(request))
    except LoginRequired:
        return None


def allow(*roles: Role) -> Callable[[WebSession], WebSession]:
    """A dependency admitting only users with one of ``roles``."""

    def dependency(session: Annotated[WebSession, Depends(read_session)]) -> WebSession:
        if not session.may(roles):
            raise Forbidden(f"This page is for: {', '.join(role_label(r) for r in roles)}. "
                            f"You are logged in as {role_label(session.user.role)}.")
        return session

    return dependency


def form_for(*roles: Role) -> Callable[..., Awaitable[SubmittedForm]]:
    """A dependency admitting a form only from users with one of ``roles``, and only with the
    CSRF token of their session."""

    guard = allow(*roles)

    async def dependency(request: Request,
                         session: Annotated[WebSession, Depends(guard)]) -> SubmittedForm:
        form = SubmittedForm(session, await request.form())
        if not _same(form.text(CSRF_FIELD), session.csrf_token):
            raise Forbidden("This form was not sent from a page of this session, so nothing "
                            "was changed. Reload the page and send it again.")
        return form

    return dependency


def new_login_nonce() -> str:
    return secrets.token_urlsafe(32)


def login_csrf_token(nonce: str, settings: ServiceSettings) -> str:
    """The CSRF token of a log-in form whose nonce cookie holds ``nonce``."""
    return _sign(settings, "login", nonce)


def keep_login_nonce(request: Request, response: Response, nonce: str) -> None:
    _set_cookie(request, response, LOGIN_COOKIE, nonce, LOGIN_NONCE_SECONDS, path=LOGIN_PATH)


def login_form_is_genuine(request: Request, sent: str, settings: ServiceSettings) -> bool:
    nonce = request.cookies.get(LOGIN_COOKIE)
    return nonce is not None and _same(sent, login_csrf_token(nonce, settings))


# A path on this site: one slash, then no slash or backslash (browsers read "//host" and "/\host"
# as another site), and no white space (browsers drop tabs and newlines from addresses).
_LOCAL_PATH = re.compile(r"/(?![/\\])[^\s\\]*")


def local_path(candidate: str) -> str | None:
    """``candidate`` if it is a path on this site, so that a link cannot make the log-in page
    send anyone elsewhere."""
    return candidate if _LOCAL_PATH.fullmatch(candidate) else None


def login_redirect(request: Request, reason: LoginReason) -> RedirectResponse:
    """To the log-in page, coming back afterwards to the page that was asked for."""
    query: dict[str, str] = {"reason": reason}
    if request.method == "GET" and request.url.path != LOGIN_PATH:
        query["next"] = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    response = RedirectResponse(f"{LOGIN_PATH}?{urlencode(query)}", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


def role_label(role: Role) -> str:
    return role.replace("_", " ")

