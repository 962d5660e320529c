"""The model page: every task's versions with their status, test AUROC and model card, and the
forms that approve, stop, resume, retire and roll back versions (model managers only)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from itertools import groupby
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi import Path as PathParameter
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from pydantic import ValidationError
from sqlalchemy.orm import Session

from medora.evaluate.bootstrap import Estimate
from medora.registry.card import format_estimate
from medora.registry.store import ModelVersion
from medora.serve import lifecycle
from medora.serve.errors import ConflictError, UnavailableError
from medora.serve.lifecycle import StatusAction
from medora.serve.schemas import Justification, ModelVersionInfo, StatusNote
from medora.serve.state import ServiceState, State
from medora.serve.web.cards import card_html
from medora.serve.web.forms import field_errors
from medora.serve.web.pages import page_router, render
from medora.serve.web.session import (
    MODEL_MANAGERS,
    MODEL_VIEWERS,
    SubmittedForm,
    WebSession,
    allow,
    form_for,
)

router = page_router()
ModelsPage = Annotated[WebSession, Depends(allow(*MODEL_VIEWERS))]
ManagerForm = Annotated[SubmittedForm, Depends(form_for(*MODEL_MANAGERS))]
TaskName = Annotated[str, PathParameter(max_length=128)]
Version = Annotated[int, PathParameter(ge=1, le=2**31 - 1)]
PAGE_PATH = "/admin/models"
# The body each change takes in the API (routes/models.py): stopping needs a reason, and so
# does rolling back.
Reason = type[StatusNote] | type[Justification]
STATUS_REASONS: dict[StatusAction, Reason] = {
    "approve": StatusNote, "stop": Justification, "resume": StatusNote, "retire": StatusNote}


@dataclass(frozen=True)
class VersionView:
    info: ModelVersionInfo
    auroc: str
    actions: tuple[StatusAction, ...]  # the changes its status allows
    card: Markup | None


@dataclass(frozen=True)
class TaskView:
    task: str
    serving: str  # which version answers, or the service's reason why none does
    can_roll_back: bool
    versions: list[VersionView]  # newest first


@dataclass
class ChangeForm:
    """A status change that was refused: which form (see :func:`form_key`), what it asked for,
    and why it was refused."""

    key: str = ""
    change: str = ""
    reason: str = ""
    errors: dict[str, str] = field(default_factory=dict)


def form_key(task: str, action: str, version: int | None = None) -> str:
    return f"{task}:{action}" if version is None else f"{task}:v{version}:{action}"


def auroc_text(metrics: dict[str, Any]) -> str:
    """Test AUROC with its 95% CI as the model card writes it."""
    auroc = metrics.get("auroc") or {}
    value, (low, high) = auroc.get("value"), auroc.get("ci") or (None, None)
    if value is None or low is None or high is None:
        return "n/a"
    return format_estimate(Estimate(value, low, high))


def _serving(session: Session, task: str) -> str:
    try:
        row = lifecycle.serving_version(session, task)
    except (ConflictError, UnavailableError) as error:
        return error.detail
    return f"v{row.version} ({row.model_name}) answers predictions."


def _card(state: ServiceState, record: ModelVersion | None) -> Markup | None:
    if record is None:
        return None
    try:
        return card_html(state.store.card(record))
    except FileNotFoundError:
        return None


def _task_views(state: ServiceState) -> list[TaskView]:
    with state.database.read() as session:
        rows = lifecycle.all_versions(session)
        serving = {task: _serving(session, task) for task in {row.task for row in rows}}
    # One pass over the registry for every card, not one per version.
    records = {(record.task, record.version): record for record in state.store.versions()}
    views = []
    for task, group in groupby(rows, lambda row: row.task):
        versions = list(group)
        views.append(TaskView(
            task=task, serving=serving[task],
            can_roll_back=any(row.status in lifecycle.IN_SERVICE for row in versions),
            versions=[VersionView(
                info=ModelVersionInfo.model_validate(row),
                auroc=auroc_text(row.metrics),
                actions=tuple(action for action, (applies_to, _) in
                              lifecycle.TRANSITIONS.items() if row.status in applies_to),
                card=_card(state, records.get((row.task, row.version))))
                for row in reversed(versions)]))
    return views


def _models_page(request: Request, session: WebSession, state: ServiceState,
                 form: ChangeForm, status_code: int = 200) -> HTMLResponse:
    return render(request, "models.html", session, status_code=status_code,
                  tasks=_task_views(state), form=form, form_key=form_key,
                  manages=session.may(MODEL_MANAGERS))


@router.get(PAGE_PATH)
def models_page(request: Request, session: ModelsPage, state: State) -> HTMLResponse:
    return _models_page(request, session, state, ChangeForm())


def _change(request: Request, form: SubmittedForm, state: ServiceState, task: str,
            sent: ChangeForm, schema: Reason, apply: Callable[[str], object]) -> Response:
    """Check the reason as the API does and ``apply`` the change with it, then come back to
    the task; a refused change re-renders the page saying why."""
    try:
        apply(schema.model_validate({"reason": sent.reason}).reason)
    except ValidationError as error:
        sent.errors = field_errors(error)
        status_code = 422
    except ConflictError as error:
        sent.errors["reason"] = error.detail
        status_code = error.status_code
    else:
        return RedirectResponse(f"{PAGE_PATH}#model-{task}", status_code=303)
    return _models_page(request, form.session, state, sent, status_code)


@router.post(PAGE_PATH + "/{task}/versions/{version}/{action}")
def change_status(request: Request, task: TaskName, version: Version, action: StatusAction,
                  form: ManagerForm, state: State) -> Response:
    sent = ChangeForm(form_key(task, action, version), f"{action} {task} v{version}",
                      form.text("reason"))
    return _change(request, form, state, task, sent, STATUS_REASONS[action],
                   partial(lifecycle.change_status, state.database, state.store, task, version,
                           action, form.session.user.name))


@router.post(PAGE_PATH + "/{task}/rollback")
def rollback(request: Request, task: TaskName, form: ManagerForm, state: State) -> Response:
    sent = ChangeForm(form_key(task, "rollback"), f"roll back {task}", form.text("reason"))
    return _change(request, form, state, task, sent, Justification,
                   partial(lifecycle.rollback, state.database, state.store, task,
                           form.session.user.name))
