"""The EHR area's API route: POST /predict/{task}/bundle, a prediction from the FHIR R4 Bundle
in the request body (mounted through :meth:`EhrArea.routers
<medora.areas.ehr.EhrArea.routers>`)."""

from __future__ import annotations

from typing import Annotated

from anyio import to_thread
from fastapi import APIRouter, Query, Request, status
from fastapi import Path as PathParameter
from fastapi.exceptions import RequestValidationError

from medora.areas.ehr.predict import INDEX_TIME_EXAMPLE, INDEX_TIME_INPUT
from medora.areas.ehr.serving import BundleInputs
from medora.areas.ehr.tasks import EventSequenceTask
from medora.core.errors import InputValidationError
from medora.serve import scoring
from medora.serve.errors import NotFoundError
from medora.serve.schemas import PATIENT_ID_PATTERN, PredictionInfo, Problem
from medora.serve.security import AUTH_RESPONSES, Predictor
from medora.serve.state import State

router = APIRouter(tags=["predictions"], responses=AUTH_RESPONSES)

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
            BundleInputs(bundle, index_time), principal.name, limiter=state.model_threads)
    except InputValidationError as error:
        raise _as_request_error(error) from None
    state.metrics.predictions.labels(definition.name).inc()
    return PredictionInfo.model_validate(prediction)
