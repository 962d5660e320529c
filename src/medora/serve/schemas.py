"""Request and response bodies of every endpoint; their descriptions and examples are what
/docs shows, so they are the API's documentation."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field, model_validator

from medora.registry.store import VersionStatus
from medora.serve import scoring
from medora.serve.db import ReviewAction, ReviewStatus, Role

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
MAX_SMILES = 1000
# A JSON number (not a boolean, not NaN or infinity), text (a numeric string as a CSV cell would
# hold it, or a molecule's SMILES), or null for a missing value.
InputValue = (Annotated[float, Field(strict=True, allow_inf_nan=False)]
              | Annotated[str, Field(max_length=MAX_SMILES)] | None)


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


class TaskInfo(Schema):
    name: str = Field(examples=["cardio.framingham_chd"])
    area: str = Field(examples=["clinical risk"])
    modality: scoring.Modality = Field(
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
                    f"takes one input, `smiles` (up to {MAX_SMILES} characters; a salt or "
                    "solvent is reduced to its largest fragment); other text inputs may have "
                    f"up to {MAX_INPUT_TEXT} characters.")

    @model_validator(mode="after")
    def _short_text_inputs(self) -> PredictRequest:
        too_long = sorted(name for name, value in self.inputs.items()
                          if isinstance(value, str) and len(value) > MAX_INPUT_TEXT
                          and name != scoring.SMILES_INPUT)
        if too_long:
            raise ValueError(f"input(s) {', '.join(too_long)} have more than {MAX_INPUT_TEXT} "
                             f"characters; send numbers (only a molecule's "
                             f"{scoring.SMILES_INPUT} may be up to {MAX_SMILES})")
        return self


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


class SurvivalDetails(Schema):
    kind: Literal["survival"]
    time_unit: str = Field(examples=["days"])
    horizon: float = Field(description="The reference horizon, the training cohort's median "
                                       "event time: `risk` is the probability of the event by "
                                       "then.", examples=[1814.0])
    risk_score: float = Field(description="The model's risk score (higher: earlier event); "
                                          "comparable only within one model version.")
    risk_percentile: float = Field(description="Percent of the training patients whose "
                                               "probability of the event by `horizon` is at "
                                               "most this patient's.", examples=[71.2])
    risk_group: Literal["low", "intermediate", "high"] = Field(
        description="The training patients' tertile this patient falls in.")
    reference_patients: int = Field(description="Training patients ranked against.")
    horizons: list[float] = Field(description="Event-time quartiles of the training cohort.")
    survival_at_horizons: list[float] = Field(description="Predicted S(t) at each horizon.")
    curve_times: list[float]
    curve: list[float] = Field(description="Predicted S(t) at each of `curve_times`.")


class EffectDetails(Schema):
    kind: Literal["effect"]
    model: str = Field(examples=["DragonNet ensemble"])
    outcome: str = Field(examples=["cd4_change_20wk"])
    outcome_unit: str = Field(examples=["cells/mm3"])
    higher_is_better: bool
    treated_label: str = Field(examples=["zidovudine + didanosine"])
    control_label: str = Field(examples=["zidovudine"])
    interval: str = Field(description="What [risk_lower, risk_upper] is, or why there is none.")
    propensity: float = Field(description="Estimated probability of the treated arm given the "
                                          "covariates (a trial's design probability where "
                                          "known).")
    propensity_method: str
    overlap: tuple[float, float] = Field(description="Propensities inside overlap.")
    inside_overlap: bool
    recommendation: str | None = Field(description="The arm recommended; null: none, see "
                                                   "`reason`.")
    reason: str = Field(description="Why this arm, or why no recommendation.")


class RecordedEvent(Schema):
    """One event of a patient's record, as the model read it."""

    time: datetime | None = Field(default=None, description="When (UTC, no zone); null for a "
                                                           "static fact (sex, race, "
                                                           "ethnicity).")
    code: str = Field(description="VOCAB/code as in the event table, or one of medora's codes "
                                  "(ENCOUNTER/IMP, MEDS_BIRTH, GENDER/female).",
                      examples=["LOINC/8302-2"])
    value: float | None = Field(default=None, description="The event's number, if any.",
                                examples=[172.4])
    unit: str | None = Field(default=None, examples=["cm"])
    text: str | None = Field(default=None, description="A coded or free-text value (a "
                                                       "smoking status' SNOMED code).")
    text_display: str | None = Field(default=None, description="A coded value's display "
                                                               "text from the bundle.",
                                     examples=["Never smoked tobacco (finding)"])
    encounter: str | None = Field(default=None, description="The encounter it belongs to.")
    display: str | None = Field(default=None, description="The code's display text from the "
                                                          "bundle (or medora's name for its "
                                                          "own codes).",
                                examples=["Body Height"])


class TopEvent(RecordedEvent):
    position: int | None = Field(default=None, description="Its place in `inputs.events`.")
    vocabulary: str = Field(examples=["LOINC"])
    concept: str = Field(description="The code within its vocabulary.", examples=["8302-2"])
    days_before: float | None = Field(default=None, description="Days from the event to the "
                                                                "index time; null for a static "
                                                                "fact.")
    contribution: float = Field(description="Push on the log-odds of the outcome: positive "
                                            "raises the risk.", examples=[0.31])
    count: int = Field(default=1, description="Events it stands for: 1 for a sequence model's "
                                              "events; for a bag-of-codes model, the events of "
                                              "its code (shown on the most recent).")


class IngestCounts(Schema):
    read: int
    accepted: int
    rejected: int
    skipped: int = Field(description="Resource types medora does not read (Claim, ...).")
    events: int


class RejectedResource(Schema):
    kind: str = Field(examples=["Observation"])
    reason: str = Field(examples=["bad date"])
    location: str = Field(examples=["bundle#entry[12]"])
    detail: str


class EventSequenceDetails(Schema):
    kind: Literal["event_sequence"]
    index_time: datetime = Field(description="The prediction time: no later event reached the "
                                             "model.")
    index_source: str = Field(description="`given`, or the index event it is.",
                              examples=["the latest inpatient discharge (ENCOUNTER_END/IMP) "
                                        "in the record"])
    age_at_index: float | None = Field(description="Years.", examples=[67.3])
    events_in_record: int = Field(description="Events the bundle gave.")
    events_seen: int = Field(description="Events the model read (stored in `inputs.events`).")
    events_after_index: int = Field(description="Events after the index time, left out.")
    events_before_window: int = Field(
        description="Events at or before the index time older than the model's window (its "
                    "most recent `max_events`), left out.")
    max_events: int | None = Field(description="The model's window; null: it reads every "
                                               "event (a bag-of-codes model).")
    bundle_sha256: str = Field(description="SHA-256 of the bundle as sent.")
    bundle_bytes: int
    ingest: dict[str, IngestCounts] = Field(description="Per resource type, what became of the "
                                                        "bundle's resources.")
    rejected_by_reason: dict[str, int]
    rejections: list[RejectedResource] = Field(description="The first rejected resources, "
                                                           "with where and why.")
    explanation_method: str
    top_events: list[TopEvent] = Field(description="The past events with the largest "
                                                   "contributions, either way.")


class PredictionInfo(Schema):
    id: uuid.UUID
    task: str = Field(examples=["cardio.framingham_chd"])
    model_version: int = Field(examples=[2])
    patient_id: str = Field(description="The patient's identifier, or the compound's for a "
                                        "molecule task.", examples=["MRN-0042"])
    inputs: dict[str, float | str | list[RecordedEvent] | None] = Field(
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
    details: SurvivalDetails | EffectDetails | EventSequenceDetails | None = Field(
        default=None, discriminator="kind",
        description="Survival: the curve, percentile and group; effect: the propensity, overlap "
                    "and recommendation; event_sequence: the index time, the event counts, "
                    "the bundle's ingest counts and the top past events; null for tabular and "
                    "molecule tasks.")
    review_status: ReviewStatus = Field(
        description="Advice until a clinician reviews it: pending, then accepted, overridden "
                    "or escalated.")
    created_by: str
    created_at: datetime

    @computed_field(description="tabular, molecule, survival, effect or event_sequence.")
    @property
    def modality(self) -> scoring.Modality:
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
