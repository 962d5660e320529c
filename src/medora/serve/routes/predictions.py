"""Predictions: the tasks one can predict, predicting for a patient or a molecule, reading a
prediction and a molecule's atom map."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from anyio import to_thread
from fastapi import APIRouter, Query, status
from fastapi import Path as PathParameter
from fastapi.responses import Response

from medora.serve import scoring, worklist
from medora.serve.catalog import task_info
from medora.serve.schemas import PredictionInfo, PredictRequest, Problem, TaskInfo
from medora.serve.security import AUTH_RESPONSES, Predictor
from medora.serve.state import State

router = APIRouter(tags=["predictions"], responses=AUTH_RESPONSES)
IMAGE_TYPES = {"png": "image/png", "svg": "image/svg+xml"}


@router.get("/tasks")
def list_tasks(_: Predictor) -> list[TaskInfo]:
    """Every task the service can predict, with the inputs each needs: tabular tasks from a
    patient's inputs, molecule tasks from a SMILES."""
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


@router.get("/predictions/{prediction_id}/atom-map", response_class=Response, responses={
    200: {"content": {media: {} for media in IMAGE_TYPES.values()},
          "description": "The 2D depiction with each atom's weight as a blue (lowers the "
                         "value) to red (raises it) field."},
    404: {"model": Problem, "description": "No such prediction, or a patient's prediction."},
    409: {"model": Problem, "description": "The stored weights no longer fit the stored "
                                           "SMILES."},
})
def get_atom_map(prediction_id: uuid.UUID, _: Predictor, state: State,
                 image_format: Annotated[Literal["png", "svg"], Query(alias="format")] = "png",
                 ) -> Response:
    """A molecule prediction's atom weights drawn on its structure, as PNG or SVG."""
    with state.database.read() as session:
        prediction = worklist.get_prediction(session, prediction_id)
    image = scoring.atom_map(prediction, image_format)
    return Response(image, media_type=IMAGE_TYPES[image_format])
