"""Predictions: the tasks one can predict, predicting for a patient, reading a prediction."""

from __future__ import annotations

import uuid
from typing import Annotated

from anyio import to_thread
from fastapi import APIRouter, status
from fastapi import Path as PathParameter

from medora.serve import scoring, worklist
from medora.serve.errors import NotFoundError
from medora.serve.schemas import Feature, PredictionInfo, PredictRequest, Problem, TaskInfo
from medora.serve.security import AUTH_RESPONSES, Predictor
from medora.serve.state import State
from medora.tasks import Task, get_task
from medora.tasks import list_tasks as registered_tasks

router = APIRouter(tags=["predictions"], responses=AUTH_RESPONSES)


def _task(name: str) -> Task:
    try:
        task = get_task(name)
    except KeyError as error:
        raise NotFoundError(str(error.args[0])) from None
    if not isinstance(task, Task):
        raise NotFoundError(f"{name} is a {task.modality} task; the service predicts from "
                            "patient inputs, for the tasks GET /tasks lists")
    return task


def _task_info(task: Task) -> TaskInfo:
    return TaskInfo(name=task.name, area=task.area, description=task.description,
                    threshold=task.threshold.value, threshold_source=task.threshold.source,
                    inputs=[Feature(name=spec.name, description=spec.description,
                                    kind=spec.kind, unit=spec.unit, expected=spec.expected,
                                    required=spec.required) for spec in task.features])


@router.get("/tasks")
def list_tasks(_: Predictor) -> list[TaskInfo]:
    """Every task the service can predict, with the inputs each needs."""
    return [_task_info(task) for task in registered_tasks(modality="tabular")]


@router.post("/predict/{task}", status_code=status.HTTP_201_CREATED, responses={
    404: {"model": Problem, "description": "Unknown task; the message lists the known ones."},
    409: {"model": Problem, "description": "The task has no approved version."},
    422: {"description": "Invalid inputs; every problem is listed, each naming its input."},
    503: {"model": Problem, "description": "The serving version was stopped: by whom, when "
                                           "and why."},
})
async def predict(task: Annotated[str, PathParameter(max_length=128)], body: PredictRequest,
                  principal: Predictor, state: State) -> PredictionInfo:
    """Predict for one patient with the task's approved version. The prediction is stored,
    pending clinician review, with the calibrated risk, its 95% interval and the explanation."""
    definition = _task(task)
    # One trip to a worker thread for the model and the database, on the service's few model
    # threads rather than the threadpool's forty (see ServiceState.model_threads).
    prediction = await to_thread.run_sync(
        scoring.predict, state.database, state.models, definition, body.patient_id,
        body.inputs, principal.name, limiter=state.model_threads)
    state.metrics.predictions.labels(definition.name).inc()
    return PredictionInfo.model_validate(prediction)


@router.get("/predictions/{prediction_id}", responses={404: {"model": Problem}})
def get_prediction(prediction_id: uuid.UUID, _: Predictor, state: State) -> PredictionInfo:
    with state.database.read() as session:
        return PredictionInfo.model_validate(worklist.get_prediction(session, prediction_id))
