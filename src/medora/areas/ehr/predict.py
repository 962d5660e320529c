"""Predictions for one patient's FHIR R4 Bundle from a registered event-sequence model: the
bundle in, the calibrated risk at the index time with its 95% interval, the threshold flag and
the past events that drove it out.

The bundle is read by the reader ``medora data ingest`` uses (:func:`medora.data.fhir.
read_document`), and the sample is built by the task's own :meth:`~medora.areas.ehr.tasks.
EventSequenceTask.samples_at`, so the model sees exactly the features a training sample of the
same patient at the same time would have given it. Where to predict is the task's index rule
(:attr:`~medora.areas.ehr.tasks.EventSequenceTask.index`): at a time the caller gives, if the task's
conditions hold then, else at the latest eligible index event of the record (the end of the
latest inpatient stay, the latest visit). Events after the index time never reach the model;
they are counted, as are the events at or before it that a sequence model's window (its most
recent ``max_events``) leaves out.

The registered artifact is the :class:`~medora.models.calibrated.CalibratedModel` a training
run registers: the event model (its code vocabulary and window inside) with the Platt
calibration fitted on the validation patients. A sequence model is explained event by event
(integrated gradients over each event's code embedding); a bag-of-codes baseline by code, each
code's contribution placed on its most recent event.

What one prediction stores (:func:`stored_inputs`, :func:`prediction_details`) and what
``medora predict`` prints come from the same :class:`EhrAssessment`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pandas as pd

from medora.areas.ehr.baselines import BagOfCodesClassifier
from medora.areas.ehr.featurizers import event_sequences
from medora.areas.ehr.models import EventSequenceClassifier
from medora.areas.ehr.tasks import (
    EventSamples,
    EventSequenceTask,
    IndexChoice,
    NoEligibleIndexError,
)
from medora.data.fhir import Cohort, coding_displays, read_document
from medora.data.ingest import IngestReport, read_records
from medora.data.meds import (
    BIRTH,
    DEATH,
    RecordRejected,
    parse_timestamp,
    split_code,
)
from medora.data.tabular import InputValidationError
from medora.models.calibrated import CalibratedModel
from medora.registry.store import ModelStore, ModelVersion

#: The inputs of an EHR prediction, as GET /tasks and the web form name them.
BUNDLE_INPUT, INDEX_TIME_INPUT = "bundle", "index_time"
BUNDLE_HINT = ("send one patient's FHIR R4 Bundle as JSON, as Synthea writes it or a FHIR "
               "server's Patient/$everything returns it")
INDEX_TIME_EXAMPLE = "2024-06-01T12:00:00"
#: Past events listed as the drivers of a prediction.
TOP_EVENTS = 10
#: Rejected resources listed with their location (all are counted).
LISTED_REJECTIONS = 20
DECIMALS = 4
#: Years of age beyond which an index time is taken for a date typed wrong.
MAX_AGE = 130
#: The event models a served EHR artifact may hold: they take EventSamples.
EVENT_MODELS = (EventSequenceClassifier, BagOfCodesClassifier)
#: HL7 ActCode encounter classes, as a clinician names them.
ENCOUNTER_CLASSES = {"IMP": "Inpatient", "AMB": "Ambulatory", "EMER": "Emergency",
                     "HH": "Home health", "VR": "Virtual", "OBSENC": "Observation",
                     "SS": "Short stay", "ACUTE": "Inpatient acute", "NONAC": "Inpatient "
                     "non-acute", "PRENC": "Pre-admission", "FLD": "Field"}


# -- The bundle ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PatientRecord:
    """One patient's bundle read into events (event-table columns, in the order the reader
    gave them), what became of its resources, the display text of its codes, and the
    bundle's SHA-256 and size."""

    events: pd.DataFrame
    report: IngestReport
    displays: dict[str, str]
    sha256: str
    size: int


def _problem(message: str, source: str, name: str = BUNDLE_INPUT) -> InputValidationError:
    return InputValidationError(source, [f"{name}: {message}"])


def _patients(document: dict[str, Any]) -> set[str]:
    """The logical ids (else ``fullUrl``) of the bundle's Patient resources."""
    found = set()
    for entry in document.get("entry") or ():
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if isinstance(resource, dict) and resource.get("resourceType") == "Patient":
            found.add(str(resource.get("id") or entry.get("fullUrl") or len(found)))
    return found


def read_patient_bundle(data: bytes, source: str = "bundle") -> PatientRecord:
    """The events of one patient's FHIR R4 Bundle (JSON bytes), read as ``medora data ingest``
    reads a bundle file.

    Raises :class:`InputValidationError` (each problem starting ``bundle:``, with its fix) for
    bytes that are not JSON, JSON that is not a Bundle, a bundle without a Patient or with
    several, and one none of whose resources gave an event. Resources rejected among accepted
    ones are counted in the report, not errors.
    """
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError as error:
        raise _problem(f"not JSON ({error}); {BUNDLE_HINT}", source) from None
    if not isinstance(document, dict):
        raise _problem(f"not a FHIR Bundle (a JSON {type(document).__name__}, not an object); "
                       f"{BUNDLE_HINT}", source)
    if document.get("resourceType") != "Bundle":
        raise _problem(f"not a FHIR Bundle (resourceType {document.get('resourceType')!r}); "
                       f"{BUNDLE_HINT}", source)
    if not isinstance(document.get("entry", []), list):
        raise _problem("the Bundle's entry is not a list; put each resource in an entry of "
                       "the Bundle's entry array, as FHIR R4 defines it", source)
    patients = _patients(document)
    if not patients:
        raise _problem("the Bundle holds no Patient resource; include the patient its "
                       "resources refer to (Synthea's bundles and Patient/$everything do)",
                       source)
    if len(patients) > 1:
        raise _problem(f"the Bundle holds {len(patients)} patients; a prediction is for one "
                       "patient: send each patient's bundle on its own", source)
    digest = hashlib.sha256(data).hexdigest()
    report = IngestReport(source=source, output="", source_format="fhir", source_files=1,
                          source_bytes=len(data), source_sha256=digest)
    read = read_records(read_document(document, Cohort(), source), LISTED_REJECTIONS)
    report.merge(read.tally, LISTED_REJECTIONS)
    if not read.events.num_rows:
        reasons = "; ".join(f"{count} {reason}" for reason, count in
                            report.rejected_by_reason.items()) or "nothing medora reads"
        first = report.rejections[0] if report.rejections else None
        example = f" (first: {first.location}, {first.detail})" if first else ""
        raise _problem(f"no resource of the Bundle gave an event: {reasons}{example}; fix the "
                       "rejected resources (medora reads Patient, Encounter, Condition, "
                       "Observation, MedicationRequest, MedicationAdministration, Procedure "
                       "and Immunization)", source)
    resources = [entry.get("resource") for entry in document.get("entry") or ()
                 if isinstance(entry, dict)]
    return PatientRecord(events=read.events.to_pandas(), report=report,
                         displays=coding_displays(resources), sha256=digest, size=len(data))


def parse_index_time(value: str | datetime | None) -> pd.Timestamp | None:
    """An index time given as ISO 8601 text (a date alone is its midnight; an offset is
    converted to UTC, as the event table's times are) or a datetime; None stays None."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        value = value.isoformat()
    try:
        return pd.Timestamp(parse_timestamp(value, INDEX_TIME_INPUT))
    except RecordRejected as error:
        detail = error.detail.removeprefix(f"{INDEX_TIME_INPUT} ")
        raise InputValidationError(INDEX_TIME_INPUT, [
            f"{INDEX_TIME_INPUT}: {detail}; or leave it out to predict at the task's latest "
            "index event in the record"]) from None


# -- The assessment ----------------------------------------------------------------------------


@dataclass(frozen=True)
class EhrAssessment:
    """What the model says of one patient at the index time.

    ``samples`` is the one sample (its ``events`` the sorted record); ``seen`` the rows of
    ``samples.events`` the model read; ``attributions`` (with an explanation) one row per
    event that carries one: ``row``, ``contribution`` to the log-odds and ``count`` (the
    events of the code it stands for: 1 for a sequence model's events).
    """

    index: IndexChoice
    samples: EventSamples
    seen: np.ndarray
    risk: float
    lower: float
    upper: float
    after_index: int
    before_window: int
    max_events: int | None
    explanation_method: str
    contributions: pd.DataFrame | None  # feature, value, contribution: the model's own terms
    attributions: pd.DataFrame | None

    @property
    def events(self) -> pd.DataFrame:
        return self.samples.events

    @property
    def age(self) -> float | None:
        age = self.samples.samples["age"].iloc[0]
        return None if pd.isna(age) else float(age)


def event_model(predictor: object) -> EventSequenceClassifier | BagOfCodesClassifier:
    """The event model inside a registered EHR artifact; TypeError naming what it holds
    instead."""
    model = getattr(predictor, "model", None)
    if not isinstance(predictor, CalibratedModel) or not isinstance(model, EVENT_MODELS):
        held = type(model if isinstance(predictor, CalibratedModel) else predictor).__name__
        raise TypeError(f"it holds a {held}, not an event model; register a model trained "
                        "with `medora train ehr.<task> --data EVENTS`")
    return model


def _rows_read(model: EventSequenceClassifier | BagOfCodesClassifier,
               samples: EventSamples) -> tuple[np.ndarray, int | None]:
    """The rows of the sample's inputs the model reads, and its window (None: all)."""
    start, stop = (int(samples.samples[column].iloc[0]) for column in ("start", "stop"))
    if isinstance(model, BagOfCodesClassifier):
        return np.arange(start, stop), None  # every input event is counted
    sequences = event_sequences(samples, model.vocabulary_, model.config.max_events)
    rows = sequences.rows[0][sequences.rows[0] >= 0]
    # The birth is no event of the sequence, but the age at every event comes from it.
    codes = samples.events["code"].to_numpy()[start:stop]
    births = start + np.flatnonzero(codes == BIRTH)
    return np.union1d(rows, births), model.config.max_events


def _attributions(model: EventSequenceClassifier | BagOfCodesClassifier,
                  samples: EventSamples, explanation: pd.DataFrame) -> pd.DataFrame:
    """One row per input event that carries a contribution: ``row``, ``contribution``,
    ``count``."""
    if "row" in explanation.columns:  # a sequence model: each event its own
        return pd.DataFrame({"row": explanation["row"].to_numpy(dtype=np.int64),
                             "contribution": explanation["contribution"].to_numpy(dtype=float),
                             "count": 1})
    # A bag of codes: a code's count is one feature, shown on the code's most recent event.
    start, stop = (int(samples.samples[column].iloc[0]) for column in ("start", "stop"))
    inputs = samples.events.iloc[start:stop]
    last = pd.Series(inputs.index.to_numpy(), index=inputs["code"].to_numpy())
    last = last[~last.index.duplicated(keep="last")]
    counted = explanation[explanation["feature"].str.startswith("count:")].copy()
    counted["code"] = counted["feature"].str.removeprefix("count:")
    counted = counted[counted["code"].isin(last.index)]
    return pd.DataFrame({"row": last[counted["code"]].to_numpy(dtype=np.int64),
                         "contribution": counted["contribution"].to_numpy(dtype=float),
                         "count": counted["value"].to_numpy(dtype=float).astype(np.int64)})


def _no_index(task: EventSequenceTask, error: NoEligibleIndexError, given: bool,
              source: str) -> InputValidationError:
    if given:
        fix = (f"give an index time at which {task.index.applies}, or leave it out to predict "
               "at the task's latest index event in the record")
        return InputValidationError(source, [f"{INDEX_TIME_INPUT}: {error}; {fix}"])
    fix = (f"pass {INDEX_TIME_INPUT} (ISO 8601, e.g. {INDEX_TIME_EXAMPLE}; `--index-time` on "
           f"the command line) to predict at a time the record does not mark, such as a "
           f"discharge it does not hold yet, at which {task.index.applies}")
    return InputValidationError(source, [f"{BUNDLE_INPUT}: {error}; {fix}"])


def _check_age(record: PatientRecord, index: IndexChoice) -> None:
    """Refuse an index time at which the patient would be older than anyone lives: a date
    typed wrong (9999-12-31), which the model cannot place either."""
    births = record.events.loc[record.events["code"] == BIRTH, "time"].dropna()
    if births.empty:
        return
    # In Python datetimes: pandas' nanosecond arithmetic overflows beyond 292 years.
    years = (index.time.to_pydatetime() - births.min().to_pydatetime()).days / 365.25
    if years > MAX_AGE:
        given = index.source == "given"
        where = "the index time" if given else "the latest index event,"
        raise _problem(f"at {where} {index.time}, the patient would be {years:.0f} years "
                       "old; check the record's dates", record.report.source,
                       INDEX_TIME_INPUT if given else BUNDLE_INPUT)


def assess(task: EventSequenceTask, predictor: CalibratedModel, record: PatientRecord,
           index_time: pd.Timestamp | None = None, explain: bool = True) -> EhrAssessment:
    """Predict for the patient of ``record`` at ``index_time`` (else at the task's latest
    eligible index event) with ``predictor``, a registered EHR artifact.

    Raises :class:`InputValidationError` when the task does not predict there, saying why and
    how to fix it; TypeError when ``predictor`` holds no event model.
    """
    model = event_model(predictor)
    try:
        index = task.choose_index(record.events, index_time)
    except NoEligibleIndexError as error:
        raise _no_index(task, error, index_time is not None, record.report.source) from None
    _check_age(record, index)
    samples = task.samples_at(record.events, index.time)
    try:
        risk = predictor.predict_risk(samples)
    except ValueError:  # no finite probability: times the model cannot place
        raise _problem(f"the model gives no finite risk at {index.time}; check the record's "
                       "dates", record.report.source) from None
    seen, window = _rows_read(model, samples)
    start, stop = (int(samples.samples[column].iloc[0]) for column in ("start", "stop"))
    contributions = attributions = None
    if explain:
        explanation = predictor.explain(samples)
        attributions = _attributions(model, samples, explanation)
        contributions = explanation[["feature", "value", "contribution"]]
    return EhrAssessment(
        index=index, samples=samples, seen=seen, risk=float(risk.risk[0]),
        lower=float(risk.lower[0]), upper=float(risk.upper[0]),
        after_index=len(samples.events) - stop, before_window=(stop - start) - len(seen),
        max_events=window, explanation_method=model.explanation_method,
        contributions=contributions, attributions=attributions)


# -- What is stored and shown -------------------------------------------------------------------


def _number(value: object) -> float | None:
    return None if value is None or pd.isna(value) else float(f"{float(value):.6g}")


def _text(value: object) -> str | None:
    return None if value is None or pd.isna(value) else str(value)


def _time(value: object) -> str | None:
    return None if value is None or pd.isna(value) else pd.Timestamp(value).isoformat()


def display_text(code: str, text_value: str | None, displays: Mapping[str, str]) -> str | None:
    """How a clinician names an event: the bundle's display text of its code, else the name of
    medora's own codes (an encounter's class, birth, death, sex, race and ethnicity)."""
    if code in displays:
        return displays[code]
    kind, _, value = code.partition("/")
    if code == BIRTH:
        return "Birth"
    if code == DEATH:
        return "Death"
    if kind == "ENCOUNTER":
        return f"{ENCOUNTER_CLASSES.get(value, value)} encounter begins"
    if kind == "ENCOUNTER_END":
        return f"{ENCOUNTER_CLASSES.get(value, value)} encounter ends"
    if kind == "GENDER":
        return f"Sex: {value}"
    if kind in ("RACE", "ETHNICITY"):
        return f"{kind.capitalize()}: {text_value or value}"
    return None


def stored_event(row: Any, displays: Mapping[str, str]) -> dict[str, Any]:
    """One event as a prediction stores it (null fields left out)."""
    text = _text(row.text_value)
    event = {"time": _time(row.time), "code": row.code, "value": _number(row.numeric_value),
             "unit": _text(row.unit), "text": text,
             "text_display": displays.get(text) if text else None,
             "encounter": _text(row.encounter_id),
             "display": display_text(row.code, text, displays)}
    return {key: value for key, value in event.items() if value is not None}


def stored_inputs(assessment: EhrAssessment, record: PatientRecord) -> dict[str, Any]:
    """The prediction's inputs: the events the model read (oldest first), the index time and
    the SHA-256 of the bundle they came from; the bundle itself is not kept."""
    seen = assessment.events.iloc[assessment.seen]
    return {"bundle_sha256": record.sha256, INDEX_TIME_INPUT: _time(assessment.index.time),
            "events": [stored_event(row, record.displays)
                       for row in seen.itertuples(index=False)]}


def top_events(assessment: EhrAssessment, record: PatientRecord, k: int = TOP_EVENTS
               ) -> list[dict[str, Any]]:
    """The ``k`` past events with the largest contributions, either way: each with its
    position among the stored events, time, code and vocabulary, display text, value and unit,
    days before the index time and contribution to the log-odds."""
    if assessment.attributions is None or assessment.attributions.empty:
        return []
    attributions = assessment.attributions
    order = np.argsort(-np.abs(attributions["contribution"].to_numpy()), kind="stable")[:k]
    top = attributions.iloc[order]
    positions = {int(row): position for position, row in enumerate(assessment.seen)}
    index_time = assessment.index.time
    chosen = []
    rows = assessment.events.iloc[top["row"].to_numpy()]
    for item, row in zip(top.itertuples(index=False), rows.itertuples(index=False),
                         strict=True):
        vocabulary, concept = split_code(row.code)
        days = (None if pd.isna(row.time) else
                round((index_time - row.time) / pd.Timedelta(days=1), 2))
        event = stored_event(row, record.displays) | {
            "position": positions.get(int(item.row)), "vocabulary": vocabulary,
            "concept": concept, "days_before": days,
            "contribution": round(float(item.contribution), DECIMALS),
            "count": int(item.count)}
        chosen.append({key: value for key, value in event.items() if value is not None})
    return chosen


def top_terms(assessment: EhrAssessment, k: int = TOP_EVENTS) -> list[dict[str, Any]]:
    """The model's own top terms in the shape of every prediction's explanation: for a sequence
    model an event's code with its days before the index time, for a bag of codes a code's
    count or a demographic column."""
    if assessment.contributions is None or assessment.contributions.empty:
        return []
    terms = assessment.contributions
    order = np.argsort(-np.abs(terms["contribution"].to_numpy()), kind="stable")[:k]
    return [{"feature": str(item.feature), "value": _number(item.value),
             "contribution": round(float(item.contribution), DECIMALS)}
            for item in terms.iloc[order].itertuples(index=False)]


def prediction_details(assessment: EhrAssessment, record: PatientRecord) -> dict[str, Any]:
    """Where the prediction was made, on what, and why: the index time and how it was chosen,
    the event counts (in the record, read by the model, left out after the index time or
    before the model's window), what became of the bundle's resources, and the top events."""
    report = record.report
    return {
        "kind": "event_sequence", INDEX_TIME_INPUT: _time(assessment.index.time),
        "index_source": assessment.index.source,
        "age_at_index": None if assessment.age is None else round(assessment.age, 1),
        "events_in_record": len(assessment.events), "events_seen": len(assessment.seen),
        "events_after_index": assessment.after_index,
        "events_before_window": assessment.before_window,
        "max_events": assessment.max_events, "bundle_sha256": record.sha256,
        "bundle_bytes": record.size,
        "ingest": {kind: asdict(counts) for kind, counts in report.counts.items()},
        "rejected_by_reason": dict(report.rejected_by_reason),
        "rejections": [asdict(item) for item in report.rejections],
        "explanation_method": assessment.explanation_method,
        "top_events": top_events(assessment, record),
    }


# -- `medora predict` ---------------------------------------------------------------------------


@dataclass(frozen=True)
class EhrPrediction:
    """One patient's prediction (``table``: one row, as `medora predict` prints it), the
    version that made it, and what it stands on."""

    table: pd.DataFrame
    version: ModelVersion
    assessment: EhrAssessment
    record: PatientRecord
    details: dict[str, Any]


def read_bundle_file(path: Path) -> PatientRecord:
    if not path.is_file():
        raise InputValidationError(str(path), [f"file not found; {BUNDLE_HINT}"])
    return read_patient_bundle(path.read_bytes(), source=path.name)


def predict_ehr_patient(task: EventSequenceTask, path: Path, *,
                        index_time: str | None = None, version: int | None = None,
                        store: ModelStore | None = None, explain: bool = False
                        ) -> EhrPrediction:
    """The risk of the patient whose bundle is at ``path``, at ``index_time`` (else the task's
    latest eligible index event), with the version that made it; with ``explain``, the top
    past events.

    Raises :class:`InputValidationError` for a bundle or an index time that cannot be used.
    """
    from medora.registry.versions import ModelUnavailableError, usable_version

    store = store or ModelStore()
    at = parse_index_time(index_time)
    record = read_bundle_file(path)
    stored = usable_version(task, store, version)  # type: ignore[arg-type]
    predictor = store.load(stored)
    try:
        assessment = assess(task, predictor, record, at, explain=explain)
    except TypeError as error:
        raise ModelUnavailableError(f"{task.name} v{stored.version}: {error}") from None
    details = prediction_details(assessment, record)
    row = {"patient": _patient_label(record), INDEX_TIME_INPUT: details[INDEX_TIME_INPUT],
           "risk": round(assessment.risk, DECIMALS),
           "risk_lower": round(assessment.lower, DECIMALS),
           "risk_upper": round(assessment.upper, DECIMALS),
           "flagged": assessment.risk >= task.threshold.value,
           "events_seen": details["events_seen"],
           "events_after_index": details["events_after_index"],
           "model_version": f"{task.name}:v{stored.version}"}
    if explain:
        row["top_events"] = "; ".join(describe_event(event) for event in details["top_events"])
    return EhrPrediction(table=pd.DataFrame([row]), version=stored, assessment=assessment,
                         record=record, details=details)


def describe_event(event: Mapping[str, Any]) -> str:
    """An event of ``top_events`` on one line: date, code, display text, value and unit, and
    its contribution."""
    when = (event["time"][:10] if "time" in event else "static")
    text = event.get("text_display") or event.get("text")
    value = (f" {event['value']:g}{' ' + event['unit'] if 'unit' in event else ''}"
             if "value" in event else f" {text}" if text else "")
    name = f" {event['display']}" if "display" in event else ""
    count = f" (x{event['count']})" if event.get("count", 1) > 1 else ""
    return f"{when} {event['code']}{name}{value}{count} ({event['contribution']:+.3f})"


def _patient_label(record: PatientRecord) -> str:
    """The patient's subject id in the event table (a hash of the Patient's logical id)."""
    return str(int(record.events["subject_id"].iloc[0]))

