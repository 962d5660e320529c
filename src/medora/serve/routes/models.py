"""Model versions: listing, cards, and the status changes that decide what serves."""

from __future__ import annotations

from itertools import groupby
from typing import Annotated, Any

from fastapi import APIRouter
from fastapi import Path as PathParameter

from medora.serve import lifecycle
from medora.serve.db import ModelVersionRow
from medora.serve.errors import NotFoundError
from medora.serve.lifecycle import StatusAction
from medora.serve.schemas import (
    Justification,
    ModelCard,
    ModelSummary,
    ModelVersionInfo,
    Problem,
    Rollback,
    StatusNote,
)
from medora.serve.security import AUTH_RESPONSES, ModelManager, ModelReader, Principal
from medora.serve.state import ServiceState, State

router = APIRouter(prefix="/models", tags=["models"], responses=AUTH_RESPONSES)
TaskName = Annotated[str, PathParameter(max_length=128, examples=["cardio.framingham_chd"])]
Version = Annotated[int, PathParameter(ge=1, le=2**31 - 1, examples=[2])]
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": Problem}}
CONFLICT = {**NOT_FOUND, 409: {"model": Problem,
                               "description": "The version's status forbids it."}}


def _summary(task: str, rows: list[ModelVersionRow]) -> ModelSummary:
    in_service = [row for row in rows if row.status in lifecycle.IN_SERVICE]
    current = in_service[-1] if in_service else None
    if current is None:
        state, serving = "no approved version", None
    elif current.status == "stopped":
        state, serving = "stopped", None
    else:
        state, serving = "serving", current.version
    return ModelSummary(task=task, versions=len(rows), latest_version=rows[-1].version,
                        serving_version=serving, state=state)


@router.get("")
def list_models(_: ModelReader, state: State) -> list[ModelSummary]:
    """Every task with registered versions, and which version serves it."""
    with state.database.read() as session:
        rows = lifecycle.all_versions(session)
    return [_summary(task, list(group)) for task, group in groupby(rows, lambda r: r.task)]


@router.post("/sync")
def sync_registry(principal: ModelManager, state: State) -> list[ModelVersionInfo]:
    """Register versions trained since the service started (as drafts); returns them."""
    added = lifecycle.sync_registry(state.database, state.store, actor=principal.name)
    return [ModelVersionInfo.model_validate(row) for row in added]


@router.get("/{task}/versions", responses=NOT_FOUND)
def list_versions(task: TaskName, _: ModelReader, state: State) -> list[ModelVersionInfo]:
    """Every version of a task, oldest first, with its status and test metrics."""
    with state.database.read() as session:
        rows = lifecycle.versions_of(session, task)
    return [ModelVersionInfo.model_validate(row) for row in rows]


@router.get("/{task}/versions/{version}", responses=NOT_FOUND)
def get_version(task: TaskName, version: Version, _: ModelReader,
                state: State) -> ModelVersionInfo:
    with state.database.read() as session:
        return ModelVersionInfo.model_validate(lifecycle.get_version(session, task, version))


@router.get("/{task}/versions/{version}/card", responses=NOT_FOUND)
def get_card(task: TaskName, version: Version, _: ModelReader, state: State) -> ModelCard:
    """The version's model card (Markdown)."""
    with state.database.read() as session:
        lifecycle.get_version(session, task, version)
    try:
        markdown = state.store.card(state.store.get(task, version))
    except (LookupError, FileNotFoundError):
        raise NotFoundError(f"the registry has no model card for {task} v{version}") from None
    return ModelCard(task=task, version=version, markdown=markdown)


def _change(state: ServiceState, task: str, version: int, action: StatusAction,
            principal: Principal, reason: str) -> ModelVersionInfo:
    row = lifecycle.change_status(state.database, state.store, task, version, action,
                                  principal.name, reason)
    return ModelVersionInfo.model_validate(row)


@router.post("/{task}/versions/{version}/approve", responses=CONFLICT)
def approve(task: TaskName, version: Version, body: StatusNote, principal: ModelManager,
            state: State) -> ModelVersionInfo:
    """Approve a draft for clinical use: the newest approved version serves its task."""
    return _change(state, task, version, "approve", principal, body.reason)


@router.post("/{task}/versions/{version}/stop", responses=CONFLICT)
def stop(task: TaskName, version: Version, body: Justification, principal: ModelManager,
         state: State) -> ModelVersionInfo:
    """Stop an approved version at once: its task answers 503, naming who stopped it and why,
    until the version is resumed, retired or rolled back."""
    return _change(state, task, version, "stop", principal, body.reason)


@router.post("/{task}/versions/{version}/resume", responses=CONFLICT)
def resume(task: TaskName, version: Version, body: StatusNote, principal: ModelManager,
           state: State) -> ModelVersionInfo:
    """Put a stopped version back into service."""
    return _change(state, task, version, "resume", principal, body.reason)


@router.post("/{task}/versions/{version}/retire", responses=CONFLICT)
def retire(task: TaskName, version: Version, body: StatusNote, principal: ModelManager,
           state: State) -> ModelVersionInfo:
    """Take a version out of service for good."""
    return _change(state, task, version, "retire", principal, body.reason)


@router.post("/{task}/rollback", responses=CONFLICT)
def rollback(task: TaskName, body: Justification, principal: ModelManager,
             state: State) -> Rollback:
    """Retire the version in service (approved or stopped) and approve again the newest
    earlier version that was approved and never stopped."""
    retired, restored = lifecycle.rollback(state.database, state.store, task, principal.name,
                                           body.reason)
    return Rollback(retired=ModelVersionInfo.model_validate(retired),
                    restored=ModelVersionInfo.model_validate(restored))
