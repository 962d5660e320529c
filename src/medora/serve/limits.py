"""Request size limits: a body larger than its limit answers 413 before it is parsed.

Every request is held to the service's limit (1 MiB), except the requests a
:class:`LargerLimit` names, which an area asks for (:meth:`Area.body_limits
<medora.core.area.Area.body_limits>`: an EHR prediction's body is one patient's whole FHIR
Bundle). Their 413 names the limit and the setting that raises it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from fastapi import HTTPException, status
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send


@dataclass(frozen=True)
class LargerLimit:
    """A limit of its own for the requests ``applies`` picks, and what the 413 says of it."""

    max_bytes: int
    applies: Callable[[Scope, Headers], bool]
    requests: str  # which requests, as the 413 names them
    setting: str  # where the limit is set

    @property
    def detail(self) -> str:
        return (f"request body larger than the {self.max_bytes}-byte limit "
                f"({self.max_bytes / (1 << 20):g} MiB) for {self.requests}; raise it with "
                f"{self.setting}")


class BodySizeLimit:
    """ASGI middleware enforcing ``max_bytes`` (or the first of ``larger`` that applies to the
    request) on the declared Content-Length and, for bodies sent without one (chunked), on the
    bytes actually received."""

    def __init__(self, app: ASGIApp, max_bytes: int, larger: Sequence[LargerLimit] = ()
                 ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.detail = f"request body larger than the {max_bytes}-byte limit"
        self.larger = tuple(larger)

    def _limit(self, scope: Scope, headers: Headers) -> tuple[int, str]:
        for limit in self.larger:
            if limit.applies(scope, headers):
                return limit.max_bytes, limit.detail
        return self.max_bytes, self.detail

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        max_bytes, detail = self._limit(scope, headers)
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            response = JSONResponse({"detail": detail},
                                    status_code=status.HTTP_413_CONTENT_TOO_LARGE)
            await response(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes:
                    # Raised while the body is read, before any handler uses it; FastAPI
                    # answers with this status.
                    raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, detail)
            return message

        await self.app(scope, limited_receive, send)
