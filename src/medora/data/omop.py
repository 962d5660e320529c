"""OMOP CDM 5.4 as CSV tables in a folder: read into events, and written from them.

Reading takes ``person.csv`` first (the cohort), then ``visit_occurrence``,
``condition_occurrence``, ``drug_exposure``, ``measurement``, ``procedure_occurrence`` and
``death`` where present, one row at a time; header names are read case-insensitively. A
concept id becomes ``VOCAB/code`` through ``concept.csv`` when the folder has one, else
``OMOP_CONCEPT/<id>``. A full vocabulary's ``concept.csv`` holds millions of rows, so only
the concepts the tables use are kept, found by a first pass over their concept columns. Gender,
race, ethnicity and visit concepts are read through the standard concept ids below; a
concept id of 0 falls back to the row's source value.

Writing takes a sorted event table (as :class:`~medora.data.meds.EventWriter` writes it) and
holds one subject's person facts and open visits at a time. No OMOP vocabulary ships offline,
so a code is given a site concept id (OMOP reserves those above 2,000,000,000), listed with
its vocabulary and code in ``concept.csv``; reading the folder back gives the same events
(subject, time, code, value, unit, text, domain).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from medora.data.meds import (
    BIRTH,
    DEATH,
    OMB_CATEGORIES,
    Event,
    Reason,
    RecordRejected,
    SourceRecord,
    convert_record,
    parse_timestamp,
    split_code,
    stable_id,
)
from medora.data.tabular import InputValidationError

Row = dict[str, str]

#: Standard concept ids of the person and visit facts medora codes by name.
GENDER_CONCEPTS = {"male": 8507, "female": 8532}
RACE_CONCEPTS = {"1002-5": 8657, "2028-9": 8515, "2054-5": 8516, "2076-8": 8557,
                 "2106-3": 8527}
ETHNICITY_CONCEPTS = {"2135-2": 38003563, "2186-5": 38003564}
VISIT_CONCEPTS = {"IMP": 9201, "AMB": 9202, "EMER": 9203, "HH": 581476, "VR": 5083}
_GENDERS = {concept: name for name, concept in GENDER_CONCEPTS.items()}
_RACES = {concept: code for code, concept in RACE_CONCEPTS.items()}
_ETHNICITIES = {concept: code for code, concept in ETHNICITY_CONCEPTS.items()}
_VISIT_CLASSES = {concept: code for code, concept in VISIT_CONCEPTS.items()} | {
    262: "IMP"}  # Emergency Room and Inpatient Visit: an admission
EHR_RECORD = 32817  # the Type Concept of a record taken from an electronic health record
SITE_CONCEPT_START = 2_000_000_001


@dataclass(frozen=True)
class ClinicalTable:
    """A CDM table of coded events and the columns medora reads and writes in it."""

    name: str
    domain: str
    row_id: str
    concept: str
    date: str
    datetime: str
    type_concept: str
    source_value: str
    values: bool = False  # value_as_number, unit_source_value and value_source_value
    end_date: str | None = None  # required by the CDM; medora knows no end: the start

    @property
    def required(self) -> tuple[str, ...]:
        """The columns medora cannot read the table without."""
        return ("person_id", self.concept, self.date)

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.row_id, "person_id", self.concept, self.date, self.datetime,
                self.type_concept, "visit_occurrence_id", self.source_value,
                *(_VALUE_COLUMNS if self.values else ()),
                *((self.end_date,) if self.end_date else ()))


_VALUE_COLUMNS = ("value_as_number", "unit_source_value", "value_source_value")
CLINICAL_TABLES = (
    ClinicalTable("condition_occurrence", "condition", "condition_occurrence_id",
                  "condition_concept_id", "condition_start_date", "condition_start_datetime",
                  "condition_type_concept_id", "condition_source_value"),
    ClinicalTable("drug_exposure", "drug", "drug_exposure_id", "drug_concept_id",
                  "drug_exposure_start_date", "drug_exposure_start_datetime",
                  "drug_type_concept_id", "drug_source_value",
                  end_date="drug_exposure_end_date"),
    ClinicalTable("measurement", "measurement", "measurement_id", "measurement_concept_id",
                  "measurement_date", "measurement_datetime", "measurement_type_concept_id",
                  "measurement_source_value", values=True),
    ClinicalTable("procedure_occurrence", "procedure", "procedure_occurrence_id",
                  "procedure_concept_id", "procedure_date", "procedure_datetime",
                  "procedure_type_concept_id", "procedure_source_value"),
)
PERSON_COLUMNS = ("person_id", "gender_concept_id", "year_of_birth", "month_of_birth",
                  "day_of_birth", "birth_datetime", "race_concept_id", "ethnicity_concept_id",
                  "gender_source_value", "race_source_value", "ethnicity_source_value")
VISIT_COLUMNS = ("visit_occurrence_id", "person_id", "visit_concept_id", "visit_start_date",
                 "visit_start_datetime", "visit_end_date", "visit_end_datetime",
                 "visit_type_concept_id", "visit_source_value")
DEATH_COLUMNS = ("person_id", "death_date", "death_datetime", "death_type_concept_id")
CONCEPT_COLUMNS = ("concept_id", "concept_name", "domain_id", "vocabulary_id",
                   "concept_class_id", "standard_concept", "concept_code", "valid_start_date",
                   "valid_end_date", "invalid_reason")


# -- Reading -----------------------------------------------------------------------------------


def _rows(path: Path, name: str, required: Sequence[str]) -> Iterator[tuple[str, Row]]:
    """(``file:line``, row) of a CSV table whose header has the ``required`` columns."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle, restval="")  # short rows read as empty cells
        reader.fieldnames = [column.strip().lower() for column in reader.fieldnames or ()]
        missing = [column for column in required if column not in reader.fieldnames]
        if missing:
            raise InputValidationError(name, [
                f"missing column(s) {', '.join(missing)}; expected the OMOP CDM 5.4 columns "
                f"{', '.join(required)} (columns in the file: {', '.join(reader.fieldnames)})"])
        for row in reader:
            yield f"{name}:{reader.line_num}", row


def _integer(text: str | None, column: str, reason: Reason) -> int:
    try:
        return int((text or "").strip())
    except ValueError:
        raise RecordRejected(reason, f"{column} is {text!r}; expected an integer") from None


def _time(row: Row, moment: str, day: str) -> datetime:
    if row.get(moment, "").strip():
        return parse_timestamp(row[moment], moment)
    if row.get(day, "").strip():
        return parse_timestamp(row[day], day)
    raise RecordRejected(Reason.MISSING_DATE, f"neither {moment} nor {day} is given")


def _optional_time(row: Row, moment: str, day: str) -> datetime | None:
    return _time(row, moment, day) if row.get(moment) or row.get(day) else None


def _subject(row: Row, persons: set[int]) -> int:
    subject = _integer(row.get("person_id"), "person_id", Reason.MISSING_SUBJECT)
    if subject not in persons:
        raise RecordRejected(Reason.UNKNOWN_REFERENCE, f"person_id {subject} is not in "
                                                       "person.csv")
    return subject


def _concept(row: Row, column: str) -> int:
    return _integer(row.get(column) or "0", column, Reason.MISSING_CODE)


def _named(concept: int, names: dict[int, str], source: str | None) -> str | None:
    """The medora name of a standard concept, else the source value (concept 0 = unmapped)."""
    return names.get(concept) or (source or "").strip() or None


def _person_events(row: Row, persons: set[int]) -> list[Event]:
    subject = _integer(row.get("person_id"), "person_id", Reason.MISSING_SUBJECT)
    events = []
    if row.get("birth_datetime", "").strip():
        birth: datetime | None = parse_timestamp(row["birth_datetime"], "birth_datetime")
    elif row.get("year_of_birth", "").strip():
        parts = [row.get(name, "").strip() or "1"
                 for name in ("year_of_birth", "month_of_birth", "day_of_birth")]
        try:
            birth = datetime(*(int(part) for part in parts))
        except ValueError:
            raise RecordRejected(Reason.BAD_DATE, "year/month/day_of_birth "
                                                  f"{'-'.join(parts)} is no date") from None
    else:
        birth = None
    if birth is not None:
        events.append(Event(subject, birth, BIRTH, "person"))
    gender = _named(_concept(row, "gender_concept_id"), _GENDERS,
                    row.get("gender_source_value"))
    if gender:
        events.append(Event(subject, None, f"GENDER/{gender}", "person"))
    for prefix, codes in (("RACE", _RACES), ("ETHNICITY", _ETHNICITIES)):
        column = prefix.lower()
        code = _named(_concept(row, f"{column}_concept_id"), codes,
                      row.get(f"{column}_source_value"))
        if code:
            events.append(Event(subject, None, f"{prefix}/{code}", "person",
                                text_value=OMB_CATEGORIES.get(code)))
    persons.add(subject)  # only a person read whole joins the cohort
    return events


def _visit_events(row: Row, persons: set[int]) -> list[Event]:
    subject = _subject(row, persons)
    kind = _named(_concept(row, "visit_concept_id"), _VISIT_CLASSES,
                  row.get("visit_source_value"))
    if kind is None:
        raise RecordRejected(Reason.MISSING_CODE, "visit_concept_id is 0 and "
                                                  "visit_source_value is empty")
    visit = row.get("visit_occurrence_id") or None
    events = [Event(subject, _time(row, "visit_start_datetime", "visit_start_date"),
                    f"ENCOUNTER/{kind}", "visit", encounter_id=visit)]
    end = _optional_time(row, "visit_end_datetime", "visit_end_date")
    if end is not None:
        events.append(Event(subject, end, f"ENCOUNTER_END/{kind}", "visit",
                            encounter_id=visit))
    return events


def _number(text: str) -> float | None:
    if not text.strip():
        return None
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise RecordRejected(Reason.BAD_VALUE, f"value_as_number is {text!r}; expected a number")
    return value


def _clinical_events(row: Row, table: ClinicalTable, persons: set[int],
                     codes: dict[int, str]) -> list[Event]:
    subject = _subject(row, persons)
    time = _time(row, table.datetime, table.date)
    concept = _concept(row, table.concept)
    if concept == 0:
        raise RecordRejected(Reason.MISSING_CODE, f"{table.concept} is 0 (no concept); map "
                                                  "the source code to a concept")
    numeric, unit, text = ((_number(row.get("value_as_number", "")),
                            row.get("unit_source_value") or None,
                            row.get("value_source_value") or None)
                           if table.values else (None, None, None))
    return [Event(subject, time, codes.get(concept, f"OMOP_CONCEPT/{concept}"), table.domain,
                  numeric, unit, text, row.get("visit_occurrence_id") or None)]


def _death_events(row: Row, persons: set[int]) -> list[Event]:
    return [Event(_subject(row, persons), _time(row, "death_datetime", "death_date"), DEATH,
                  "death")]


def _concept_codes(concept_file: Path | None, tables: Sequence[tuple[Path, ClinicalTable]]
                   ) -> dict[int, str]:
    """``VOCAB/code`` of the concepts the clinical tables use, from ``concept.csv``."""
    if concept_file is None:
        return {}
    used = set()
    for path, table in tables:
        for _, row in _rows(path, path.name, table.required):
            used.add(row[table.concept].strip())
    codes = {}
    for _, row in _rows(concept_file, concept_file.name,
                        ("concept_id", "vocabulary_id", "concept_code")):
        if row["concept_id"].strip() in used:
            codes[int(row["concept_id"])] = f"{row['vocabulary_id']}/{row['concept_code']}"
    return codes


def read_omop(folder: Path) -> Iterator[SourceRecord]:
    """The records of the OMOP CSV tables in ``folder`` (see the module docstring).

    Raises :class:`InputValidationError` when ``person.csv`` is missing or a table lacks a
    column it needs; a row that cannot be read is a rejected record.
    """
    tables = {path.name.lower(): path for path in sorted(folder.iterdir())
              if path.suffix.lower() == ".csv"}
    if "person.csv" not in tables:
        raise InputValidationError(str(folder), [
            "no person.csv: an OMOP source is a folder of CDM tables as CSV files (person.csv, "
            "visit_occurrence.csv, condition_occurrence.csv, ...)"])
    persons: set[int] = set()
    for location, row in _rows(tables["person.csv"], "person.csv", ("person_id",)):
        yield convert_record("person", location, partial(_person_events, row, persons))
    if "visit_occurrence.csv" in tables:
        for location, row in _rows(tables["visit_occurrence.csv"], "visit_occurrence.csv",
                                   ("person_id", "visit_concept_id", "visit_start_date")):
            yield convert_record("visit_occurrence", location,
                                 partial(_visit_events, row, persons))
    clinical = [(tables[f"{table.name}.csv"], table) for table in CLINICAL_TABLES
                if f"{table.name}.csv" in tables]
    codes = _concept_codes(tables.get("concept.csv"), clinical)
    for path, table in clinical:
        for location, row in _rows(path, path.name, table.required):
            yield convert_record(table.name, location,
                                 partial(_clinical_events, row, table, persons, codes))
    if "death.csv" in tables:
        for location, row in _rows(tables["death.csv"], "death.csv",
                                   ("person_id", "death_date")):
            yield convert_record("death", location, partial(_death_events, row, persons))


# -- Writing -----------------------------------------------------------------------------------


def _day(time: datetime | None) -> str:
    return time.date().isoformat() if time else ""


def _moment(time: datetime | None) -> str:
    return time.isoformat(sep=" ") if time else ""


def _float32_text(value: float | None) -> str:
    # numpy prints the shortest text that reads back as the same float32 (111.6, not
    # 111.5999984741211), so the value survives the round trip and reads as it was measured.
    return "" if value is None else str(np.float32(value))


def _visit_id(encounter: str) -> int:
    # An OMOP visit id read back stays itself; a FHIR id (a UUID) becomes a stable integer.
    return int(encounter) if encounter.isdigit() else stable_id(encounter)


@dataclass
class _Subject:
    """What the person and visit tables need of one subject, gathered over its events."""

    subject_id: int
    facts: dict[str, Any] = field(default_factory=dict)  # GENDER, RACE, ... and MEDS_BIRTH
    visits: dict[str, list[Any]] = field(default_factory=dict)  # encounter -> class, start, end


class _Tables:
    """The CSV tables being written, and the subject whose events are arriving."""

    def __init__(self, folder: Path, files: ExitStack) -> None:
        self.folder = folder

        def table(name: str, columns: Sequence[str]) -> Any:
            writer = csv.writer(files.enter_context((folder / f"{name}.csv").open(
                "w", newline="", encoding="utf-8")))
            writer.writerow(columns)
            return writer

        self.person = table("person", PERSON_COLUMNS)
        self.visits = table("visit_occurrence", VISIT_COLUMNS)
        self.death = table("death", DEATH_COLUMNS)
        self.clinical = {spec.domain: (spec, table(spec.name, spec.columns))
                         for spec in CLINICAL_TABLES}
        self.concepts: dict[str, tuple[int, str]] = {}  # code -> site concept id, domain
        self.rows = dict.fromkeys(("person", "visit_occurrence", "death",
                                   *(spec.name for spec in CLINICAL_TABLES), "concept"), 0)
        self.current: _Subject | None = None

    def add(self, event: Event) -> None:
        subject = self.current
        if subject is None or event.subject_id != subject.subject_id:
            if subject is not None and event.subject_id < subject.subject_id:
                raise InputValidationError("event table", [
                    f"subject {event.subject_id} follows subject {subject.subject_id}: the "
                    "table is not sorted by subject_id; write it with `medora data ingest`"])
            self._finish_subject()
            subject = self.current = _Subject(event.subject_id)
        if event.domain == "person":
            kind, _, value = event.code.partition("/")
            subject.facts[kind] = event.time if event.code == BIRTH else value
        elif event.domain == "visit":
            kind, _, visit_class = event.code.partition("/")
            key = event.encounter_id or f"{event.subject_id}/{len(subject.visits)}"
            visit = subject.visits.setdefault(key, [visit_class, None, None])
            visit[1 if kind == "ENCOUNTER" else 2] = event.time
        elif event.domain == "death":
            self.death.writerow((event.subject_id, _day(event.time), _moment(event.time),
                                 EHR_RECORD))
            self.rows["death"] += 1
        elif event.domain in self.clinical:
            self._clinical(event)
        else:
            raise InputValidationError("event table", [
                f"event {event.code} of subject {event.subject_id} has domain "
                f"{event.domain!r}; expected one of person, visit, death, "
                f"{', '.join(self.clinical)}"])

    def _clinical(self, event: Event) -> None:
        spec, writer = self.clinical[event.domain]
        self.rows[spec.name] += 1
        row = [self.rows[spec.name], event.subject_id, self._concept_id(event),
               _day(event.time), _moment(event.time), EHR_RECORD,
               _visit_id(event.encounter_id) if event.encounter_id else "", event.code]
        if spec.values:
            row += [_float32_text(event.numeric_value), event.unit or "", event.text_value or ""]
        if spec.end_date:
            row.append(_day(event.time))
        writer.writerow(row)

    def _concept_id(self, event: Event) -> int:
        vocabulary, code = split_code(event.code)
        if vocabulary == "OMOP_CONCEPT":
            return int(code)
        concept = self.concepts.setdefault(
            event.code, (SITE_CONCEPT_START + len(self.concepts), event.domain))
        return concept[0]

    def _finish_subject(self) -> None:
        """Write the person row and the visits of the subject whose events just ended."""
        subject = self.current
        if subject is None:
            return
        birth = subject.facts.get(BIRTH)
        gender, race, ethnicity = (subject.facts.get(kind, "")
                                   for kind in ("GENDER", "RACE", "ETHNICITY"))
        self.person.writerow((
            subject.subject_id, GENDER_CONCEPTS.get(gender, 0),
            *((birth.year, birth.month, birth.day) if birth else ("", "", "")), _moment(birth),
            RACE_CONCEPTS.get(race, 0), ETHNICITY_CONCEPTS.get(ethnicity, 0), gender, race,
            ethnicity))
        self.rows["person"] += 1
        for encounter, (visit_class, start, end) in subject.visits.items():
            self.visits.writerow((
                _visit_id(encounter), subject.subject_id, VISIT_CONCEPTS.get(visit_class, 0),
                _day(start or end), _moment(start), _day(end or start), _moment(end),
                EHR_RECORD, visit_class))
            self.rows["visit_occurrence"] += 1

    def finish(self) -> dict[str, int]:
        """Write the last subject and ``concept.csv``; the rows written per table."""
        self._finish_subject()
        with (self.folder / "concept.csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(CONCEPT_COLUMNS)
            for code, (concept, domain) in self.concepts.items():
                vocabulary, value = split_code(code)
                writer.writerow((concept, code, domain.capitalize(), vocabulary, "", "", value,
                                 "1970-01-01", "2099-12-31", ""))
        self.rows["concept"] = len(self.concepts)
        return self.rows


def write_omop(events: Iterable[Event], folder: Path) -> dict[str, int]:
    """Write events sorted by subject (an event table as medora writes it, read with
    :func:`~medora.data.meds.iter_events`) as OMOP CDM CSV tables in ``folder``, replacing
    tables of the same names; returns the rows written per table."""
    folder.mkdir(parents=True, exist_ok=True)
    with ExitStack() as files:
        tables = _Tables(folder, files)
        for event in events:
            tables.add(event)
        return tables.finish()
