"""The FastAPI application: routes, error answers, middleware, and what happens at start-up."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from anyio import CapacityLimiter
from fastapi import FastAPI, Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from medora import __version__
from medora.core.errors import InputValidationError
from medora.core.registry import areas
from medora.registry.store import ModelStore
from medora.serve import lifecycle, migrate, web
from medora.serve.db import Database
from medora.serve.docs import mount_offline_docs
from medora.serve.errors import ServiceError
from medora.serve.limits import BodySizeLimit
from medora.serve.observability import Metrics, RequestObserver
from medora.serve.routes import audit, auth, models, predictions, reviews, system
from medora.serve.scoring import ModelCache
from medora.serve.settings import ServiceSettings
from medora.serve.state import ServiceState

DESCRIPTION = """
Calibrated, explained predictions from approved models, reviewed by clinicians, every action in
a tamper-evident audit log.

Log in with `POST /auth/token` (user name and password) and send the token as
`Authorization: Bearer <token>`, or send an API key in `X-API-Key`. Roles: **admin** (everything),
**data_scientist** (model management, predictions), **clinician** (predictions, worklist,
reviews, model cards), **auditor** (audit log, model list and cards).
"""


async def _service_error(_: Request, error: ServiceError) -> JSONResponse:
    return JSONResponse({"detail": error.detail}, status_code=error.status_code)


async def _invalid_request(_: Request, error: RequestValidationError) -> JSONResponse:
    """FastAPI's validation errors without the rejected values echoed back: they may be
    patient data, and may not even be JSON (NaN)."""
    errors = [{key: value for key, value in item.items() if key != "input"}
              for item in error.errors()]
    return JSONResponse({"detail": jsonable_encoder(errors)},
                        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)


async def _invalid_inputs(_: Request, error: InputValidationError) -> JSONResponse:
    """Every problem with the patient's inputs, in FastAPI's validation-error shape."""
    return JSONResponse({"detail": [{"type": "invalid_input", "loc": ["body", "inputs"],
                                     "msg": problem} for problem in error.problems]},
                        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)


def prepare_database(settings: ServiceSettings) -> None:
    """Migrate the database to the newest schema and register the model versions found in the
    registry: what ``medora serve`` does once before its workers start."""
    database = Database(settings.database_url)
    try:
        migrate.upgrade(database)
        lifecycle.sync_registry(database, ModelStore(settings.registry_root))
    finally:
        database.dispose()


def create_app(settings: ServiceSettings | None = None, *, prepare: bool = True) -> FastAPI:
    """The service, configured by ``settings`` (default: from the environment).

    Start-up migrates the database to the newest schema and registers model versions found in
    the registry (with ``prepare=False`` it only checks that the schema is current, because
    ``medora serve`` has done both once for all its workers), then loads the serving models;
    shutdown closes the database connections.
    """
    settings = settings or ServiceSettings()
    metrics = Metrics.create()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if prepare:
            prepare_database(settings)
        database = Database(settings.database_url)
        try:
            if not prepare:
                migrate.require_current(database)
            store = ModelStore(settings.registry_root)
            models = ModelCache(store)
            models.preload(database)
            app.state.service = ServiceState(
                settings=settings, database=database, store=store, models=models,
                metrics=metrics, model_threads=CapacityLimiter(settings.model_threads))
            yield
        finally:
            database.dispose()

    app = FastAPI(title="medora", version=__version__, description=DESCRIPTION,
                  lifespan=lifespan, docs_url=None, redoc_url=None)
    mount_offline_docs(app)
    for module in (auth, models, predictions, reviews, audit, system):
        app.include_router(module.router)
    for area in areas():  # an area's own routes: an atom map, a FHIR Bundle upload
        for router in area.routers():
            app.include_router(router)
    web.install(app)  # the web pages, outside the OpenAPI schema
    app.add_exception_handler(ServiceError, _service_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(InputValidationError, _invalid_inputs)
    # The last added middleware runs first: the observer sees every request, 413s included.
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes,
                       larger=[limit for area in areas()
                               for limit in area.body_limits(settings)])
    app.add_middleware(RequestObserver, metrics=metrics)
    return app


def create_worker_app() -> FastAPI:
    """One worker process of ``medora serve --workers N`` (a uvicorn app factory): settings
    from the environment, the database already prepared by the parent process, and one torch
    thread (the worker processes are the parallelism)."""
    import torch

    torch.set_num_threads(1)
    return create_app(ServiceSettings(), prepare=False)
