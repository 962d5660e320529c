"""The clinician's pages: the worklist with its new-prediction form (whose inputs the task's
area reads), and the prediction's page (which its area draws: a risk and its drivers, a
molecule's atom map, a survival curve, an EHR timeline), its review history and the review
form."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Annotated, Literal

from fastapi import Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import TypeAdapter, ValidationError
from sqlalchemy import select

from medora.core.errors import InputValidationError
from medora.core.task import Task
from medora.serve import lifecycle, scoring, worklist
from medora.serve.catalog import task_info
from medora.serve.contract import Outcome
from medora.serve.db import ModelVersionRow
from medora.serve.errors import ConflictError, ServiceError
from medora.serve.schemas import (
    OverrideReview,
    PatientId,
    PredictionInfo,
    ReviewInfo,
    ReviewRequest,
)
from medora.serve.state import ServiceState, State
from medora.serve.web.forms import field_errors
from medora.serve.web.pages import page_router, render
from medora.serve.web.session import (
    PREDICTORS,
    REVIEWERS,
    SubmittedForm,
    WebSession,
    allow,
    form_for,
)

router = page_router()
ReviewerPage = Annotated[WebSession, Depends(allow(*REVIEWERS))]
ReviewerForm = Annotated[SubmittedForm, Depends(form_for(*REVIEWERS))]
PredictorPage = Annotated[WebSession, Depends(allow(*PREDICTORS))]
WorklistStatus = Literal["pending", "escalated"]
WORKLIST_LIMIT = 200
INPUT_PREFIX = "input:"  # keeps a task's input names apart from the form's own fields
_patient_ids = TypeAdapter(PatientId)
_reviews = TypeAdapter(ReviewRequest)
PATIENT_ID_RULE = ("use 1 to 64 letters, digits, '.', '_', ':', '/' or '-', starting with a "
                   "letter or digit")
CLINICIAN_VALUE_RULE = "enter your own estimate of the risk, a number from 0 to 100 (%)"
VALUE_RULE = "enter your own estimate of the value, {range}"
ACTION_RULE = "choose what to do with the prediction"


def prediction_path(prediction_id: uuid.UUID) -> str:
    return f"/predictions/{prediction_id}/view"


@dataclass
class PredictionForm:
    """The new-prediction form as sent, with its problems."""

    task: Task | None
    patient_id: str = ""
    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def input_names(task: Task) -> list[str]:
    return list(scoring.serving(task.name).features)


def _predictable_tasks(state: ServiceState) -> list[Task]:
    """The registered tasks with at least one model version registered with the service."""
    with state.database.read() as session:
        served = set(session.scalars(select(ModelVersionRow.task).distinct()))
    return [task for task in scoring.served_tasks() if task.name in served]


def _worklist_page(request: Request, session: WebSession, state: ServiceState,
                   review_status: WorklistStatus, form: PredictionForm,
                   tasks: list[Task],
                   status_code: int = 200) -> HTMLResponse:
    with state.database.read() as db:
        predictions = worklist.worklist(db, review_status, None, WORKLIST_LIMIT)
    return render(request, "worklist.html", session, status_code=status_code,
                  predictions=[PredictionInfo.model_validate(p) for p in predictions],
                  review_status=review_status, form=form, tasks=tasks,
                  inputs=task_info(form.task).inputs if form.task else [],
                  serving=scoring.serving(form.task.name) if form.task else None,
                  prediction_path=prediction_path, limit=WORKLIST_LIMIT)


@router.get("/worklist")
def worklist_page(
    request: Request, session: ReviewerPage, state: State,
    review_status: Annotated[WorklistStatus, Query(alias="status")] = "pending",
    task: Annotated[str | None, Query(max_length=128)] = None,
) -> HTMLResponse:
    """Predictions awaiting review, highest risk first, and the form for a new one for the
    chosen task (the first one with a model by default)."""
    tasks = _predictable_tasks(state)
    chosen = next((t for t in tasks if t.name == task), tasks[0] if tasks else None)
    return _worklist_page(request, session, state, review_status, PredictionForm(chosen), tasks)


def _attribute(sent: PredictionForm, task: Task, problems: list[str]) -> None:
    """Put each of the scorer's problems beside its input ("column age: ...", "smiles: ...");
    the others (no approved model, an unknown input, ...) above the form."""
    prefixes = {prefix: name for name in input_names(task)
                for prefix in (f"column {name}: ", f"{name}: ")}
    for problem in problems:
        prefix = next((prefix for prefix in prefixes if problem.startswith(prefix)), None)
        if prefix is None:
            sent.problems.append(problem)
        else:
            sent.errors[prefixes[prefix]] = problem.removeprefix(prefix)


@router.post("/worklist/predict")
def new_prediction(request: Request, form: ReviewerForm, state: State) -> Response:
    """Score one patient (or molecule) with the chosen task's serving model, as POST
    /predict/{task} (or the area's own route, a bundle's) does, and show the new prediction."""
    tasks = _predictable_tasks(state)
    task = next((t for t in tasks if t.name == form.text("task")), None)
    sent = PredictionForm(task, form.text("patient_id"))
    if task is None:
        sent.errors["task"] = "choose one of the tasks listed"
        return _worklist_page(request, form.session, state, "pending", sent, tasks, 422)
    read = scoring.serving(task.name).read_form(form, INPUT_PREFIX)
    sent.values, inputs = read.values, read.inputs
    sent.errors.update(read.errors)
    try:
        patient_id = _patient_ids.validate_python(sent.patient_id)
        if inputs is None:
            return _worklist_page(request, form.session, state, "pending", sent, tasks, 422)
        prediction = scoring.predict(state.database, state.models, task, patient_id, inputs,
                                     form.session.user.name)
    except ValidationError:
        sent.errors["patient_id"] = PATIENT_ID_RULE
        status_code = 422
    except InputValidationError as error:
        _attribute(sent, task, error.problems)
        status_code = 422
    except ServiceError as error:  # no approved version, stopped, ...
        sent.problems.append(error.detail)
        status_code = error.status_code
    else:
        state.metrics.predictions.labels(task.name).inc()
        return RedirectResponse(prediction_path(prediction.id), status_code=303)
    return _worklist_page(request, form.session, state, "pending", sent, tasks, status_code)


@dataclass
class ReviewForm:
    """The review form as sent, with its problems."""

    action: str = ""
    reason: str = ""
    clinician_value: str = ""  # as typed: percent for a probability, else the value's unit
    errors: dict[str, str] = field(default_factory=dict)


def _clinician_value_rule(outcome: Outcome) -> str:
    return (CLINICIAN_VALUE_RULE if outcome.unit == "probability" else
            VALUE_RULE.format(range=outcome.describe_range()))


def _prediction_page(request: Request, session: WebSession, state: ServiceState,
                     prediction_id: uuid.UUID, form: ReviewForm,
                     status_code: int = 200) -> HTMLResponse:
    with state.database.read() as db:
        prediction, reviews = worklist.history(db, prediction_id)
        version = lifecycle.get_version(db, prediction.task, prediction.model_version)
    info = PredictionInfo.model_validate(prediction)
    reviewer = session.may(REVIEWERS)
    common = {"prediction": info, "version": version, "form": form, "reviewer": reviewer,
              "reviews": [ReviewInfo.model_validate(review) for review in reviews],
              "open_actions": worklist.OPEN_ACTIONS.get(info.review_status, ())
              if reviewer else ()}
    try:
        handler = scoring.serving(info.task)
    except ServiceError:  # a task no longer installed: its predictions stay readable
        return render(request, "prediction_page.html", session, status_code=status_code,
                      **common)
    page = handler.page(info, prediction)
    return render(request, page.template.removeprefix("web/"), session,
                  status_code=status_code, **page.context, **common)


@router.get("/predictions/{prediction_id}/view")
def prediction_page(request: Request, prediction_id: uuid.UUID, session: PredictorPage,
                    state: State) -> HTMLResponse:
    """One patient's prediction: risk and interval, inputs, explanation, model, reviews; or
    one molecule's: value and interval, applicability domain, atom map, model, reviews."""
    return _prediction_page(request, session, state, prediction_id, ReviewForm())


def _review_body(form: ReviewForm, outcome: Outcome) -> dict[str, object]:
    """The form as the API's review request. The clinician's value is typed in percent for a
    probability, in the value's unit otherwise; it is sent only with an override, the one
    decision that carries it."""
    body: dict[str, object] = {"action": form.action}
    if form.reason:
        body["reason"] = form.reason
    if form.action == "override" and form.clinician_value:
        scale = 100 if outcome.unit == "probability" else 1
        try:
            body["clinician_value"] = float(form.clinician_value) / scale
        except ValueError:
            body["clinician_value"] = form.clinician_value  # refused by the schema below
    return body


@router.post("/predictions/{prediction_id}/view")
def review_prediction(request: Request, prediction_id: uuid.UUID, form: ReviewerForm,
                      state: State) -> Response:
    """Accept, override or escalate the prediction, as POST /predictions/{id}/reviews does."""
    sent = ReviewForm(form.text("action"), form.text("reason"), form.text("clinician_value"))
    with state.database.read() as db:
        outcome = scoring.outcome(worklist.get_prediction(db, prediction_id).task)
    value_rule = _clinician_value_rule(outcome)
    try:
        body = _reviews.validate_python(_review_body(sent, outcome))
        worklist.review(state.database, prediction_id, body.action, form.session.user.name,
                        body.reason,
                        body.clinician_value if isinstance(body, OverrideReview) else None)
    except ValidationError as error:
        sent.errors = field_errors(error, {"action": ACTION_RULE, "clinician_value": value_rule},
                                   root="action")
        status_code = 422
    except worklist.ValueOutOfRangeError as error:  # in the form's words (percent for a risk)
        sent.errors["clinician_value"] = value_rule
        status_code = error.status_code
    except ConflictError as error:  # decided meanwhile by someone else
        sent.errors["action"] = error.detail
        status_code = error.status_code
    else:
        state.metrics.reviews.labels(body.action).inc()
        return RedirectResponse(prediction_path(prediction_id) + "#history", status_code=303)
    return _prediction_page(request, form.session, state, prediction_id, sent, status_code)
