"""What every request handler shares: settings, database, model store, loaded models, metrics."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

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


def get_state(request: Request) -> ServiceState:
    return request.app.state.service


State = Annotated[ServiceState, Depends(get_state)]
