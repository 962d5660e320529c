"""The audit log page: events newest first, a page at a time, under the result of verifying
the whole hash chain."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import func, select

from medora.serve import audit
from medora.serve.db import AuditEvent
from medora.serve.schemas import AuditEventInfo, ChainVerification
from medora.serve.state import State
from medora.serve.web.pages import page_router, render
from medora.serve.web.session import AUDIT_READERS, WebSession, allow

router = page_router()
AuditPage = Annotated[WebSession, Depends(allow(*AUDIT_READERS))]
PAGE_PATH = "/audit"
PAGE_SIZE = 50


@router.get(PAGE_PATH)
def audit_page(request: Request, session: AuditPage, state: State,
               before: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None
               ) -> HTMLResponse:
    """Up to PAGE_SIZE events before sequence number ``before`` (default: the newest)."""
    with state.database.read() as db:
        verification = ChainVerification.model_validate(audit.verify_chain(db))
        # Sequence numbers run 1, 2, 3... without gaps (the chain checks it), so a page of the
        # newest events is the window just below the head.
        head = db.scalar(select(func.max(AuditEvent.sequence))) or 0
        newest = min(head, before - 1) if before else head
        oldest = max(newest - PAGE_SIZE, 0)
        rows = audit.events_after(db, oldest, newest - oldest)
    newer = (None if newest >= head else PAGE_PATH if newest + PAGE_SIZE >= head
             else f"{PAGE_PATH}?before={newest + PAGE_SIZE + 1}")
    return render(request, "audit.html", session, verification=verification,
                  events=[AuditEventInfo.model_validate(row) for row in reversed(rows)],
                  head=head, newer=newer,
                  older=f"{PAGE_PATH}?before={oldest + 1}" if oldest > 0 else None)
