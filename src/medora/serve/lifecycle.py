"""Model versions in service: which one answers a task, and approving, stopping, resuming,
retiring and rolling back versions.

The database holds each version's status; every change is mirrored to the registry's
version.json after it commits, so ``medora models`` agrees. A crash between the two is repaired
by :func:`sync_registry` on the next start.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import Session

from medora.registry.store import ModelStore, ModelVersion, VersionStatus
from medora.serve import audit
from medora.serve.db import Database, Executor, ModelVersionRow, utc_now
from medora.serve.errors import ConflictError, NotFoundError, UnavailableError

StatusAction = Literal["approve", "stop", "resume", "retire"]
# action -> (statuses it applies to, status it sets)
TRANSITIONS: dict[StatusAction, tuple[tuple[VersionStatus, ...], VersionStatus]] = {
    "approve": (("draft",), "approved"),
    "stop": (("approved",), "stopped"),
    "resume": (("stopped",), "approved"),
    "retire": (("draft", "approved", "stopped"), "retired"),
}
# A version in service is approved, or stopped and waiting to be resumed or retired; drafts
# and retired versions never answer.
IN_SERVICE: tuple[VersionStatus, ...] = ("approved", "stopped")
SYSTEM_ACTOR = "system"

log = logging.getLogger(__name__)


def model_target(row: ModelVersionRow) -> str:
    return f"model:{row.task}:v{row.version}"


def _newest_in_service(task: Any, *columns: Any, lock: bool) -> Select[Any]:
    query = (select(*columns)
             .where(ModelVersionRow.task == task, ModelVersionRow.status.in_(IN_SERVICE))
             .order_by(ModelVersionRow.version.desc()).limit(1))
    return query.with_for_update(read=True) if lock else query


def serving_version(session: Session, task: str, *, lock: bool = False) -> ModelVersionRow:
    """The version that answers ``task``: the newest in service, which must be approved.

    A stopped newest version makes the task unavailable rather than falling back to an older
    one: whoever stopped it decides what serves next (resume, retire or roll back). ``lock``
    holds the version's row until commit, so a concurrent stop waits for this transaction.
    """
    row = session.scalars(_newest_in_service(task, ModelVersionRow, lock=lock)).first()
    if row is None:
        registered = session.scalar(select(func.count()).select_from(ModelVersionRow)
                                    .where(ModelVersionRow.task == task))
        if not registered:
            raise ConflictError(f"no registered model for {task}; train one with `medora "
                                f"train {task}`")
        raise ConflictError(f"{task} has no approved version; an admin or data scientist must "
                            "approve one")
    if row.status == "stopped":
        at = row.status_at.isoformat(timespec="seconds") if row.status_at else "an unknown time"
        raise UnavailableError(f"{row.label} was stopped by {row.status_by} at {at}: "
                               f"{row.status_reason}")
    return row


_SERVING_NUMBER = _newest_in_service(bindparam("task"), ModelVersionRow.version,
                                     ModelVersionRow.status, lock=True)


def still_serves(executor: Executor, task: str, version: int) -> bool:
    """Whether ``version`` is still the approved version serving ``task``, its row held until
    commit as :func:`serving_version` holds it; one prepared query for a prediction's write
    transaction (call :func:`serving_version` to learn what serves instead, and why)."""
    row = executor.execute(_SERVING_NUMBER, {"task": task}).first()
    return row is not None and row.version == version and row.status == "approved"


def versions_of(session: Session, task: str) -> list[ModelVersionRow]:
    rows = list(session.scalars(select(ModelVersionRow).where(ModelVersionRow.task == task)
                                .order_by(ModelVersionRow.version)))
    if not rows:
        raise NotFoundError(f"no registered versions of {task}")
    return rows


def get_version(session: Session, task: str, version: int, *,
                lock: bool = False) -> ModelVersionRow:
    query = select(ModelVersionRow).where(ModelVersionRow.task == task,
                                          ModelVersionRow.version == version)
    row = session.scalars(query.with_for_update() if lock else query).first()
    if row is None:
        raise NotFoundError(f"{task} has no version {version} in the service; if it was trained "
                            "after the service started, POST /models/sync")
    return row


def all_versions(session: Session) -> list[ModelVersionRow]:
    return list(session.scalars(select(ModelVersionRow)
                                .order_by(ModelVersionRow.task, ModelVersionRow.version)))


def _set_status(row: ModelVersionRow, status: VersionStatus, actor: str, reason: str,
                at: datetime) -> None:
    row.status, row.status_by, row.status_reason, row.status_at = status, actor, reason, at
    if status == "approved":
        row.approved_by = actor


def change_status(database: Database, store: ModelStore, task: str, version: int,
                  action: StatusAction, actor: str, reason: str) -> ModelVersionRow:
    """Apply ``action`` to one version; 409 when its current status does not allow it."""
    applies_to, status = TRANSITIONS[action]
    with database.write() as session:
        row = get_version(session, task, version, lock=True)
        if row.status not in applies_to:
            raise ConflictError(f"{row.label} is {row.status}; {action} applies only to a "
                                f"{' or '.join(applies_to)} version")
        previous = row.status
        _set_status(row, status, actor, reason, utc_now())
        audit.append(session, actor=actor, action=f"model.{action}", target=model_target(row),
                     details={"from": previous, "to": status, "reason": reason})
    _mirror(store, row)
    return row


def rollback(database: Database, store: ModelStore, task: str, actor: str,
             reason: str) -> tuple[ModelVersionRow, ModelVersionRow]:
    """Retire the version in service and approve again the newest earlier version that was
    approved and never stopped; returns (retired, restored)."""
    with database.write() as session:
        rows = session.scalars(select(ModelVersionRow).where(ModelVersionRow.task == task)
                               .order_by(ModelVersionRow.version.desc())
                               .with_for_update()).all()
        current = next((row for row in rows if row.status in IN_SERVICE), None)
        if current is None:
            raise ConflictError(f"{task} has no version in service to roll back")
        previous = next((row for row in rows if row.version < current.version
                         and row.approved_by is not None and row.status != "stopped"), None)
        if previous is None:
            raise ConflictError(f"{task} has no earlier approved version to roll back to")
        now = utc_now()
        _set_status(current, "retired", actor, f"rolled back to v{previous.version}: {reason}",
                    now)
        _set_status(previous, "approved", actor,
                    f"restored by roll-back from v{current.version}: {reason}", now)
        audit.append(session, actor=actor, action="model.rollback", target=f"model:{task}",
                     details={"from_version": current.version,
                              "to_version": previous.version, "reason": reason})
    _mirror(store, current)
    _mirror(store, previous)
    return current, previous


def sync_registry(database: Database, store: ModelStore,
                  actor: str = SYSTEM_ACTOR) -> list[ModelVersionRow]:
    """Add registry versions the database lacks, as drafts (approval happens here, audited),
    then make every version.json agree with the database. Returns the added versions."""
    records = store.versions()
    with database.write() as session:
        # Locked before reading, so that concurrent syncs (replicas starting together) run one
        # after the other and each sees what the other added.
        audit.lock_chain(session)
        rows = {(row.task, row.version): row for row in all_versions(session)}
        added = [_register(session, record, actor) for record in records
                 if (record.task, record.version) not in rows]
    rows |= {(row.task, row.version): row for row in added}
    for record in records:
        _mirror(store, rows[record.task, record.version], record)
    return added


def _register(session: Session, record: ModelVersion, actor: str) -> ModelVersionRow:
    row = ModelVersionRow(task=record.task, version=record.version,
                          model_name=record.model_name, status="draft", metrics=record.metrics,
                          artifact_sha256=record.artifact_sha256,
                          registered_at=datetime.fromisoformat(record.created_at))
    session.add(row)
    audit.append(session, actor=actor, action="model.register", target=model_target(row),
                 details={"model_name": record.model_name,
                          "artifact_sha256": record.artifact_sha256})
    return row


def _mirror(store: ModelStore, row: ModelVersionRow, record: ModelVersion | None = None) -> None:
    try:
        record = record or store.get(row.task, row.version)
    except LookupError:
        log.warning("%s is not in the registry at %s; its status is kept in the database only",
                    row.label, store.root)
        return
    if record.status != row.status:
        store.set_status(record, row.status, by=row.status_by or SYSTEM_ACTOR,
                         reason=row.status_reason or "")
