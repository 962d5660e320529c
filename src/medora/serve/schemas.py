"""Request and response bodies of every endpoint; their descriptions and examples are what
/docs shows, so they are the API's documentation."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from medora.registry.store import VersionStatus
from medora.serve.db import ReviewAction, ReviewStatus, Role

# Free text stored and shown to people: bounded, and without control characters (PostgreSQL
# rejects NUL; the others only hide text from a reader).
_PRINTABLE = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F]*$"
Text = Annotated[str, Field(min_length=1, max_length=2000, pattern=_PRINTABLE)]
OptionalText = Annotated[str, Field(max_length=2000, pattern=_PRINTABLE)]
PatientId = Annotated[str, Field(
    min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/-]*$",
    description="The hospital's identifier for the patient (letters, digits, . _ : / -).",
    examples=["MRN-0042"])]
# A JSON number (not a boolean, not NaN or infinity), a numeric string as a CSV cell would hold
# it, or null for a missing value.
InputValue = (Annotated[float, Field(strict=True, allow_inf_nan=False)]
              | Annotated[str, Field(max_length=64)] | None)


class Schema(BaseModel):
    model_config = ConfigDict(from_attributes=True)


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
    kind: Literal["continuous", "binary", "ordinal"]
    unit: str = Field(examples=["years"])
    expected: str = Field(description="The values a real patient can have.",
                          examples=["18 to 110 years"])
    required: bool


class TaskInfo(Schema):
    name: str = Field(examples=["cardio.framingham_chd"])
    area: str = Field(examples=["clinical risk"])
    description: str
    threshold: float = Field(description="Risk at or above which a patient is flagged.",
                             examples=[0.2])
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
    }]})

    patient_id: PatientId
    inputs: dict[Annotated[str, Field(max_length=64)], InputValue] = Field(
        max_length=256,
        description="One value per model input (GET /tasks lists them); a left-out or null "
                    "input is missing, which only optional inputs may be.")


class Contribution(Schema):
    feature: str = Field(examples=["age"])
    value: float | None = Field(description="The patient's value (null: missing).",
                                examples=[61.0])
    contribution: float = Field(description="Push on the log-odds of the outcome: positive "
                                            "raises the risk.", examples=[0.42])


class PredictionInfo(Schema):
    id: uuid.UUID
    task: str = Field(examples=["cardio.framingham_chd"])
    model_version: int = Field(examples=[2])
    patient_id: str = Field(examples=["MRN-0042"])
    inputs: dict[str, float | None] = Field(description="The validated inputs, as used.")
    risk: float = Field(description="Calibrated probability of the outcome.", examples=[0.23])
    risk_lower: float = Field(description="Lower end of the 95% interval.", examples=[0.19])
    risk_upper: float = Field(description="Upper end of the 95% interval.", examples=[0.27])
    threshold: float = Field(examples=[0.2])
    threshold_source: str
    flagged: bool = Field(description="risk >= threshold")
    contributions: list[Contribution] = Field(
        validation_alias="explanation",
        description="The inputs that moved this patient's risk most, either way.")
    review_status: ReviewStatus = Field(
        description="Advice until a clinician reviews it: pending, then accepted, overridden "
                    "or escalated.")
    created_by: str
    created_at: datetime


class AcceptReview(Schema):
    model_config = ConfigDict(extra="forbid")
    action: Literal["accept"]
    reason: Text | None = Field(default=None, description="Optional note.")


class OverrideReview(Schema):
    model_config = ConfigDict(extra="forbid")
    action: Literal["override"]
    reason: Text = Field(description="Why the prediction is wrong for this patient.")
    clinician_value: float = Field(ge=0, le=1, allow_inf_nan=False,
                                   description="The clinician's own risk estimate, 0 to 1.",
                                   examples=[0.05])


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
