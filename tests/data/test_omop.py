"""OMOP CDM CSV: reading a small hand-written CDM folder (with broken rows), and the round trips
events -> OMOP -> events and OMOP -> events -> OMOP."""

from __future__ import annotations

import csv
import shutil
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest

from medora.data.ingest import ingest
from medora.data.meds import Event, Reason, iter_events, read_events
from medora.data.omop import read_omop, write_omop
from medora.data.tabular import InputValidationError

FIXTURES = Path(__file__).parent / "fixtures"
OMOP = FIXTURES / "omop"
COMPARED = ["subject_id", "time", "code", "numeric_value", "unit", "text_value", "domain"]


def test_read_omop_events_codes_and_rejections() -> None:
    records = list(read_omop(OMOP))
    events = {event for record in records for event in record.events}
    assert events == {
        # person.csv has upper-case headers; gender and race come from their concepts.
        Event(101, datetime(1955, 3, 1), "MEDS_BIRTH", "person"),
        Event(101, None, "GENDER/female", "person"),
        Event(101, None, "RACE/2106-3", "person", text_value="White"),
        Event(101, None, "ETHNICITY/2186-5", "person", text_value="Not Hispanic or Latino"),
        Event(102, datetime(1970, 6, 30, 4, 15), "MEDS_BIRTH", "person"),
        Event(102, None, "GENDER/male", "person"),
        Event(102, None, "RACE/other", "person"),  # concept 0: the source value
        Event(101, datetime(2019, 1, 10, 8), "ENCOUNTER/IMP", "visit", encounter_id="5001"),
        Event(101, datetime(2019, 1, 14, 16, 30), "ENCOUNTER_END/IMP", "visit",
              encounter_id="5001"),
        # 262 (Emergency Room and Inpatient Visit) is an admission; dates alone are midnight.
        Event(101, datetime(2019, 2, 1), "ENCOUNTER/IMP", "visit", encounter_id="5002"),
        Event(101, datetime(2019, 2, 3), "ENCOUNTER_END/IMP", "visit", encounter_id="5002"),
        Event(102, datetime(2019, 5, 5, 10), "ENCOUNTER/AMB", "visit", encounter_id="5003"),
        Event(102, datetime(2019, 5, 5, 10, 20), "ENCOUNTER_END/AMB", "visit",
              encounter_id="5003"),
        Event(101, datetime(2019, 1, 10), "SNOMED/44054006", "condition", encounter_id="5001"),
        # Not in concept.csv: the concept id stands for itself.
        Event(101, datetime(2019, 1, 14, 15), "OMOP_CONCEPT/1503297", "drug",
              encounter_id="5001"),
        Event(101, datetime(2019, 1, 10, 9, 12), "LOINC/4548-4", "measurement", 8.1, "%",
              encounter_id="5001"),
        Event(102, datetime(2019, 5, 5, 10, 5), "LOINC/4548-4", "measurement", 5.4, "%",
              encounter_id="5003"),
        Event(102, datetime(2019, 5, 5), "SNOMED/185349003", "procedure", encounter_id="5003"),
        Event(101, datetime(2019, 3, 20), "MEDS_DEATH", "death"),
    }
    assert [(record.location, record.reason) for record in records if record.reason] == [
        ("condition_occurrence.csv:3", Reason.MISSING_CODE),
        ("measurement.csv:4", Reason.BAD_DATE),
        ("measurement.csv:5", Reason.UNKNOWN_REFERENCE),
    ]


def test_a_folder_without_person_or_a_needed_column_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputValidationError, match=r"no person\.csv"):
        list(read_omop(tmp_path))
    shutil.copytree(OMOP, tmp_path / "omop")
    (tmp_path / "omop" / "measurement.csv").write_text("measurement_id,person_id\n1,101\n")
    with pytest.raises(InputValidationError) as raised:
        list(read_omop(tmp_path / "omop"))
    assert "measurement.csv" in str(raised.value)
    assert "missing column(s) measurement_concept_id, measurement_date" in str(raised.value)


def _canonical(frame: pd.DataFrame) -> pd.DataFrame:
    """The events as a multiset: the table orders events of one subject at one time as the
    source listed them, which differs between FHIR and OMOP."""
    return frame[COMPARED].sort_values(COMPARED, na_position="first").reset_index(drop=True)


def test_fhir_events_survive_omop_round_trip(tmp_path: Path) -> None:
    ingest(FIXTURES / "fhir" / "bundles", tmp_path / "fhir.parquet")
    rows = write_omop(iter_events(tmp_path / "fhir.parquet", require=["domain"]),
                      tmp_path / "omop")
    assert rows == {"person": 3, "visit_occurrence": 8, "death": 1, "condition_occurrence": 11,
                    "drug_exposure": 7, "measurement": 103, "procedure_occurrence": 6,
                    "concept": 86}
    report = ingest(tmp_path / "omop", tmp_path / "back.parquet")
    assert report.rejected_by_reason == {}
    before, after = read_events(tmp_path / "fhir.parquet"), read_events(tmp_path / "back.parquet")
    pd.testing.assert_frame_equal(_canonical(before), _canonical(after))
    assert before["encounter_id"].nunique() == after["encounter_id"].nunique() == 8


def test_omop_round_trip_keeps_visit_ids_and_concepts(tmp_path: Path) -> None:
    ingest(OMOP, tmp_path / "events.parquet")
    write_omop(iter_events(tmp_path / "events.parquet", require=["domain"]), tmp_path / "out")
    with (tmp_path / "out" / "measurement.csv").open(newline="") as handle:
        first = next(csv.DictReader(handle))
    assert first["visit_occurrence_id"] == "5001" and first["value_as_number"] == "8.1"
    with (tmp_path / "out" / "drug_exposure.csv").open(newline="") as handle:
        assert next(csv.DictReader(handle))["drug_concept_id"] == "1503297"
    with (tmp_path / "out" / "person.csv").open(newline="") as handle:
        person = next(csv.DictReader(handle))
    assert (person["gender_concept_id"], person["race_concept_id"], person["year_of_birth"]) == (
        "8532", "8527", "1955")


def test_write_omop_needs_events_sorted_by_subject(tmp_path: Path) -> None:
    events = [Event(2, None, "GENDER/male", "person"), Event(1, None, "GENDER/female", "person")]
    with pytest.raises(InputValidationError, match="not sorted by subject_id"):
        write_omop(events, tmp_path)
