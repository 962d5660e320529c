"""The audit log: an append-only hash chain of every login, prediction, review and model change.

Each event's hash covers its predecessor's hash, its sequence number and its content, so editing,
deleting or reordering any event breaks every hash after it. Truncating the newest events cannot
be detected from the chain alone: record the head hash that ``verify`` reports elsewhere.

Details name things (prediction ids, input fingerprints, model versions), never patient inputs.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from medora.serve.db import AuditEvent, Executor, dialect_of, utc_now

GENESIS_HASH = "0" * 64
# The advisory lock that serialises appends on PostgreSQL (any constant unique to the chain).
_CHAIN_LOCK_KEY = 0x6D65_646F_7261_02


_LOCK = select(func.pg_advisory_xact_lock(_CHAIN_LOCK_KEY))
_HEAD = (select(AuditEvent.sequence, AuditEvent.hash)
         .order_by(AuditEvent.sequence.desc()).limit(1))
_INSERT = insert(AuditEvent.__table__)


def event_hash(prev_hash: str, sequence: int, at: datetime, actor: str, action: str,
               target: str, details: dict[str, Any]) -> str:
    """SHA-256 of the event's fields as canonical JSON (sorted keys, no whitespace)."""
    payload = json.dumps(
        [prev_hash, sequence, at.isoformat(timespec="microseconds"), actor, action, target,
         details],
        sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return hashlib.sha256(payload.encode()).hexdigest()


def lock_chain(executor: Executor) -> None:
    """Hold the chain's lock until the transaction ends: on PostgreSQL a transaction-scoped
    advisory lock (a row lock could not cover the empty chain); on SQLite the write
    transaction already holds the database's only write lock."""
    if dialect_of(executor) == "postgresql":
        executor.execute(_LOCK)


def append(executor: Executor, *, actor: str, action: str, target: str,
           details: dict[str, Any] | None = None) -> AuditEvent:
    """Add the next event to the chain inside the caller's transaction.

    Appends are serialised by :func:`lock_chain`, held until commit, so call this as the last
    step of a transaction. The event is inserted at once; the one returned is a detached copy.

    The chain stays linear with any number of threads and processes appending: on SQLite the
    write transaction (``BEGIN IMMEDIATE``) holds the database's only write lock from its
    start; on PostgreSQL the advisory lock is taken before the head is read, and each
    statement of a READ COMMITTED transaction sees everything committed before it began, so
    the head read after the lock is the newest. The primary key on the sequence and the unique
    predecessor hash refuse a fork even if both failed.
    """
    lock_chain(executor)
    last = executor.execute(_HEAD).first()
    sequence, prev_hash = (last.sequence + 1, last.hash) if last else (1, GENESIS_HASH)
    at = utc_now()
    details = details or {}
    values = {"sequence": sequence, "at": at, "actor": actor, "action": action,
              "target": target, "details": details, "prev_hash": prev_hash,
              "hash": event_hash(prev_hash, sequence, at, actor, action, target, details)}
    # A plain INSERT, sent now: the ORM's unit of work would cost more than the rest of the
    # append, on every prediction.
    executor.execute(_INSERT, values)
    return AuditEvent(**values)


def events_after(session: Session, sequence: int, limit: int) -> list[AuditEvent]:
    """Up to ``limit`` events following ``sequence``, in order."""
    return list(session.scalars(select(AuditEvent).where(AuditEvent.sequence > sequence)
                                .order_by(AuditEvent.sequence).limit(limit)))


@dataclass(frozen=True)
class VerificationResult:
    """``checked`` events were intact; ``first_bad_sequence`` is where the chain first breaks
    (a changed, missing or reordered event), ``head_hash`` the last intact hash."""

    ok: bool
    checked: int
    first_bad_sequence: int | None
    head_hash: str


def verify_chain(session: Session, batch_size: int = 1000) -> VerificationResult:
    """Recompute every hash from the first event and check each links to its predecessor."""
    expected_sequence, expected_prev = 1, GENESIS_HASH
    events = session.scalars(select(AuditEvent).order_by(AuditEvent.sequence)
                             .execution_options(yield_per=batch_size))
    for event in events:
        intact = (event.sequence == expected_sequence and event.prev_hash == expected_prev
                  and event.hash == event_hash(event.prev_hash, event.sequence, event.at,
                                               event.actor, event.action, event.target,
                                               event.details))
        if not intact:
            return VerificationResult(False, expected_sequence - 1, expected_sequence,
                                      expected_prev)
        expected_sequence, expected_prev = expected_sequence + 1, event.hash
    return VerificationResult(True, expected_sequence - 1, None, expected_prev)
