"""ingest: format detection, the report (every record counted, rejections located) and the
table it writes, or keeps, when nothing usable was read."""

from __future__ import annotations

import gc
import hashlib
import json
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest

from medora.data.ingest import find_source, ingest, report_path
from medora.data.meds import read_events
from medora.data.tabular import InputValidationError

FIXTURES = Path(__file__).parent / "fixtures"
BUNDLES = FIXTURES / "fhir" / "bundles"
NDJSON = FIXTURES / "fhir" / "ndjson"


def test_ingest_bundles_writes_table_and_report(tmp_path: Path) -> None:
    out = tmp_path / "events.parquet"
    report = ingest(BUNDLES, out)
    assert (report.source_format, report.source_files, report.events, report.subjects) == (
        "fhir", 3, 156, 3)
    assert report.rejected_by_reason == {} and report.rejections == []
    observation, claim = report.counts["Observation"], report.counts["Claim"]
    assert (observation.read, observation.accepted, observation.events) == (101, 101, 103)
    assert (claim.read, claim.skipped) == (3, 3)
    assert report.records.read == 141 and report.records.skipped == 5
    written = json.loads(report_path(out).read_text())
    assert report_path(out).name == "events.ingest.json"
    assert written["counts"]["Encounter"] == {"read": 8, "accepted": 8, "rejected": 0,
                                              "skipped": 0, "events": 16}
    assert written["events"] == len(read_events(out)) == 156
    # The source is identified by content: each file's path and SHA-256, in name order.
    files = sorted(BUNDLES.rglob("*.json"))
    digests = [hashlib.sha256(path.read_bytes()).hexdigest() for path in files]
    listing = "".join(f"{path.relative_to(BUNDLES)}\t{digest}\n"
                      for path, digest in zip(files, digests, strict=True))
    assert report.source_sha256 == hashlib.sha256(listing.encode()).hexdigest()
    assert report.source_bytes == sum(path.stat().st_size for path in files)
    # The same files give the same digest anywhere.
    copy = tmp_path / "copy"
    shutil.copytree(BUNDLES, copy)
    assert ingest(copy, tmp_path / "again.parquet").source_sha256 == report.source_sha256
    pd.testing.assert_frame_equal(read_events(tmp_path / "again.parquet"), read_events(out))


def test_ingest_ndjson_reports_every_rejection(tmp_path: Path) -> None:
    report = ingest(NDJSON, tmp_path / "events.parquet")
    assert (report.events, report.subjects) == (19, 2)
    assert report.rejected_by_reason == {"invalid JSON": 1, "missing subject": 1,
                                         "unknown reference": 1, "bad date": 1,
                                         "missing code": 1}
    assert sorted((item.location, item.kind, item.reason) for item in report.rejections) == [
        ("MedicationRequest.ndjson:2", "MedicationRequest", "missing code"),
        ("Observation.ndjson:3", "unknown", "invalid JSON"),
        ("Observation.ndjson:4", "Observation", "missing subject"),
        ("Observation.ndjson:5", "Observation", "unknown reference"),
        ("Observation.ndjson:6", "Observation", "bad date"),
    ]
    total = report.records
    assert (total.read, total.accepted, total.rejected, total.skipped) == (18, 12, 5, 1)


def test_the_first_rejections_are_listed_and_all_are_counted(tmp_path: Path) -> None:
    report = ingest(NDJSON, tmp_path / "events.parquet", max_listed=0)
    # Beyond max_listed, only the first of every reason is listed.
    assert sorted(item.reason for item in report.rejections) == sorted(report.rejected_by_reason)
    assert sum(report.rejected_by_reason.values()) == 5
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "Observation.ndjson").write_text("{\n" * 30)
    report = ingest(broken, tmp_path / "none.parquet", max_listed=10)
    assert len(report.rejections) == 10 and report.rejected_by_reason == {"invalid JSON": 30}


def test_nothing_usable_keeps_the_earlier_table_and_writes_the_report(tmp_path: Path) -> None:
    out = tmp_path / "events.parquet"
    ingest(BUNDLES, out)
    before = read_events(out)
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "Observation.ndjson").write_text('{"resourceType": "Observation"\n'
                                               '{"resourceType": "Claim"}\n')
    report = ingest(broken, out)
    assert not report.usable and report.events == 0
    assert report.rejected_by_reason == {"invalid JSON": 1} and report.counts["Claim"].skipped
    pd.testing.assert_frame_equal(read_events(out), before)
    assert json.loads(report_path(out).read_text())["events"] == 0


def test_find_source(tmp_path: Path) -> None:
    assert find_source(FIXTURES / "omop")[0] == "omop"
    source_format, files = find_source(NDJSON)
    assert source_format == "fhir" and files[0].name == "Claim.ndjson" and len(files) == 8
    one = BUNDLES / "Tyrone_Murray_1144a524.json"
    assert find_source(one) == ("fhir", [one])
    # Hidden files (a cohort's manifest) are no source files.
    shutil.copytree(BUNDLES, tmp_path / "cohort" / "fhir")
    (tmp_path / "cohort" / ".medora-synthea.json").write_text("{}")
    assert len(find_source(tmp_path / "cohort")[1]) == 3
    for path, message in ((tmp_path / "missing", "not found"),
                          (FIXTURES / "omop" / "person.csv", "unsupported file type '.csv'")):
        with pytest.raises(InputValidationError, match=message):
            find_source(path)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputValidationError, match=r"no FHIR file and no person\.csv"):
        find_source(empty)


def _mixed_source(tmp_path: Path) -> Path:
    """The bundles and the NDJSON fixtures in one folder, and many more rejected lines."""
    source = tmp_path / "mixed"
    shutil.copytree(BUNDLES, source / "bundles")
    shutil.copytree(NDJSON, source / "ndjson")
    lines = (NDJSON / "Observation.ndjson").read_text().splitlines(keepends=True)
    (source / "ndjson" / "Observation.ndjson").write_text("".join(lines * 40))
    # A Patient without an id, on line 61, past several parts of the file.
    (source / "ndjson" / "Late.ndjson").write_text('{"resourceType": "Claim"}\n' * 60
                                                   + '{"resourceType": "Patient"}\n')
    return source


@pytest.mark.parametrize("max_listed", [0, 3, 1000])
def test_any_number_of_processes_gives_the_same_table_and_report(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, max_listed: int) -> None:
    from medora.data import fhir

    source = _mixed_source(tmp_path)
    monkeypatch.setattr(fhir, "NDJSON_PART_BYTES", 700)  # NDJSON files in many parts
    ndjson_parts, bundles = fhir.plan_fhir(source.rglob("*.*json*"), source)
    assert len(ndjson_parts) > 10 and len(bundles) == 3
    collector_thresholds = gc.get_threshold()
    alone = ingest(source, tmp_path / "alone.parquet", workers=1, max_listed=max_listed)
    together = ingest(source, tmp_path / "together.parquet", workers=2, max_listed=max_listed,
                      chunk_rows=50)  # runs spilled and merged too
    # Reading collects young objects less often, and leaves the collector as it found it.
    assert gc.get_threshold() == collector_thresholds
    pd.testing.assert_frame_equal(read_events(tmp_path / "together.parquet"),
                                  read_events(tmp_path / "alone.parquet"))
    assert together.rejections == alone.rejections
    # The fingerprint is of the files, whatever reads them.
    assert (together.source_sha256, together.source_bytes) == (alone.source_sha256,
                                                               alone.source_bytes)
    assert (together.counts, together.rejected_by_reason) == (alone.counts,
                                                              alone.rejected_by_reason)
    assert alone.rejected_by_reason["bad date"] == 40
    # Line numbers count from each file's start, whatever part a line was read in.
    locations = [(item.location, item.reason) for item in alone.rejections]
    assert ("ndjson/Observation.ndjson:6", "bad date") in locations
    assert ("ndjson/Late.ndjson:61", "missing id") in locations
    if max_listed == 1000:
        assert len(alone.rejections) == sum(alone.rejected_by_reason.values())
    with pytest.raises(ValueError, match="workers must be at least 1"):
        ingest(source, tmp_path / "never.parquet", workers=0)


def test_a_bundle_does_not_point_into_another_bundle(tmp_path: Path) -> None:
    """A bundle's resources resolve its own patients and the NDJSON ones, never another
    bundle's: the bundles are read in any order, in any process."""
    patient = {"resourceType": "Patient", "id": "p1", "gender": "female"}
    condition = {"resourceType": "Condition", "subject": {"reference": "Patient/p1"},
                 "code": {"coding": [{"system": "http://snomed.info/sct", "code": "44054006"}]},
                 "onsetDateTime": "2020-01-02"}

    def bundle(*resources: dict) -> str:
        return json.dumps({"resourceType": "Bundle", "type": "collection",
                           "entry": [{"resource": r} for r in resources]})

    (tmp_path / "a.json").write_text(bundle(patient))
    (tmp_path / "b.json").write_text(bundle(condition))
    (tmp_path / "Condition.ndjson").write_text(json.dumps(condition) + "\n")
    report = ingest(tmp_path, tmp_path / "events.parquet")
    assert [(item.location, item.reason) for item in report.rejections] == [
        ("b.json#entry[0]", "unknown reference")]
    assert report.counts["Condition"].accepted == 1  # the NDJSON line sees every patient


def test_only_the_main_thread_changes_the_collection_threshold(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings: list[tuple[int, ...]] = []
    monkeypatch.setattr(gc, "set_threshold", lambda *threshold: settings.append(threshold))
    ingest(NDJSON, tmp_path / "main.parquet")
    assert [threshold[0] for threshold in settings] == [100_000, gc.get_threshold()[0]]
    settings.clear()
    with ThreadPoolExecutor(1) as pool:  # as a server's request thread would
        report = pool.submit(ingest, NDJSON, tmp_path / "thread.parquet").result()
    assert settings == [] and report.events == 19
