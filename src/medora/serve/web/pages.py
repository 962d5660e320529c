"""Rendering the pages: the templates, the navigation, error pages and the route class that
turns a page's problems into HTML instead of the API's JSON."""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from jinja2 import Environment
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.templating import Jinja2Templates

from medora.registry.card import template_environment
from medora.serve import scoring
from medora.serve.contract import TaskServing
from medora.serve.db import Role, utc_now
from medora.serve.errors import ServiceError
from medora.serve.schemas import PredictionInfo
from medora.serve.web.session import (
    AUDIT_READERS,
    CSRF_FIELD,
    MODEL_VIEWERS,
    REVIEWERS,
    Forbidden,
    LoginRequired,
    WebSession,
    login_redirect,
    optional_session,
    role_label,
)

STATIC_PATH = "/static"
# No script runs on these pages and nothing loads from elsewhere; the pages show patient data,
# so no cache (shared or the browser's back button) may keep them.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self' data:; "
                               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "Cache-Control": "no-store",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}
ERROR_TITLES = {400: "Bad request", 403: "Not allowed", 404: "Not found", 409: "Conflict",
                503: "Unavailable"}


@dataclass(frozen=True)
class NavigationItem:
    label: str
    path: str
    roles: tuple[Role, ...]


NAVIGATION = (
    NavigationItem("Worklist", "/worklist", REVIEWERS),
    NavigationItem("Models", "/admin/models", MODEL_VIEWERS),
    NavigationItem("Audit log", "/audit", AUDIT_READERS),
)


def navigation(session: WebSession) -> list[NavigationItem]:
    return [item for item in NAVIGATION if session.may(item.roles)]


# Where each user starts: the first of these their role may see (every role has one).
HOMES = ("/worklist", "/audit", "/admin/models")


def home_path(session: WebSession) -> str:
    allowed = {item.path for item in navigation(session)}
    return next(path for path in HOMES if path in allowed)


def percent(fraction: float, digits: int = 1) -> str:
    return f"{100 * fraction:.{digits}f}%"


def time_ago(moment: datetime, now: datetime | None = None) -> str:
    seconds = int(((now or utc_now()) - moment).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit} ago"
    return "just now"


def details_text(details: dict[str, Any]) -> str:
    """An audit event's details as ``key: value`` pairs; JSON only where a value is not text."""
    return "; ".join(f"{key}: {value if isinstance(value, str) else json.dumps(value)}"
                     for key, value in details.items())


def flag_label(prediction: PredictionInfo) -> str:
    """What the prediction's flag says, in its area's words ("outside domain", "in overlap")."""
    try:
        return scoring.serving(prediction.task).flag_label(prediction)
    except ServiceError:  # a task no longer installed
        return TaskServing.flag_labels[0 if prediction.flagged else 1]


def subject(prediction: PredictionInfo) -> str:
    """Who or what the prediction is about ("Patient", "Compound")."""
    try:
        return scoring.serving(prediction.task).subject
    except ServiceError:
        return TaskServing.subject


def _environment() -> Environment:
    environment = template_environment(autoescape=True)
    environment.filters.update(percent=percent, time_ago=time_ago, details_text=details_text,
                               role_label=role_label)
    environment.globals.update(navigation=navigation, flag_label=flag_label, subject=subject,
                               CSRF_FIELD=CSRF_FIELD,
                               STATIC_PATH=STATIC_PATH)
    return environment


templates = Jinja2Templates(env=_environment())


def render(request: Request, name: str, session: WebSession | None, *, status_code: int = 200,
           **context: Any) -> HTMLResponse:
    return templates.TemplateResponse(request, f"web/{name}",
                                      {"session": session, **context}, status_code=status_code)


async def error_page(request: Request, status_code: int, detail: str) -> HTMLResponse:
    session = await run_in_threadpool(optional_session, request)
    return render(request, "error.html", session, status_code=status_code,
                  title=ERROR_TITLES.get(status_code, "Error"), detail=detail)


async def not_found(request: Request, error: HTTPException) -> Response:
    """The app's answer to an unknown address: a page for browsers, the API's JSON for others."""
    if "text/html" not in request.headers.get("accept", ""):
        return await http_exception_handler(request, error)
    response = await error_page(request, 404, "There is no page at this address.")
    response.headers.update(SECURITY_HEADERS)
    return response


class PageRoute(APIRoute):
    """A page's route: a missing session redirects to the log-in page, a wrong role, a bad
    address and the service's refusals answer with an HTML page, and every answer carries the
    pages' security headers. The JSON API's own error handlers never see these."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                response = await handler(request)
            except LoginRequired as problem:
                response = login_redirect(request, problem.reason)
            except Forbidden as problem:
                response = await error_page(request, 403, problem.detail)
            except ServiceError as error:
                response = await error_page(request, error.status_code, error.detail)
            except RequestValidationError as error:
                in_path = any(item["loc"][0] == "path" for item in error.errors())
                response = await error_page(request, 404 if in_path else 400,
                                            "There is no page at this address." if in_path
                                            else "The address has an invalid parameter.")
            response.headers.update(SECURITY_HEADERS)
            return response

        return page_handler


def page_router() -> APIRouter:
    return APIRouter(route_class=PageRoute, default_response_class=HTMLResponse,
                     include_in_schema=False)
