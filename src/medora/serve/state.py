"""What every request handler shares: settings, database, model store, loaded models, metrics."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from anyio import CapacityLimiter
from fastapi import Depends, Request

from medora.registry.store import ModelStore
from medora.serve.db import Database
from medora.serve.observability import Metrics
from medora.serve.scoring import ModelCache
from medora.serve.settings import ServiceSettings


@dataclass(frozen=True)
class ServiceState:
    settings: ServiceSettings
    database: Database
    store: ModelStore
    models: ModelCache
    metrics: Metrics
    # Threads that may run model work at once. The work holds the GIL most of the time, so
    # more threads than cores only make each request slower; more processes (`medora serve
    # --workers N`) add throughput.
    model_threads: CapacityLimiter


def get_state(request: Request) -> ServiceState:
    return request.app.state.service


async def _state(request: Request) -> ServiceState:
    # async: a plain attribute read need not cost a trip through the threadpool
    return get_state(request)


State = Annotated[ServiceState, Depends(_state)]
