"""The clinician's pages: the worklist with its new-prediction form (an EHR task's takes the
patient's FHIR Bundle as a file), and the patient (or molecule) view with the prediction, its
explanation (for an EHR task, the timeline of the events the model read, the drivers picked
out), its review history and the review form."""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass, field
from typing import Annotated, Literal

from fastapi import Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import TypeAdapter, ValidationError
from sqlalchemy import select
from starlette.datastructures import UploadFile

from medora.data.tabular import InputValidationError
from medora.areas.ehr.predict import BUNDLE_INPUT, INDEX_TIME_INPUT
from medora.serve import lifecycle, scoring, worklist
from medora.serve.catalog import task_info
from medora.serve.db import ModelVersionRow, Prediction
from medora.serve.errors import ConflictError, ServiceError
from medora.serve.schemas import (
    EventSequenceDetails,
    Feature,
    OverrideReview,
    PatientId,
    PredictionInfo,
    RecordedEvent,
    ReviewInfo,
    ReviewRequest,
    SurvivalDetails,
)
from medora.serve.scoring import BundleInputs, Inputs, Outcome, ServedTask
from medora.serve.state import ServiceState, State
from medora.serve.web.charts import (
    contribution_chart,
    format_time,
    labelled_chart,
    risk_bar,
    survival_curve,
)
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
from medora.areas.ehr.timeline import TimelineEvent, build_timeline
from medora.areas.ehr.tasks import EventSequenceTask

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
BUNDLE_RULE = "choose the patient's FHIR R4 Bundle, a .json file"
DRIVER_LABEL = 40  # characters of a driver's label on the chart (the rest is cut)


def prediction_path(prediction_id: uuid.UUID) -> str:
    return f"/predictions/{prediction_id}/view"


@dataclass
class PredictionForm:
    """The new-prediction form as sent, with its problems."""

    task: ServedTask | None
    patient_id: str = ""
    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def input_names(task: ServedTask) -> list[str]:
    return [feature.name for feature in task_info(task).inputs]


def _predictable_tasks(state: ServiceState) -> list[ServedTask]:
    """The registered tasks with at least one model version registered with the service."""
    with state.database.read() as session:
        served = set(session.scalars(select(ModelVersionRow.task).distinct()))
    return [task for task in scoring.served_tasks() if task.name in served]


def _worklist_page(request: Request, session: WebSession, state: ServiceState,
                   review_status: WorklistStatus, form: PredictionForm,
                   tasks: list[ServedTask],
                   status_code: int = 200) -> HTMLResponse:
    with state.database.read() as db:
        predictions = worklist.worklist(db, review_status, None, WORKLIST_LIMIT)
    return render(request, "worklist.html", session, status_code=status_code,
                  predictions=[PredictionInfo.model_validate(p) for p in predictions],
                  review_status=review_status, form=form, tasks=tasks,
                  inputs=task_info(form.task).inputs if form.task else [],
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


def _attribute(sent: PredictionForm, task: ServedTask, problems: list[str]) -> None:
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


def _bundle_inputs(form: SubmittedForm, sent: PredictionForm) -> BundleInputs | None:
    """An EHR task's form as its inputs: the uploaded bundle and the index time (a
    datetime-local field: ``2024-06-01T12:00``); None, with the problem noted, without a
    file."""
    sent.values = {INDEX_TIME_INPUT: form.text(INPUT_PREFIX + INDEX_TIME_INPUT)}
    upload = form.fields.get(INPUT_PREFIX + BUNDLE_INPUT)
    # The endpoint runs in a worker thread, so the spooled upload is read synchronously.
    bundle = upload.file.read() if isinstance(upload, UploadFile) else b""
    if not bundle:
        sent.errors[BUNDLE_INPUT] = BUNDLE_RULE
        return None
    return BundleInputs(bundle, sent.values[INDEX_TIME_INPUT] or None)


@router.post("/worklist/predict")
def new_prediction(request: Request, form: ReviewerForm, state: State) -> Response:
    """Score one patient (or molecule) with the chosen task's serving model, as POST
    /predict/{task} (an EHR task's bundle: POST /predict/{task}/bundle) does, and show the new
    prediction."""
    tasks = _predictable_tasks(state)
    task = next((t for t in tasks if t.name == form.text("task")), None)
    sent = PredictionForm(task, form.text("patient_id"))
    if task is None:
        sent.errors["task"] = "choose one of the tasks listed"
        return _worklist_page(request, form.session, state, "pending", sent, tasks, 422)
    inputs: Inputs | None
    if isinstance(task, EventSequenceTask):
        inputs = _bundle_inputs(form, sent)
    else:
        sent.values = {name: form.text(INPUT_PREFIX + name) for name in input_names(task)}
        inputs = {name: value or None for name, value in sent.values.items()}
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


def _atom_map(prediction: Prediction) -> str:
    """The atom map as a data URI: inline, because the API's image endpoint takes no session
    cookie."""
    png = scoring.atom_map(prediction, "png")
    assert isinstance(png, bytes)  # draw_molecule's PNG
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


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
    if info.modality == "molecule":
        try:
            atom_map, atom_map_problem = _atom_map(prediction), ""
        except ServiceError as error:  # weights that no longer fit the stored SMILES
            atom_map, atom_map_problem = "", error.detail
        return render(request, "molecule.html", session, status_code=status_code,
                      atom_map=atom_map, atom_map_problem=atom_map_problem, **common)
    if isinstance(info.details, EventSequenceDetails):
        return _ehr_page(request, session, info, common, status_code)
    features = _features(info.task)
    if isinstance(info.details, SurvivalDetails):
        d = info.details
        return render(request, "survival.html", session, status_code=status_code,
                      features=features, horizon=format_time(d.horizon, d.time_unit),
                      curve=survival_curve(d.curve_times, d.curve, d.horizons,
                                           d.survival_at_horizons, d.time_unit), **common)
    if info.details is not None:  # an effect
        return render(request, "effect.html", session, status_code=status_code,
                      features=features, **common)
    assert info.risk_lower is not None and info.risk_upper is not None  # calibrated: always
    return render(
        request, "prediction.html", session, status_code=status_code, features=features,
        risk_bar=risk_bar(info.risk, info.risk_lower, info.risk_upper, info.threshold),
        chart=contribution_chart(info.contributions,
                                 {name: spec.unit for name, spec in features.items()}),
        **common)


def _driver_label(event: TimelineEvent) -> str:
    label = f"{event.day} {event.label}" + (f" {event.value}" if event.value else "")
    return label if len(label) <= DRIVER_LABEL else label[:DRIVER_LABEL - 1] + "…"


def _ehr_page(request: Request, session: WebSession, info: PredictionInfo,
              common: dict[str, object], status_code: int) -> HTMLResponse:
    """An EHR prediction: the risk at the index time, the drivers, and the timeline of the
    events the model read."""
    assert isinstance(info.details, EventSequenceDetails)
    assert info.risk_lower is not None and info.risk_upper is not None  # calibrated: always
    stored = info.inputs.get("events")
    events = stored if isinstance(stored, list) else []
    timeline = build_timeline([event for event in events if isinstance(event, RecordedEvent)],
                              info.details)
    chart = labelled_chart([(_driver_label(event), event.driver.contribution)
                            for event in timeline.drivers if event.driver], labels_width=320,
                           digits=3)
    return render(request, "ehr.html", session, status_code=status_code, timeline=timeline,
                  details=info.details, chart=chart,
                  risk_bar=risk_bar(info.risk, info.risk_lower, info.risk_upper,
                                    info.threshold), **common)


def _features(task_name: str) -> dict[str, Feature]:
    """The task's inputs by name; none for a task no longer installed, whose predictions stay
    readable."""
    try:
        task = scoring.served_task(task_name)
    except ServiceError:
        return {}
    return {feature.name: feature for feature in task_info(task).inputs}


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
