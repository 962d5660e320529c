"""The audit log, for auditors: reading it page by page and verifying its hash chain."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from medora.serve import audit
from medora.serve.schemas import AuditEventInfo, AuditPage, ChainVerification
from medora.serve.security import AUTH_RESPONSES, AuditReader
from medora.serve.state import State

router = APIRouter(prefix="/audit", tags=["audit"], responses=AUTH_RESPONSES)


@router.get("/events")
def list_events(
    _: AuditReader, state: State,
    after: Annotated[int, Query(ge=0, le=2**31 - 1, description="Return events after this "
                                                                "sequence number.")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> AuditPage:
    """Events in order, oldest first."""
    with state.database.read() as session:
        rows = audit.events_after(session, after, limit)
    return AuditPage(events=[AuditEventInfo.model_validate(row) for row in rows],
                     next_after=rows[-1].sequence if len(rows) == limit else None)


@router.get("/verify")
def verify_chain(_: AuditReader, state: State) -> ChainVerification:
    """Recompute the whole hash chain: any changed, removed or reordered event is found."""
    with state.database.read() as session:
        return ChainVerification.model_validate(audit.verify_chain(session))
