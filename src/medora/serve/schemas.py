"""Request and response bodies of every endpoint; their descriptions and examples are what
/docs shows, so they are the API's documentation."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal, Union

from pydantic import ConfigDict, Field, computed_field

from medora.core.registry import areas, list_tasks
from medora.registry.store import VersionStatus
from medora.serve import scoring
from medora.serve.db import ReviewAction, ReviewStatus, Role
from medora.serve.schema_base import Schema

# Free text stored and shown to people: bounded, and without control characters (PostgreSQL
# rejects NUL; the others only hide text from a reader).
_PRINTABLE = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F]*$"
Text = Annotated[str, Field(min_length=1, max_length=2000, pattern=_PRINTABLE)]
OptionalText = Annotated[str, Field(max_length=2000, pattern=_PRINTABLE)]
PATIENT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:/-]*$"
PatientId = Annotated[str, Field(
    min_length=1, max_length=64, pattern=PATIENT_ID_PATTERN,
    description="The hospital's identifier for the patient, or for a molecule task the "
                "compound's identifier (letters, digits, . _ : / -).",
    examples=["MRN-0042"])]
# A patient's input as text is a number as a CSV cell would hold it; only a molecule's SMILES
# is longer (PredictRequest holds every other text input to the shorter limit).
MAX_INPUT_TEXT = 64
MAX_TEXT_INPUT = 1000
# A JSON number (not a boolean, not NaN or infinity), text (a numeric string as a CSV cell would
# hold it, or a molecule's SMILES), or null for a missing value.
InputValue = (Annotated[float, Field(strict=True, allow_inf_nan=False)]
              | Annotated[str, Field(max_length=MAX_TEXT_INPUT)] | None)


class Problem(Schema):
    detail: str = Field(description="What went wrong, and what to do about it.")


class AccessToken(Schema):
    access_token: str = Field(description="JWT to send as `Authorization: Bearer <token>`.")
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds until the token expires.", examples=[900])


class Identity(Schema):
    name: str = Field(examples=["alice"])
    role: Role
    via: Literal["token", "api_key"] = Field(description="How this request authenticated.")


class Health(Schema):
    status: Literal["ok", "unavailable"]
    database: Literal["ok", "unreachable"]


class Feature(Schema):
    name: str = Field(examples=["age"])
    description: str = Field(examples=["age at examination"])
    kind: Literal["continuous", "binary", "ordinal", "categorical", "text", "fhir_bundle",
                  "datetime"] = Field(
        description="text: a molecule task's SMILES; categorical: one of the labels `expected` "
                    "lists; fhir_bundle: an EHR task's patient record, sent as the request "
                    "body of POST /predict/{task}/bundle; datetime: ISO 8601 (an EHR task's "
                    "index time, a query parameter of that request); the others are numbers.")
    unit: str = Field(examples=["years"])
    expected: str = Field(description="The values a real patient can have.",
                          examples=["18 to 110 years"])
    required: bool


#: The kinds of prediction the installed areas make (the tasks' ``modality``)...
_MODALITIES = tuple(sorted({task.modality for task in list_tasks()}))
TaskModality = Literal[_MODALITIES]  # type: ignore[valid-type]
#: ... and "unknown", a stored prediction's whose task is no longer installed.
Modality = Literal[(*_MODALITIES, scoring.UNINSTALLED.modality)]  # type: ignore[valid-type]
#: What each installed area stores in a prediction's ``details`` (each schema's ``kind``
#: tells them apart).
_DETAILS = tuple(schema for area in areas() for schema in area.detail_schemas())
Details = (Annotated[Union[_DETAILS], Field(discriminator="kind")]  # type: ignore[valid-type]  # noqa: UP007
           if len(_DETAILS) > 1 else _DETAILS[0] if _DETAILS else dict[str, Any])
#: A stored input: a number, a text (a SMILES, a category) or null, or a list of the records an
#: area stores among its inputs (an EHR task's events).
_RECORDS = tuple(schema for area in areas() for schema in area.stored_input_schemas())
StoredInput = (float | str | list[Union[_RECORDS]] | None  # type: ignore[valid-type]  # noqa: UP007
               if _RECORDS else float | str | None)


class TaskInfo(Schema):
    name: str = Field(examples=["cardio.framingham_chd"])
    area: str = Field(examples=["clinical risk"])
    modality: TaskModality = Field(
        description="tabular: a patient's risk from clinical inputs; molecule: a property of "
                    "one compound from its SMILES; survival: a patient's probability of the "
                    "event by a horizon, with the survival curve; effect: a patient's "
                    "treatment effect with the recommended arm; event_sequence: a patient's "
                    "risk at an index time from the coded history in a FHIR R4 Bundle, with "
                    "the past events that drove it.")
    description: str
    unit: str = Field(description="Unit of the predicted value: probability for tabular, "
                                  "event-sequence and survival tasks, the property's unit for "
                                  "molecule tasks, the outcome's unit for effect tasks.",
                      examples=["probability", "kcal/mol"])
    interval_coverage: float | None = Field(
        description="Nominal coverage of the interval given with each prediction; null when "
                    "none is given (survival).", examples=[0.95])
    threshold: float | None = Field(
        description="Risk at or above which a patient is flagged. Null where it depends on the "
                    "serving model, which states it with each prediction: a molecule's "
                    "applicability domain, a survival model's high-risk tertile, an effect "
                    "model's overlap region.", examples=[0.2])
    threshold_source: str = Field(description="Where the threshold comes from.")
    inputs: list[Feature]


class ModelVersionInfo(Schema):
    task: str = Field(examples=["cardio.framingham_chd"])
    version: int = Field(examples=[2])
    model_name: str = Field(examples=["mlp"])
    status: VersionStatus
    status_reason: str | None = Field(description="Why the status last changed.")
    status_by: str | None = Field(description="Who last changed the status.")
    status_at: datetime | None
    approved_by: str | None
    metrics: dict[str, Any] = Field(
        description="Test-set metrics with 95% bootstrap confidence intervals.",
        examples=[{"auroc": {"value": 0.72, "ci": [0.67, 0.76]}}])
    artifact_sha256: str
    registered_at: datetime


class ModelSummary(Schema):
    task: str = Field(examples=["cardio.framingham_chd"])
    versions: int = Field(description="Registered versions.", examples=[2])
    latest_version: int = Field(examples=[2])
    serving_version: int | None = Field(
        description="The version predictions come from: the newest approved one, unless the "
                    "newest version in service is stopped.", examples=[2])
    state: Literal["serving", "stopped", "no approved version"]


class ModelCard(Schema):
    task: str
    version: int
    markdown: str = Field(description="The model card: intended use, data, evaluation with "
                                      "confidence intervals, calibration, fairness, limits.")


class StatusNote(Schema):
    reason: OptionalText = Field(default="", description="Optional note kept with the status "
                                                         "change.",
                                 examples=["validated on the 2025 local cohort"])


class Justification(Schema):
    reason: Text = Field(description="Why; shown to everyone the change affects.",
                         examples=["calibration drift on this month's patients"])


class Rollback(Schema):
    retired: ModelVersionInfo = Field(description="The version taken out of service.")
    restored: ModelVersionInfo = Field(description="The earlier version serving again.")


class PredictRequest(Schema):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "patient_id": "MRN-0042",
        "inputs": {"male": 1, "age": 61, "sysBP": 152, "totChol": 245, "currentSmoker": 1,
                   "cigsPerDay": 20, "glucose": None},
    }, {"patient_id": "CHEMBL25", "inputs": {"smiles": "CC(=O)Oc1ccccc1C(=O)O"}}]})

    patient_id: PatientId
    inputs: dict[Annotated[str, Field(max_length=64)], InputValue] = Field(
        max_length=256,
        description="One value per model input (GET /tasks lists them); a left-out or null "
                    "input is missing, which only optional inputs may be. A molecule task "
                    f"takes one input, `smiles` (up to {MAX_TEXT_INPUT} characters; a salt or "
                    "solvent is reduced to its largest fragment); other text inputs may have "
                    f"up to {MAX_INPUT_TEXT} characters.")


class Contribution(Schema):
    feature: str = Field(description="The input, or for a molecule the atom: its element "
                                     "and index in the stored SMILES (C0, O2, ...); for an EHR "
                                     "task, a past event's code.",
                         examples=["age"])
    value: float | None = Field(description="The patient's value (null: missing); for an "
                                            "atom, its index; for a past event, its days "
                                            "before the index time.", examples=[61.0])
    contribution: float = Field(description="Push on the log-odds of the outcome: positive "
                                            "raises the risk. For an atom, its weight in the "
                                            "predicted value's unit.", examples=[0.42])


class PredictionInfo(Schema):
    id: uuid.UUID
    task: str = Field(examples=["cardio.framingham_chd"])
    model_version: int = Field(examples=[2])
    patient_id: str = Field(description="The patient's identifier, or the compound's for a "
                                        "molecule task.", examples=["MRN-0042"])
    inputs: dict[str, StoredInput] = Field(
        description="The validated inputs, as used; for a molecule, its canonical SMILES "
                    "(largest fragment); for an EHR task, `events` (the events the model read, "
                    "oldest first), `index_time` and `bundle_sha256` (the bundle itself is not "
                    "kept).")
    risk: float = Field(description="Calibrated probability of the outcome (for an EHR task, "
                                    "at `details.index_time`); for a molecule "
                                    "task, the predicted value in `unit`; for a survival "
                                    "task, the probability of the event by `details.horizon`; "
                                    "for an effect task, the estimated effect in `unit`.",
                        examples=[0.23])
    risk_lower: float | None = Field(description="Lower end of the interval (see "
                                                 "interval_coverage); null: no interval.",
                                     examples=[0.19])
    risk_upper: float | None = Field(description="Upper end of the interval.", examples=[0.27])
    threshold: float = Field(description="The risk threshold; for a molecule, the serving "
                                         "model's applicability-domain threshold (Tanimoto "
                                         "similarity to the nearest training molecule).",
                             examples=[0.2])
    threshold_source: str
    flagged: bool = Field(description="risk >= threshold; for a molecule: outside the "
                                      "applicability domain (its prediction is less reliable); "
                                      "for survival: in the high-risk group; for an effect: "
                                      "outside overlap (no recommendation).")
    contributions: list[Contribution] = Field(
        validation_alias="explanation",
        description="The inputs that moved this patient's risk most, either way; for a "
                    "molecule, every atom's weight in atom order (GET "
                    "/predictions/{id}/atom-map draws them); for an EHR task, the past events "
                    "(their code, and days before the index time as the value; "
                    "`details.top_events` describes each).")
    details: Details | None = Field(
        default=None,
        description="Survival: the curve, percentile and group; effect: the propensity, overlap "
                    "and recommendation; event_sequence: the index time, the event counts, "
                    "the bundle's ingest counts and the top past events; null for tabular and "
                    "molecule tasks.")
    review_status: ReviewStatus = Field(
        description="Advice until a clinician reviews it: pending, then accepted, overridden "
                    "or escalated.")
    created_by: str
    created_at: datetime

    @computed_field(description="The kind of prediction, as GET /tasks gives it (tabular, "
                                "molecule, survival, effect, event_sequence); unknown for a "
                                "task no longer installed.")
    @property
    def modality(self) -> Modality:
        return scoring.outcome(self.task).modality

    @computed_field(description="Unit of risk and its interval: probability, or the "
                                "molecule property's unit.")
    @property
    def unit(self) -> str:
        return scoring.outcome(self.task).unit

    @computed_field(description="Nominal coverage of [risk_lower, risk_upper]: 0.95 for a "
                                "calibrated risk and an effect, the split-conformal coverage "
                                "(0.9) for a molecule; null without an interval.")
    @property
    def interval_coverage(self) -> float | None:
        if self.risk_lower is None:
            return None
        return scoring.outcome(self.task).interval_coverage


class AcceptReview(Schema):
    model_config = ConfigDict(extra="forbid")
    action: Literal["accept"]
    reason: Text | None = Field(default=None, description="Optional note.")


class OverrideReview(Schema):
    model_config = ConfigDict(extra="forbid")
    action: Literal["override"]
    reason: Text = Field(description="Why the prediction is wrong for this patient.")
    clinician_value: float = Field(
        allow_inf_nan=False, examples=[0.05],
        description="The reviewer's own estimate, in the prediction's unit: a risk from 0 to 1 "
                    "for a probability task (tabular, survival, event_sequence), any finite "
                    "value for a "
                    "molecule or effect task (a 422 names the task's range).")


class EscalateReview(Schema):
    model_config = ConfigDict(extra="forbid")
    action: Literal["escalate"]
    reason: Text | None = Field(default=None, description="What the senior reviewer should "
                                                          "look at.")


ReviewRequest = Annotated[AcceptReview | OverrideReview | EscalateReview,
                          Field(discriminator="action")]


class ReviewInfo(Schema):
    id: int
    prediction_id: uuid.UUID
    reviewer: str
    action: ReviewAction
    reason: str | None
    clinician_value: float | None
    created_at: datetime


class PredictionHistory(Schema):
    prediction: PredictionInfo
    reviews: list[ReviewInfo] = Field(description="Every review, oldest first.")


class AuditEventInfo(Schema):
    sequence: int
    at: datetime
    actor: str = Field(examples=["alice"])
    action: str = Field(examples=["model.stop"])
    target: str = Field(examples=["model:cardio.framingham_chd:v2"])
    details: dict[str, Any]
    prev_hash: str
    hash: str


class AuditPage(Schema):
    events: list[AuditEventInfo]
    next_after: int | None = Field(description="Pass as `after` for the next page; null at "
                                                "the end of the log.")


class ChainVerification(Schema):
    ok: bool
    checked: int = Field(description="Events verified intact, from the first.")
    first_bad_sequence: int | None = Field(
        description="The first event that was changed, removed or reordered.")
    head_hash: str = Field(description="Hash of the last intact event; keep it outside the "
                                       "service to detect truncation later.")
