"""The API's bodies of an EHR prediction: the events the model read (stored as its inputs)
and its ``details`` (index time, event counts, what became of the bundle's resources, the top
past events). :meth:`EhrArea.detail_schemas <medora.areas.ehr.EhrArea.detail_schemas>` hands
:class:`EventSequenceDetails` to the service for PredictionInfo's OpenAPI schema."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from medora.serve.schema_base import Schema


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
