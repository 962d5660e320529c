"""``ingest``: clinical records in, a sorted event table and a report of what was read out.

The format follows the source:

* a folder holding ``person.csv``: OMOP CDM CSV tables (:mod:`medora.data.omop`);
* any other folder: the FHIR files under it, bundles (``.json``) and bulk-export NDJSON
  (``.ndjson``, ``.ndjson.gz``) alike, hidden files aside (:mod:`medora.data.fhir`);
* one ``.json``/``.ndjson`` file: that file.

Nothing is dropped silently: every record read is counted by kind as accepted, rejected (with
its reason; the first ``max_listed``, and the first of every reason, are listed with their
location) or skipped (a FHIR resource type medora does not read). The report is written
beside the table as ``<table>.ingest.json``, also when nothing usable was read, in which case
the table is not written (an earlier one at that path is kept).
"""

from __future__ import annotations

import gc
import hashlib
import itertools
import json
import os
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from functools import partial
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa

from medora import __version__
from medora.data.fhir import is_fhir_file, read_fhir_parts
from medora.data.meds import EventWriter, Reason, SourceRecord, events_table
from medora.data.omop import read_omop
from medora.data.parallel import ordered_map, usable_processes
from medora.data.tabular import InputValidationError

SourceFormat = Literal["fhir", "omop"]
SOURCE_HINT = ("pass a folder of FHIR R4 bundles (.json) or bulk-export NDJSON (.ndjson), one "
               "such file, or a folder of OMOP CDM tables as CSV with a person.csv")


@dataclass
class KindCounts:
    """What became of the records of one kind (a FHIR resource type or an OMOP table)."""

    read: int = 0
    accepted: int = 0
    rejected: int = 0
    skipped: int = 0
    events: int = 0


@dataclass(frozen=True)
class Rejection:
    kind: str
    reason: str
    location: str  # file:line (NDJSON, CSV), file#entry[i] (bundle), or the file
    detail: str


@dataclass
class RecordTally:
    """What a run of records gave, before it joins a report: the counts by kind, and every
    rejection the report may list from the run, each with how many rejections of its reason
    the run held before it.

    A run's first ``max_listed`` rejections and the first of each reason are enough: a
    rejection the whole source's report lists is one of those (the report lists its first
    ``max_listed`` and the first of each reason), so runs read in other processes join the
    report exactly as if it had read every record itself.
    """

    counts: dict[str, KindCounts] = field(default_factory=dict)
    rejected_by_reason: dict[str, int] = field(default_factory=dict)
    listable: list[tuple[Rejection, int]] = field(default_factory=list)

    def add(self, record: SourceRecord, max_listed: int) -> None:
        counts = self.counts.setdefault(record.kind, KindCounts())
        counts.read += 1
        if record.reason is None:
            counts.accepted += 1
            counts.events += len(record.events)
        elif record.reason is Reason.UNSUPPORTED:
            counts.skipped += 1
        else:
            counts.rejected += 1
            seen = self.rejected_by_reason.get(record.reason, 0)
            self.rejected_by_reason[record.reason] = seen + 1
            if len(self.listable) < max_listed or not seen:
                self.listable.append((Rejection(record.kind, record.reason, record.location,
                                                record.detail), seen))


@dataclass
class IngestReport:
    """What an ingest read, kept, rejected and wrote; JSON-serialisable with :meth:`to_dict`."""

    source: str
    output: str
    source_format: SourceFormat
    source_files: int
    source_bytes: int
    source_sha256: str  # of the files' paths and SHA-256 digests, in order
    medora_version: str = __version__
    counts: dict[str, KindCounts] = field(default_factory=dict)
    rejected_by_reason: dict[str, int] = field(default_factory=dict)
    rejections: list[Rejection] = field(default_factory=list)  # see ingest's max_listed
    events: int = 0
    subjects: int = 0
    seconds: float = 0.0

    @property
    def usable(self) -> bool:
        return self.events > 0

    @property
    def records(self) -> KindCounts:
        """The counts over every kind."""
        return KindCounts(*(sum(getattr(counts, column.name) for counts in self.counts.values())
                            for column in fields(KindCounts)))

    def merge(self, tally: RecordTally, max_listed: int) -> None:
        """Join the records of ``tally``, which came after every record already joined."""
        for kind, counts in tally.counts.items():
            total = self.counts.setdefault(kind, KindCounts())
            for column in fields(KindCounts):
                setattr(total, column.name,
                        getattr(total, column.name) + getattr(counts, column.name))
        before = dict(self.rejected_by_reason)
        for rejection, earlier in tally.listable:
            if len(self.rejections) < max_listed or not before.get(rejection.reason, 0) + earlier:
                self.rejections.append(rejection)
        for reason, count in tally.rejected_by_reason.items():
            self.rejected_by_reason[reason] = before.get(reason, 0) + count

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def write(self, path: Path) -> None:
        temporary = path.with_name(f".{path.name}.tmp")
        temporary.write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")
        os.replace(temporary, path)


def report_path(out: str | Path) -> Path:
    """Where :func:`ingest` writes the report of the table at ``out``."""
    return Path(out).with_suffix(".ingest.json")


def _hidden(path: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(root).parts)


def find_source(source: Path) -> tuple[SourceFormat, list[Path]]:
    """The format of ``source`` and the files it reads (see the module docstring)."""
    if not source.exists():
        raise InputValidationError(str(source), [f"not found; {SOURCE_HINT}"])
    if source.is_file():
        if is_fhir_file(source):
            return "fhir", [source]
        raise InputValidationError(str(source), [
            f"unsupported file type {''.join(source.suffixes) or '(no suffix)'!r}; "
            f"{SOURCE_HINT}"])
    tables = sorted(path for path in source.iterdir() if path.suffix.lower() == ".csv")
    if any(path.name.lower() == "person.csv" for path in tables):
        return "omop", tables
    files = sorted(path for path in source.rglob("*")
                   if path.is_file() and is_fhir_file(path) and not _hidden(path, source))
    if not files:
        raise InputValidationError(str(source), [f"no FHIR file and no person.csv in the "
                                                 f"folder; {SOURCE_HINT}"])
    return "fhir", files


def _file_sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _fingerprint(files: list[Path], root: Path, processes: int) -> tuple[int, str]:
    """(bytes, SHA-256 of each file's path and digest, in order): a source identified by
    content. The files are hashed in ``processes`` processes (hashing a gigabyte takes a
    tenth of the time reading it does), the largest first, so that no process is left
    hashing a large file alone at the end."""
    sizes = {path: path.stat().st_size for path in files}
    largest_first = sorted(files, key=sizes.__getitem__, reverse=True)
    digests = dict(zip(largest_first, ordered_map(_file_sha256, largest_first, processes),
                       strict=True))
    combined = hashlib.sha256()
    for path in files:
        name = path.relative_to(root) if path != root else Path(path.name)
        combined.update(f"{name}\t{digests[path]}\n".encode())
    return sum(sizes.values()), combined.hexdigest()


@contextmanager
def _collecting_young_objects_every(allocations: int) -> Iterator[None]:
    """CPython's cycle collector with its youngest generation collected every ``allocations``
    allocations instead of every 700 (the default), restored afterwards. Reading builds
    millions of containers that live for one run of records (parsed resources, events), and
    at the default every collection traverses the run's survivors again: 7% of the reading's
    time, none of which frees anything (the records hold no cycles). The threshold
    is the process's: off the main thread (a server's request threads) it is left alone, so
    that readers on several threads cannot restore each other's setting."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    threshold = gc.get_threshold()
    gc.set_threshold(allocations, *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)


#: OMOP records are tallied and handed to the writer in runs of this many.
OMOP_RUN = 50_000


@dataclass(frozen=True)
class RecordsRead:
    """A run of records as the writer and the report take them: events in a table of
    :data:`~medora.data.meds.SCHEMA`, and their tally (:meth:`IngestReport.merge`)."""

    events: pa.Table
    tally: RecordTally


def read_records(records: Iterable[SourceRecord], max_listed: int) -> RecordsRead:
    """The events and the tally of ``records`` (listing up to ``max_listed`` rejections)."""
    tally, events = RecordTally(), []
    for record in records:
        tally.add(record, max_listed)
        events.extend(record.events)
    return RecordsRead(events_table(events), tally)


def _runs(records: Iterator[SourceRecord], size: int) -> Iterator[list[SourceRecord]]:
    while run := list(itertools.islice(records, size)):
        yield run


def ingest(source: str | Path, out: str | Path, *, chunk_rows: int = 200_000,
           max_listed: int = 1000, workers: int | None = None) -> IngestReport:
    """Read a FHIR or OMOP source into the event table ``out`` (Parquet; see
    :mod:`medora.data.meds`) and write the report beside it (:func:`report_path`).

    ``workers`` processes hash the source's files and read a FHIR source's files, large
    NDJSON files in parts (default: ``MEDORA_WORKERS``, else one per CPU; 1 reads in this
    process); the table and the report are the same for any number. About ``chunk_rows``
    events are held in memory (and a few parts' in flight); the first ``max_listed``
    rejections, and the first of every reason, are listed with their location (all are
    counted). Raises :class:`InputValidationError` for a source that is missing or of no
    known format, or an OMOP table without a column it needs.
    """
    if workers is not None and workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    source, out = Path(source), Path(out)
    source_format, files = find_source(source)
    processes = usable_processes() if workers is None else workers
    started = time.perf_counter()
    size, digest = _fingerprint(files, source, processes)
    report = IngestReport(source=str(source), output=str(out), source_format=source_format,
                          source_files=len(files), source_bytes=size, source_sha256=digest)
    read = partial(read_records, max_listed=max_listed)
    runs: Iterator[RecordsRead] = (
        map(read, _runs(read_omop(source), OMOP_RUN)) if source_format == "omop" else
        read_fhir_parts(files, source, read, partial(ordered_map, processes=processes)))
    # Worker processes are forked inside the block, and inherit its collection threshold.
    with _collecting_young_objects_every(100_000), EventWriter(out, chunk_rows) as writer:
        for run in runs:
            report.merge(run.tally, max_listed)
            writer.extend_table(run.events)
        if writer.n_events:
            summary = writer.close()
            report.events, report.subjects = summary.events, summary.subjects
    report.seconds = round(time.perf_counter() - started, 3)
    report.write(report_path(out))
    return report
