"""Health (no authentication, for load balancers) and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Response, status
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from medora.serve.schemas import Health
from medora.serve.security import AUTH_RESPONSES, MetricsReader
from medora.serve.state import State

router = APIRouter(tags=["system"])


@router.get("/health", responses={503: {"model": Health}})
def health(state: State, response: Response) -> Health:
    """Whether the service and its database answer. Needs no authentication."""
    try:
        with state.database.read() as session:
            session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        return Health(status="unavailable", database="unreachable")
    return Health(status="ok", database="ok")


@router.get("/metrics", response_class=Response, responses={
    200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text format."},
    **AUTH_RESPONSES})
def metrics(_: MetricsReader, state: State) -> Response:
    """Request counts and latency by route and status, predictions by task, reviews by
    action."""
    return Response(generate_latest(state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
