"""The web pages: server-rendered HTML for clinicians, model managers and auditors.

The pages call the same service functions as the JSON API and admit the same people: the
session is the API's own access token in a cookie, and every form carries a CSRF token bound to
it (see :mod:`medora.serve.web.session`). The JSON API reads no cookies, so it needs none.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from medora.serve.web import audit, clinical, login, models
from medora.serve.web.pages import STATIC_PATH, not_found


def install(app: FastAPI) -> None:
    """Add the pages, their style sheet and a 404 page for browsers to ``app``."""
    for module in (login, clinical, models, audit):
        app.include_router(module.router)
    app.mount(STATIC_PATH, StaticFiles(packages=[("medora", "templates/web/static")]),
              name="static")
    app.add_exception_handler(404, not_found)
