"""Predictions: the tasks one can predict, predicting for a patient, a molecule or a patient's
FHIR Bundle (an EHR task), reading a prediction and a molecule's atom map."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from anyio import to_thread
from fastapi import APIRouter, Query, Request, status
from fastapi import Path as PathParameter
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response

from medora.data.tabular import InputValidationError
from medora.areas.ehr.predict import INDEX_TIME_EXAMPLE, INDEX_TIME_INPUT
from medora.serve import scoring, worklist
from medora.serve.catalog import task_info
from medora.serve.errors import NotFoundError
from medora.serve.schemas import (
    PATIENT_ID_PATTERN,
    PredictionInfo,
    PredictRequest,
    Problem,
    TaskInfo,
)
from medora.serve.security import AUTH_RESPONSES, Predictor
from medora.serve.state import State
from medora.areas.ehr.tasks import EventSequenceTask

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


# The OpenAPI description of the bundle request's body, which the route reads itself: a FHIR
# Bundle is parsed by the FHIR reader, not validated field by field.
_BUNDLE_BODY = {"required": True, "description": (
    "One patient's FHIR R4 Bundle (JSON), as Synthea writes it or a FHIR server's "
    "Patient/$everything returns it: exactly one Patient, and the resources medora reads "
    "(Encounter, Condition, Observation, MedicationRequest, MedicationAdministration, "
    "Procedure, Immunization); others are skipped and counted. Up to "
    "MEDORA_MAX_EHR_BODY_BYTES bytes (32 MiB unless set)."),
    "content": {media: {"schema": {"type": "object", "required": ["resourceType", "entry"],
                                   "properties": {"resourceType": {"const": "Bundle"},
                                                  "entry": {"type": "array"}}}}
                for media in ("application/fhir+json", "application/json")}}


def _as_request_error(error: InputValidationError) -> RequestValidationError:
    """A bundle's or an index time's problems, each located where it was sent."""
    return RequestValidationError([
        {"type": "invalid_input", "msg": problem,
         "loc": ("query", INDEX_TIME_INPUT) if problem.startswith(f"{INDEX_TIME_INPUT}:")
         else ("body",)} for problem in error.problems])


@router.post("/predict/{task}/bundle", status_code=status.HTTP_201_CREATED,
             openapi_extra={"requestBody": _BUNDLE_BODY}, responses={
    404: {"model": Problem, "description": "Unknown task, or one not predicted from a bundle."},
    409: {"model": Problem, "description": "The task has no approved version."},
    413: {"model": Problem, "description": "The bundle is larger than "
                                           "MEDORA_MAX_EHR_BODY_BYTES; the message names the "
                                           "limit."},
    422: {"description": "A bundle that is not JSON, not a Bundle, holds no patient or several, "
                         "or none of whose resources gave an event; an index time that is not "
                         "ISO 8601 or at which the task does not predict; a record with no "
                         "index event for the task. Each message says how to fix it; nothing "
                         "is stored."},
    503: {"model": Problem, "description": "The serving version was stopped: by whom, when "
                                           "and why."},
})
async def predict_bundle(
    task: Annotated[str, PathParameter(max_length=128)], request: Request,
    patient_id: Annotated[str, Query(
        min_length=1, max_length=64, pattern=PATIENT_ID_PATTERN,
        description="The hospital's identifier for the patient (letters, digits, . _ : / -).",
        examples=["MRN-0042"])],
    principal: Predictor, state: State,
    index_time: Annotated[str | None, Query(
        alias=INDEX_TIME_INPUT, max_length=64,
        description="The prediction time, ISO 8601 (UTC unless an offset is given; a date "
                    "alone is its midnight): no later event reaches the model. Left out: the "
                    "task's latest index event in the record (the latest inpatient discharge "
                    "for readmission, the latest visit for mortality).",
        examples=[INDEX_TIME_EXAMPLE])] = None,
) -> PredictionInfo:
    """Predict for one patient from the FHIR R4 Bundle in the body, with the EHR task's
    approved version: the calibrated risk at the index time with its 95% interval, flagged at
    the task's threshold, the past events that drove it, and in `details` the index time, the
    events the model read and left out, and what became of the bundle's resources. The events
    the model read are stored as the prediction's inputs, with the bundle's SHA-256; the bundle
    itself is not kept."""
    definition = scoring.served_task(task)
    if not isinstance(definition, EventSequenceTask):
        raise NotFoundError(f"{task} ({definition.modality} task) is not predicted from a FHIR "
                            f"Bundle; POST its inputs to /predict/{task} (GET /tasks lists "
                            "them)")
    # Read only now, after the caller and the task checked out (BodySizeLimit bounds it).
    bundle = await request.body()
    try:
        prediction = await to_thread.run_sync(
            scoring.predict, state.database, state.models, definition, patient_id,
            scoring.BundleInputs(bundle, index_time), principal.name,
            limiter=state.model_threads)
    except InputValidationError as error:
        raise _as_request_error(error) from None
    state.metrics.predictions.labels(definition.name).inc()
    return PredictionInfo.model_validate(prediction)
