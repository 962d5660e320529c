"""Metrics and the request log, written so that no patient data can reach either.

A request is recorded by its method, route template (``/predictions/{prediction_id}``, never
the filled-in path), status and duration: never bodies, query values or patient ids. Unhandled
errors are logged by type and code location only, because exception messages can quote data.
"""

from __future__ import annotations

import logging
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

access_log = logging.getLogger("medora.serve.access")
error_log = logging.getLogger("medora.serve.errors")
UNMATCHED = "<unmatched>"
# Any token is a valid HTTP method; others are counted together so that clients cannot grow
# the metrics without bound.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


@dataclass(frozen=True)
class Metrics:
    """The service's Prometheus metrics, in a registry of their own (one per app)."""

    registry: CollectorRegistry
    requests: Counter
    latency: Histogram
    predictions: Counter
    reviews: Counter

    @classmethod
    def create(cls) -> Metrics:
        registry = CollectorRegistry()
        return cls(
            registry=registry,
            requests=Counter("medora_http_requests", "HTTP requests by route and status.",
                             ["method", "route", "status"], registry=registry),
            latency=Histogram("medora_http_request_duration_seconds",
                              "Time to answer an HTTP request, by route.", ["method", "route"],
                              registry=registry),
            predictions=Counter("medora_predictions", "Predictions stored, by task.", ["task"],
                                registry=registry),
            reviews=Counter("medora_reviews", "Reviews stored, by action.", ["action"],
                            registry=registry),
        )


def route_template(scope: Scope) -> str:
    route = scope.get("route")  # set by the router once a route matched
    return getattr(route, "path_format", None) or UNMATCHED


def _code_location(error: BaseException) -> str:
    frames = traceback.extract_tb(error.__traceback__)[-6:]
    return " <- ".join(f"{Path(frame.filename).name}:{frame.lineno} {frame.name}"
                       for frame in reversed(frames))


class RequestObserver:
    """ASGI middleware: one log line and the HTTP metrics per request; an unhandled error
    becomes a plain 500 here instead of a traceback with its message in the server log."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        method = scope["method"] if scope["method"] in KNOWN_METHODS else "OTHER"
        status = 500
        response_started = False

        async def observed_send(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status, response_started = message["status"], True
            await send(message)

        try:
            await self.app(scope, receive, observed_send)
        except Exception as error:
            error_log.error("unhandled %s in %s %s at %s", type(error).__name__, method,
                            route_template(scope), _code_location(error))
            if not response_started:
                response = JSONResponse({"detail": "internal error; it has been logged"},
                                        status_code=500)
                await response(scope, receive, send)
        finally:
            seconds = time.perf_counter() - started
            route = route_template(scope)
            self.metrics.requests.labels(method, route, str(status)).inc()
            self.metrics.latency.labels(method, route).observe(seconds)
            access_log.info("%s %s %d %.1fms", method, route, status, seconds * 1000)
