"""Predictions: the tasks one can predict, predicting for one patient (or compound) from its
named inputs, and reading a prediction. An area's own routes (a molecule's atom map, an EHR
task's FHIR Bundle) come from the area (:meth:`medora.core.area.Area.routers`)."""

from __future__ import annotations

import uuid
from typing import Annotated

from anyio import to_thread
from fastapi import APIRouter, status
from fastapi import Path as PathParameter
from fastapi.exceptions import RequestValidationError

from medora.serve import scoring, worklist
from medora.serve.catalog import task_info
from medora.serve.schemas import (
    MAX_INPUT_TEXT,
    MAX_TEXT_INPUT,
    PredictionInfo,
    PredictRequest,
    Problem,
    TaskInfo,
)
from medora.serve.security import AUTH_RESPONSES, Predictor
from medora.serve.state import State

router = APIRouter(tags=["predictions"], responses=AUTH_RESPONSES)
IMAGE_TYPES = {"png": "image/png", "svg": "image/svg+xml"}


@router.get("/tasks")
def list_tasks(_: Predictor) -> list[TaskInfo]:
    """Every task the service can predict, with the inputs each needs: tabular, survival and
    effect tasks from a patient's inputs, molecule tasks from a SMILES, EHR tasks (modality
    `event_sequence`) from a patient's FHIR Bundle sent to POST /predict/{task}/bundle."""
    return [task_info(task) for task in scoring.served_tasks()]


@router.post("/predict/{task}", status_code=status.HTTP_201_CREATED, responses={
    404: {"model": Problem, "description": "Unknown task; the message lists the known ones."},
    409: {"model": Problem, "description": "The task has no approved version."},
    422: {"description": "Invalid inputs; every problem is listed, each naming its input "
                         "(for an invalid SMILES, RDKit's reason)."},
    503: {"model": Problem, "description": "The serving version was stopped: by whom, when "
                                           "and why."},
})
async def predict(task: Annotated[str, PathParameter(max_length=128)], body: PredictRequest,
                  principal: Predictor, state: State) -> PredictionInfo:
    """Predict for one patient, or one compound for a molecule task (`patient_id` is then the
    compound's identifier), with the task's approved version. The prediction is stored, pending
    review, with the value, its interval and the explanation: a calibrated risk with its 95%
    interval and top inputs, or a molecule's property with its conformal interval, whether it
    lies in the applicability domain, and every atom's weight."""
    definition = scoring.served_task(task)
    _refuse_long_text(task, body)
    # One trip to a worker thread for the model and the database, on the service's few model
    # threads rather than the threadpool's forty (see ServiceState.model_threads).
    prediction = await to_thread.run_sync(
        scoring.predict, state.database, state.models, definition, body.patient_id,
        body.inputs, principal.name, limiter=state.model_threads)
    state.metrics.predictions.labels(definition.name).inc()
    return PredictionInfo.model_validate(prediction)


def _refuse_long_text(task: str, body: PredictRequest) -> None:
    """Only a task's text inputs (a SMILES) may be longer than a number's text."""
    features = scoring.serving(task).features
    too_long = sorted(name for name, value in body.inputs.items()
                      if isinstance(value, str) and len(value) > MAX_INPUT_TEXT
                      and not (name in features and features[name].kind == "text"))
    if too_long:
        raise RequestValidationError([{
            "type": "value_error", "loc": ("body", "inputs", name),
            "msg": f"input {name} has more than {MAX_INPUT_TEXT} characters; send a number "
                   f"(only a text input such as a SMILES may be up to {MAX_TEXT_INPUT})"}
            for name in too_long])


@router.get("/predictions/{prediction_id}", responses={404: {"model": Problem}})
def get_prediction(prediction_id: uuid.UUID, _: Predictor, state: State) -> PredictionInfo:
    with state.database.read() as session:
        return PredictionInfo.model_validate(worklist.get_prediction(session, prediction_id))
