"""The event table: one row per clinical event, MEDS-compatible, written to Parquet in bounded
memory and read back with its schema checked.

Columns (the MEDS core, then three of medora's own, which MEDS readers ignore):

=============  ===============  ===========================================================
subject_id     int64            the patient
time           timestamp[us]    UTC, without a zone; null for a static fact (gender, race)
code           string           ``VOCAB/code`` (``LOINC/8867-4``) or a medora code
                                (``ENCOUNTER/IMP``, ``MEDS_BIRTH``, ``GENDER/female``)
numeric_value  float32          the event's number, if it has one
unit           string           the number's unit
text_value     string           a coded or free-text value (``SNOMED/266919005``)
encounter_id   string           the encounter (visit) the event belongs to
domain         string           person, visit, condition, drug, measurement, procedure or
                                death: the OMOP table of the event, which its vocabulary
                                cannot tell (a SNOMED code is a condition or a procedure)
=============  ===============  ===========================================================

The table is sorted by subject, then time, static facts first. Readers hand over events in
source order; :class:`EventWriter` sorts every ``chunk_rows`` events into a run on disk and
merges the runs at the end, so memory holds one chunk, or one batch per run, never the table.
"""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from types import TracebackType
from typing import NamedTuple, Self

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from medora.data.tabular import InputValidationError

SCHEMA = pa.schema([
    ("subject_id", pa.int64()),
    ("time", pa.timestamp("us")),
    ("code", pa.string()),
    ("numeric_value", pa.float32()),
    ("unit", pa.string()),
    ("text_value", pa.string()),
    ("encounter_id", pa.string()),
    ("domain", pa.string()),
])
DOMAINS = ("person", "visit", "condition", "drug", "measurement", "procedure", "death")
BIRTH, DEATH = "MEDS_BIRTH", "MEDS_DEATH"  # the codes MEDS reserves for them
#: The OMB race and ethnicity categories (CDC Race & Ethnicity codes) by code, the names medora
#: stores as the text of a RACE/ or ETHNICITY/ event whichever the source spelled them.
OMB_CATEGORIES = {
    "1002-5": "American Indian or Alaska Native",
    "2028-9": "Asian",
    "2054-5": "Black or African American",
    "2076-8": "Native Hawaiian or Other Pacific Islander",
    "2106-3": "White",
    "2131-1": "Other Race",  # no OMB category, but Synthea writes it as one
    "2135-2": "Hispanic or Latino",
    "2186-5": "Not Hispanic or Latino",
}


class Event(NamedTuple):
    """One row of the event table (see the module docstring for each field)."""

    subject_id: int
    time: datetime | None
    code: str
    domain: str
    numeric_value: float | None = None
    unit: str | None = None
    text_value: str | None = None
    encounter_id: str | None = None


def stable_id(text: str) -> int:
    """A non-negative int64 id for a text id (a FHIR patient or encounter id), the same in
    every run and process; 63 bits of a hash, so collisions are negligible below billions."""
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big") >> 1


def split_code(code: str) -> tuple[str, str]:
    """``LOINC/8867-4`` -> ``("LOINC", "8867-4")``; a vocabulary kept as its URI keeps its
    slashes (``http://example.org/cs/42`` -> ``("http://example.org/cs", "42")``)."""
    vocabulary, _, value = code.rpartition("/") if ":" in code else code.partition("/")
    return vocabulary, value


# -- What a reader hands over for each record it read ------------------------------------------


class Reason(StrEnum):
    """Why a source record gave no events."""

    INVALID_JSON = "invalid JSON"
    NOT_A_RESOURCE = "not a FHIR resource"
    MISSING_ID = "missing id"
    MISSING_SUBJECT = "missing subject"
    UNKNOWN_REFERENCE = "unknown reference"
    MISSING_DATE = "missing date"
    BAD_DATE = "bad date"
    MISSING_CODE = "missing code"
    BAD_VALUE = "bad value"
    MALFORMED = "malformed record"
    #: Not an error: a resource type medora does not read (Claim, DiagnosticReport, ...).
    UNSUPPORTED = "unsupported resource type"


class RecordRejected(Exception):
    """Raised while converting one record: the record is rejected, the reading goes on."""

    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class SourceRecord(NamedTuple):
    """One record read from a source (a FHIR resource, an OMOP row): its events, or the reason
    it gave none, and where it is (``file:line``, ``file#entry[i]``). A named tuple, like
    :class:`Event`: one is made per source record, and a frozen dataclass takes about three
    times as long to build (a tenth of a million-resource ingest)."""

    kind: str  # FHIR resource type or OMOP table
    location: str
    events: tuple[Event, ...] = ()
    reason: Reason | None = None
    detail: str = ""


def convert_record(kind: str, location: str, convert: Callable[[], Sequence[Event]]
                   ) -> SourceRecord:
    """The record ``convert`` makes of one source record, or its rejection."""
    try:
        return SourceRecord(kind, location, tuple(convert()))
    except RecordRejected as rejected:
        return SourceRecord(kind, location, reason=rejected.reason, detail=rejected.detail)
    except (AttributeError, TypeError) as error:
        # A field of an unexpected shape (a list where an object belongs): one broken record
        # must not end the reading of a million good ones.
        return SourceRecord(kind, location, reason=Reason.MALFORMED,
                            detail=f"a field has an unexpected shape ({error})")


def parse_timestamp(text: object, field: str) -> datetime:
    """An ISO 8601 date or date-time as naive UTC; a date alone is its midnight."""
    if not isinstance(text, str) or not text.strip():
        raise RecordRejected(Reason.BAD_DATE, f"{field} is {text!r}; expected an ISO 8601 date "
                                              "or date-time, e.g. 2020-01-31T09:30:00Z")
    value = _naive_utc(text)
    if value is None:
        raise RecordRejected(Reason.BAD_DATE, f"{field} {text!r} is not an ISO 8601 date or "
                                              "date-time, e.g. 2020-01-31T09:30:00Z")
    return value


@functools.lru_cache(maxsize=1 << 14)
def _naive_utc(text: str) -> datetime | None:
    """``text`` parsed as naive UTC, None if it is no ISO 8601 time. Cached: a record repeats
    its times (every measurement of a visit carries the visit's), and a lookup costs a tenth
    of a parse."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return value if value.tzinfo is None else value.astimezone(UTC).replace(tzinfo=None)


# -- Writing -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class EventTableSummary:
    """What :meth:`EventWriter.close` committed."""

    path: Path
    events: int
    subjects: int


def _sort(table: pa.Table) -> pa.Table:
    # Arrow's sort is stable: events of one subject at one time keep their source order.
    return table.sort_by([("subject_id", "ascending"), ("time", "ascending", "at_start")])


def events_table(events: Sequence[Event]) -> pa.Table:
    """Events as a table of :data:`SCHEMA`, in their order."""
    columns = dict(zip(Event._fields, zip(*events, strict=True), strict=True)) if events else {}
    return pa.Table.from_arrays([pa.array(columns.get(field.name, ()), field.type)
                                 for field in SCHEMA], schema=SCHEMA)


class _SortedOutput:
    """The final Parquet file, written from sorted tables in row groups of ``rows`` rows, and
    its count of distinct subjects (the tables arrive in order, so a subject is new when it
    differs from the one before it)."""

    def __init__(self, path: Path, rows: int) -> None:
        self.writer = pq.ParquetWriter(path, SCHEMA, compression="zstd")
        self.rows = rows
        self.pending: list[pa.Table] = []
        self.pending_rows = 0
        self.events = 0
        self.subjects = 0
        self.last_subject: int | None = None

    def add(self, table: pa.Table) -> None:
        if not table.num_rows:
            return
        ids = table.column("subject_id").to_numpy()
        self.subjects += int(np.count_nonzero(ids[1:] != ids[:-1])) + (
            int(ids[0]) != self.last_subject)
        self.last_subject = int(ids[-1])
        self.events += table.num_rows
        self.pending.append(table)
        self.pending_rows += table.num_rows
        if self.pending_rows >= self.rows:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            self.writer.write_table(pa.concat_tables(self.pending), row_group_size=self.rows)
            self.pending, self.pending_rows = [], 0

    def close(self) -> None:
        self.flush()
        self.writer.close()


def _merge_runs(runs: pq.ParquetFile, output: _SortedOutput, batch_rows: int) -> None:
    """Merge sorted runs (one row group each) into ``output`` in subject order.

    Each run is read a batch at a time. The smallest last-loaded subject over the runs still
    being read is the frontier: every event of a subject below it is loaded, so those are
    sorted and written; a run whose loaded events all belong to the frontier reads on.
    """
    readers = [runs.iter_batches(batch_size=batch_rows, row_groups=[group])
               for group in range(runs.num_row_groups)]
    loaded = [pa.Table.from_batches([next(reader)]) for reader in readers]
    reading = [True] * len(readers)

    def last_subject(run: int) -> int:
        return int(loaded[run].column("subject_id")[-1].as_py())

    while any(reading):
        frontier = min(last_subject(run) for run in range(len(readers)) if reading[run])
        below = []
        for run, table in enumerate(loaded):
            cut = int(np.searchsorted(table.column("subject_id").to_numpy(), frontier))
            below.append(table.slice(0, cut))
            loaded[run] = table.slice(cut)
        output.add(_sort(pa.concat_tables(below)))
        for run, reader in enumerate(readers):
            if reading[run] and last_subject(run) == frontier:
                batch = next(reader, None)
                if batch is None:
                    reading[run] = False
                else:
                    loaded[run] = pa.concat_tables([loaded[run], pa.Table.from_batches([batch])])
    output.add(_sort(pa.concat_tables(loaded)))


class EventWriter:
    """Writes events to a sorted Parquet event table in bounded memory (see the module
    docstring).

    Use it as a context manager and call :meth:`close` inside the block to commit the table:
    the file appears at ``path`` whole or not at all. Leaving the block without ``close``
    (an error, or nothing worth keeping) discards what was written and leaves any earlier
    file at ``path`` as it was.
    """

    def __init__(self, path: str | Path, chunk_rows: int = 200_000) -> None:
        if chunk_rows < 1:
            raise ValueError(f"chunk_rows must be at least 1, not {chunk_rows}")
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.chunk_rows = chunk_rows
        self._tables: list[pa.Table] = []  # given since the last spill, in order
        self._buffered = 0  # their rows
        self._spilled = 0
        self._runs_path = self.path.with_name(f".{self.path.name}.runs")
        self._temporary = self.path.with_name(f".{self.path.name}.tmp")
        self._runs: pq.ParquetWriter | None = None
        self._done = False

    @property
    def n_events(self) -> int:
        return self._spilled + self._buffered

    def extend(self, events: Iterable[Event]) -> None:
        self.extend_table(events_table(list(events)))

    def extend_table(self, table: pa.Table) -> None:
        """Events already in a table of :data:`SCHEMA` (a run of records, read in this process
        or another), after those given before."""
        self._tables.append(table)
        self._buffered += table.num_rows
        if self._buffered >= self.chunk_rows:
            self._spill()

    def _buffer(self) -> pa.Table:
        """Everything given since the last spill, in order, as one table."""
        table = pa.concat_tables(self._tables) if self._tables else events_table([])
        self._tables, self._buffered = [], 0
        return table

    def _spill(self) -> None:
        """Write the buffered events to the runs file as one sorted run (one row group)."""
        if self._runs is None:
            self._runs = pq.ParquetWriter(self._runs_path, SCHEMA, compression="lz4")
        table = _sort(self._buffer())
        self._runs.write_table(table, row_group_size=table.num_rows)
        self._spilled += table.num_rows

    def close(self) -> EventTableSummary:
        """Sort, merge and commit the table to ``path``."""
        if self._done:
            raise RuntimeError(f"{self.path}: the event table was already closed or discarded")
        output = _SortedOutput(self._temporary, self.chunk_rows)
        try:
            if self._runs is None:  # everything fitted in one chunk: nothing to merge
                output.add(_sort(self._buffer()))
            else:
                if self._buffered:
                    self._spill()
                self._runs.close()
                # A batch per run of 1/runs of a chunk keeps the merge within about one
                # chunk's memory however many runs there are.
                runs = pq.ParquetFile(self._runs_path)
                batch_rows = max(1024, self.chunk_rows // runs.num_row_groups)
                _merge_runs(runs, output, batch_rows)
            output.close()
            os.replace(self._temporary, self.path)
        finally:
            output.writer.close()
            self.discard()
        return EventTableSummary(self.path, output.events, output.subjects)

    def discard(self) -> None:
        """Drop everything not committed; ``path`` keeps what it held before."""
        self._done = True
        self._tables, self._buffered = [], 0
        if self._runs is not None:
            self._runs.close()
        for path in (self._runs_path, self._temporary):
            path.unlink(missing_ok=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        if not self._done:
            self.discard()


# -- Reading -----------------------------------------------------------------------------------


def _is_text(kind: pa.DataType) -> bool:
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    return pa.types.is_string(kind) or pa.types.is_large_string(kind)


def _is_number(kind: pa.DataType) -> bool:
    return pa.types.is_floating(kind) or pa.types.is_integer(kind)


_EXPECTED: dict[str, tuple[Callable[[pa.DataType], bool], str]] = {
    "subject_id": (pa.types.is_integer, "an integer patient id (int64)"),
    "time": (pa.types.is_timestamp, "a timestamp (timestamp[us]; null for a static fact)"),
    "code": (_is_text, "text: the event's code as VOCAB/code, e.g. LOINC/8867-4"),
    "numeric_value": (_is_number, "a number (float32), null when the event has none"),
    "unit": (_is_text, "text: the unit of numeric_value"),
    "text_value": (_is_text, "text: a coded or free-text value"),
    "encounter_id": (_is_text, "text: the encounter the event belongs to"),
    "domain": (_is_text, f"text: one of {', '.join(DOMAINS)}"),
}
MEDS_COLUMNS = ("subject_id", "time", "code", "numeric_value")


def check_schema(schema: pa.Schema, source: str, require: Sequence[str] = ()) -> None:
    """Raise :class:`InputValidationError` naming every missing column of the MEDS core (and of
    ``require``) and every known column of the wrong type, with what was expected."""
    problems = [f"missing column {name!r}: expected {_EXPECTED[name][1]}"
                for name in (*MEDS_COLUMNS, *require) if name not in schema.names]
    problems += [f"column {name!r} is {schema.field(name).type}: expected {expected}"
                 for name, (check, expected) in _EXPECTED.items()
                 if name in schema.names and not check(schema.field(name).type)]
    if problems:
        problems.append("write the table with `medora data ingest`, or convert the columns")
        raise InputValidationError(source, problems)


def _open_table(path: str | Path) -> pq.ParquetFile:
    path = Path(path)
    if not path.is_file():
        raise InputValidationError(str(path), ["file not found; pass the Parquet file written "
                                               "by `medora data ingest`"])
    try:
        return pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as error:
        raise InputValidationError(str(path), [f"not a Parquet file ({error}); pass the event "
                                               "table written by `medora data ingest`"]) from None


_NARROWED = ("time", "numeric_value")


def _conformed(table: pa.Table) -> pa.Table:
    """The known columns cast to the types of :data:`SCHEMA`, the missing optional ones added
    as nulls, other columns kept. Times in another unit or zone become naive UTC microseconds
    and numbers float32, as MEDS stores them, even where that rounds."""
    for field in SCHEMA:
        if field.name not in table.column_names:
            table = table.append_column(field, pa.nulls(table.num_rows, field.type))
            continue
        column = table.column(field.name).cast(field.type, safe=field.name not in _NARROWED)
        table = table.set_column(table.column_names.index(field.name), field, column)
    return table


def read_events(path: str | Path) -> pd.DataFrame:
    """The event table at ``path`` as a DataFrame with the columns of :data:`SCHEMA` (optional
    ones filled with nulls) and any extra ones the file has.

    Raises :class:`InputValidationError` for a missing or unreadable file and for missing or
    mistyped columns, naming each with what was expected.
    """
    table_file = _open_table(path)
    check_schema(table_file.schema_arrow, str(path))
    return _conformed(table_file.read()).to_pandas()


def iter_events(path: str | Path, require: Sequence[str] = (), batch_rows: int = 65_536
                ) -> Iterator[Event]:
    """The events of the table at ``path`` in file order, a batch at a time; ``require`` names
    columns needed beyond the MEDS core (``domain`` to write OMOP)."""
    table_file = _open_table(path)
    check_schema(table_file.schema_arrow, str(path), require)
    for batch in table_file.iter_batches(batch_size=batch_rows):
        columns = _conformed(pa.Table.from_batches([batch])).to_pydict()
        yield from map(Event._make, zip(*(columns[name] for name in Event._fields),
                                        strict=True))
