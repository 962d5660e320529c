"""The event table: sorted in bounded memory (merged runs equal one in-memory sort), committed
whole or not at all, and read back with its schema checked."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from medora.data.meds import Event, EventWriter, read_events, split_code
from medora.data.tabular import InputValidationError


def _random_events(n: int, seed: int = 0) -> list[Event]:
    rng = np.random.default_rng(seed)
    start = datetime(2000, 1, 1)
    return [Event(int(rng.integers(0, 40)),
                  None if rng.random() < 0.1 else start + timedelta(days=int(rng.integers(0, 50))),
                  f"LOINC/{rng.integers(0, 5)}", "measurement", float(index), "mg/dL")
            for index in range(n)]


def _write(path: Path, events: list[Event], chunk_rows: int) -> pd.DataFrame:
    with EventWriter(path, chunk_rows=chunk_rows) as writer:
        writer.extend(events)
        summary = writer.close()
    assert summary.events == len(events)
    assert summary.subjects == len({event.subject_id for event in events})
    return read_events(path)


def test_merged_runs_equal_one_sort_in_memory(tmp_path: Path) -> None:
    events = _random_events(2000)
    whole = _write(tmp_path / "whole.parquet", events, chunk_rows=10_000)
    merged = _write(tmp_path / "merged.parquet", events, chunk_rows=37)  # 55 runs
    pd.testing.assert_frame_equal(whole, merged)
    # Sorted by subject, then time with static facts first; ties keep the input order, which
    # numeric_value (the input position) shows.
    expected = pd.DataFrame(events).assign(static=lambda f: f["time"].notna()).sort_values(
        ["subject_id", "static", "time"], kind="stable")
    assert merged["numeric_value"].tolist() == expected["numeric_value"].tolist()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["merged.parquet",
                                                                "whole.parquet"]


def test_leaving_without_close_keeps_the_earlier_table(tmp_path: Path) -> None:
    path = tmp_path / "events.parquet"
    before = _write(path, _random_events(10), chunk_rows=5)
    with pytest.raises(RuntimeError, match="reader failed"), EventWriter(path, 5) as writer:
        writer.extend(_random_events(50, seed=1))
        raise RuntimeError("reader failed")
    pd.testing.assert_frame_equal(read_events(path), before)
    assert [item.name for item in tmp_path.iterdir()] == ["events.parquet"]


def test_read_events_names_each_bad_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.parquet"
    pq.write_table(pa.table({"subject_id": ["a"], "time": ["2020-01-01"], "numeric_value": [1.0],
                             "unit": [3]}), path)
    with pytest.raises(InputValidationError) as raised:
        read_events(path)
    message = str(raised.value)
    assert "missing column 'code': expected text: the event's code as VOCAB/code" in message
    assert "column 'subject_id' is string: expected an integer patient id" in message
    assert "column 'time' is string: expected a timestamp" in message
    assert "column 'unit' is int64: expected text" in message
    with pytest.raises(InputValidationError, match="file not found"):
        read_events(tmp_path / "missing.parquet")
    (tmp_path / "text.parquet").write_text("subject_id,time\n")
    with pytest.raises(InputValidationError, match="not a Parquet file"):
        read_events(tmp_path / "text.parquet")


def test_read_events_conforms_a_foreign_meds_table(tmp_path: Path) -> None:
    path = tmp_path / "meds.parquet"
    paris = pa.array([datetime(2020, 1, 1, 12)], pa.timestamp("ns", tz="Europe/Paris"))
    pq.write_table(pa.table({"subject_id": pa.array([7], pa.int32()), "time": paris,
                             "code": ["LOINC/1"], "numeric_value": [0.1], "site": ["A"]}), path)
    frame = read_events(path)
    assert str(frame["time"].dtype) == "datetime64[us]" and frame["time"][0] == datetime(
        2020, 1, 1, 12)
    assert frame["subject_id"].dtype == np.int64 and frame["numeric_value"].dtype == np.float32
    assert frame[["unit", "encounter_id", "domain"]].isna().all().all()
    assert frame["site"].tolist() == ["A"]  # columns of its own are kept


@pytest.mark.parametrize(("code", "parts"), [
    ("LOINC/8867-4", ("LOINC", "8867-4")),
    ("ENCOUNTER/IMP", ("ENCOUNTER", "IMP")),
    ("OMOP_CONCEPT/201826", ("OMOP_CONCEPT", "201826")),
    ("http://example.org/local-problems/LP-17", ("http://example.org/local-problems", "LP-17")),
    ("urn:oid:2.16.840.1.113883.6.238/2106-3", ("urn:oid:2.16.840.1.113883.6.238", "2106-3")),
])
def test_split_code(code: str, parts: tuple[str, str]) -> None:
    assert split_code(code) == parts


def test_timestamps_are_naive_utc_and_a_bad_one_is_rejected_every_time() -> None:
    from medora.data.meds import Reason, RecordRejected, parse_timestamp

    for _ in range(2):  # the second reading comes from the cache and must be the same
        assert parse_timestamp("2020-01-31T09:30:00+02:00", "effectiveDateTime") == datetime(
            2020, 1, 31, 7, 30)
        assert parse_timestamp(" 2020-01-31 ", "birthDate") == datetime(2020, 1, 31)
        with pytest.raises(RecordRejected, match="issued '31/01/2020' is not an ISO 8601") as bad:
            parse_timestamp("31/01/2020", "issued")
        assert bad.value.reason is Reason.BAD_DATE
