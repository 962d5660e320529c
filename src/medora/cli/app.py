"""The ``medora`` command: parses arguments, asks the task's area, prints. No logic of its own,
and no knowledge of any area: each area mounts its own verbs (:meth:`Area.commands
<medora.core.area.Area.commands>`)."""

from __future__ import annotations

import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from click.core import ParameterSource
from rich.console import Console
from rich.table import Table

from medora.core.area import AreaUsageError, FilePredictions
from medora.core.errors import InputValidationError
from medora.core.paths import UnwritablePathError, check_output_file, check_output_folder
from medora.core.registry import area_of, areas, get_task, list_tasks
from medora.core.task import Task
from medora.serve.cli import db_app, demo_command, serve_command, users_app

if TYPE_CHECKING:
    import pandas as pd

app = typer.Typer(help="medora: trustworthy deep learning for healthcare.",
                  epilog="Example: medora tasks; medora train cardio.framingham_chd --quick; "
                         "medora predict cardio.framingham_chd patients.csv --out risks.csv",
                  no_args_is_help=True, add_completion=False,
                  pretty_exceptions_show_locals=False)  # locals may hold patient data
console = Console()
errors = Console(stderr=True)

TaskArgument = Annotated[str, typer.Argument(help="Task name, e.g. cardio.framingham_chd "
                                                  "(see `medora tasks`).")]
VersionOption = Annotated[int | None, typer.Option(
    "--version", "-v", help="Model version (default: the newest not retired).")]


class OutputFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


FormatOption = Annotated[OutputFormat, typer.Option(
    "--format", help="table (for a person at a terminal), csv or json (one record per row, "
                     "every value whole: for pipes and programs).")]


def _emit(frame: pd.DataFrame, title: str, output_format: OutputFormat) -> None:
    """``frame`` as a table on the console, or as CSV or JSON records on standard output."""
    if output_format is OutputFormat.csv:
        frame.to_csv(sys.stdout, index=False)
    elif output_format is OutputFormat.json:
        sys.stdout.write(frame.to_json(orient="records", double_precision=6) + "\n")
    else:
        table = Table(title=title)
        for column in frame.columns:
            table.add_column(str(column), overflow="fold")
        for row in frame.itertuples(index=False):
            table.add_row(*(f"{v:.3f}" if isinstance(v, float) else str(v) for v in row))
        console.print(table)


def _fail(message: str, code: int = 2) -> typer.Exit:
    errors.print(f"[bold red]error:[/bold red] {message}", highlight=False, markup=True,
                 soft_wrap=True)
    return typer.Exit(code)


def _task(name: str) -> Task:
    try:
        return get_task(name)
    except KeyError as error:
        raise _fail(str(error.args[0])) from None


def _print_version(value: bool) -> None:
    if value:
        from medora import __version__

        typer.echo(f"medora {__version__}")
        raise typer.Exit()


@app.callback()
def main(version: Annotated[bool, typer.Option(
        "--version", callback=_print_version, is_eager=True,
        help="Print medora's version and exit.")] = False) -> None:
    """medora: trustworthy deep learning for healthcare."""


@app.command("tasks")
def tasks_command(output_format: FormatOption = OutputFormat.table) -> None:
    """List every registered task: area, data, size, target and primary metric.

    Example: medora tasks --format csv | grep ehr.
    """
    import pandas as pd

    rows = []
    for task in list_tasks():
        row = area_of(task).describe(task)
        rows.append((task.name, task.area, row.data, row.n, row.summary, task.target,
                     task.primary_metric))
    _emit(pd.DataFrame(rows, columns=["task", "area", "data", "n", "target summary", "target",
                                      "metric"]), "medora tasks", output_format)


@app.command("train")
def train_command(
    task: TaskArgument,
    model: Annotated[str | None, typer.Option(
        help="Candidate model to register (default: the task's deep model); the baselines "
             "are always trained beside it.")] = None,
    seed: Annotated[int, typer.Option(help="Seed for the split, initialisation and "
                                           "bootstrap.")] = 0,
    quick: Annotated[bool, typer.Option("--quick", help="Few epochs and resamples, for smoke "
                                                        "runs only.")] = False,
    out: Annotated[Path | None, typer.Option(help="Run folder (default: "
                                                  "runs/<task>/<run-id>/).")] = None,
    register: Annotated[bool, typer.Option(help="Register the candidate in the model "
                                                "store.")] = True,
    split: Annotated[str | None, typer.Option(
        help="Molecule tasks: given (the dataset's own test set, where it has one), random or "
             "scaffold (Bemis-Murcko). Default: the task's own.")] = None,
    data: Annotated[Path | None, typer.Option(
        help="ehr.* tasks: the event table written by `medora data ingest` (default: the "
             "bundled synthetic cohort of 2,000 patients).")
    ] = None,
) -> None:
    """Train the deep model and its baselines; evaluate, calibrate, explain, audit, register.

    Example: medora train cardio.framingham_chd --seed 1 --out runs/framingham
    """
    from medora.train.run import RunConfig

    definition = _task(task)
    area = area_of(definition)
    if data is not None and "data" not in area.train_options:
        raise _fail(f"{task} trains on its bundled dataset and takes no --data")
    if split is not None and "split" not in area.train_options:
        raise _fail(f"{task} offers no choice of split; drop --split {split}")
    known = area.model_names(definition)
    if model is not None and model not in known:
        raise _fail(f"unknown model {model!r} for {task}; choose one of "
                    f"{', '.join(sorted(known))}")
    _check_training_output(out, register)
    try:
        run = area.train(definition, RunConfig(model=model, seed=seed, quick=quick, out_dir=out,
                                               register=register, split=split, data=data))
    except (AreaUsageError, InputValidationError) as error:
        raise _fail(str(error)) from None
    summary = area.result_table(run)
    table = Table(title=summary.title)
    table.add_column(summary.columns[0])
    for column in summary.columns[1:]:
        table.add_column(column, overflow="fold")
    for row in summary.rows:
        table.add_row(*row)
    console.print(table)
    for note in summary.notes:
        console.print(note, highlight=False)
    if run.version:
        console.print(f"registered {task} v{run.version.version} (status: "
                      f"{run.version.status})")
    console.print(f"wrote {run.out_dir}/report.html, metrics.json, card.md")


@app.command("models")
def models_command(task: Annotated[str | None, typer.Argument(help="Only this task.")] = None,
                   output_format: FormatOption = OutputFormat.table) -> None:
    """List registered model versions: task, version, model, status and its primary test
    metric.

    Example: medora models cardio.framingham_chd --format json.
    """
    import pandas as pd

    from medora.evaluate.bootstrap import Estimate
    from medora.registry.card import METRIC_LABELS, format_estimate
    from medora.registry.store import ModelStore

    store = ModelStore()
    records = store.versions(task)
    if not records and task is not None:
        _task(task)  # an unknown task is an error, not an empty registry
    if not records and output_format is OutputFormat.table:
        console.print(f"no registered models in {store.root}; train one with `medora train "
                      "TASK`")
        return
    rows = []
    for record in records:
        metric = _primary_metric(record.task, record.metrics)
        stored = record.metrics.get(metric, {})
        ci = stored.get("ci") or [float("nan"), float("nan")]
        value = stored.get("value")
        estimate = Estimate(float("nan") if value is None else value, *(
            float("nan") if v is None else v for v in ci))
        rows.append((record.task, record.version, record.model_name, record.status,
                     f"{METRIC_LABELS.get(metric, metric)} {format_estimate(estimate)}",
                     record.created_at, record.run_id))
    _emit(pd.DataFrame(rows, columns=["task", "version", "model", "status",
                                      "test metric (95% CI)", "created", "run"]),
          f"model registry ({store.root})", output_format)


def _primary_metric(task_name: str, metrics: dict[str, object]) -> str:
    """The task's primary metric; the first stored one for a task no longer registered."""
    try:
        return get_task(task_name).primary_metric
    except KeyError:
        return next(iter(metrics), "")


@app.command("predict")
def predict_command(
    context: typer.Context,
    task: TaskArgument,
    inputs: Annotated[Path, typer.Argument(
        help="Patients: a CSV with one column per input (see the card) and an optional "
             "patient_id. Molecules: a .smi, .csv/.tsv (SMILES column) or .sdf file. ehr.* "
             "tasks: one patient's FHIR R4 Bundle (.json).")],
    explain: Annotated[bool, typer.Option("--explain", help="Add each row's top contributing "
                                                            "features (patients), atoms "
                                                            "(molecules) or past events "
                                                            "(ehr.* tasks).")] = False,
    version: VersionOption = None,
    out: Annotated[Path | None, typer.Option(help="Write the predictions to this CSV "
                                                  "(written only if every row is valid).")
                   ] = None,
    skip_invalid: Annotated[bool, typer.Option(
        "--skip-invalid", help="Molecules: predict the valid ones and report the invalid ones "
                               "instead of stopping.")] = False,
    smiles_column: Annotated[str | None, typer.Option(
        help="Molecules: the SMILES column of a CSV/TSV (default: smiles, SMILES, "
             "canonical_smiles or Smiles).")] = None,
    id_column: Annotated[str | None, typer.Option(
        help="Molecules: the column (or SD property) naming each molecule.")] = None,
    maps: Annotated[Path | None, typer.Option(
        help="Molecules with --explain: folder for the atom maps (default: atom-maps/ beside "
             "--out, else in the current folder).")] = None,
    image_format: Annotated[str, typer.Option(
        "--image-format", help="Atom map format: png, or svg (vector, but megabytes per "
                               "map).")] = "png",
    plot: Annotated[Path | None, typer.Option(
        help="Survival tasks: write each patient's predicted survival curve to this PNG.")
                    ] = None,
    index_time: Annotated[str | None, typer.Option(
        "--index-time", help="ehr.* tasks: the prediction time, ISO 8601 (UTC unless an offset "
                             "is given); no later event reaches the model. Default: the "
                             "task's latest index event in the record (the latest inpatient "
                             "discharge for readmission, the latest visit for mortality).")
                          ] = None,
    output_format: FormatOption = OutputFormat.table,
) -> None:
    """Predict each patient's calibrated risk (95% interval, threshold flag), survival at the
    task's horizons (survival tasks), each molecule's property (conformal interval,
    applicability domain, atom map), or, for an ehr.* task, one patient's risk at an index
    time from a FHIR Bundle (with --explain, the past events that drove it).

    Example: medora predict cardio.framingham_chd patients.csv --explain --format csv >
    risks.csv
    """
    from medora.registry.store import ArtifactIntegrityError
    from medora.registry.versions import ModelUnavailableError

    definition = _task(task)
    area = area_of(definition)
    given = {"explain": explain, "version": version, "out": out, "skip_invalid": skip_invalid,
             "smiles_column": smiles_column, "id_column": id_column, "maps": maps,
             "image_format": image_format, "plot": plot, "index_time": index_time}
    _refuse_options(context, definition, area.predict_options, given)
    try:
        for path, what in ((out, "--out"), (plot, "--plot")):
            if path is not None:
                check_output_file(path, what)
        if maps is not None:
            check_output_folder(maps, "--maps")
    except UnwritablePathError as error:
        raise _fail(str(error)) from None
    try:
        result = area.predict_file(definition, inputs, given)
    except (InputValidationError, AreaUsageError) as error:
        raise _fail(str(error)) from None
    except (LookupError, ModelUnavailableError, ArtifactIntegrityError) as error:
        raise _fail(str(error.args[0])) from None
    for warning in result.warnings:
        errors.print(warning, highlight=False)
    record = result.version
    if record.status != "approved":
        errors.print(f"[yellow]note:[/yellow] {task} v{record.version} is {record.status}: "
                     "not approved for use; every prediction needs expert review.")
    # Beside machine-readable output, the notes go to standard error so the output stays whole.
    notes = console if out is not None or output_format is OutputFormat.table else errors
    for note in result.notes:
        notes.print(note, highlight=False)
    if out is not None:
        _write_table(result, out)
        console.print(f"wrote {len(result.table)} predictions to {out}")
        return
    if output_format is OutputFormat.table and result.show is not None:
        result.show(console)
        return
    _emit(result.table, result.title, output_format)


def _write_table(result: FilePredictions, out: Path) -> None:
    """Write beside ``out`` first and rename, so ``out`` is never half written; nothing is
    left behind when the write fails."""
    temporary = out.with_name(out.name + ".tmp")
    try:
        result.table.to_csv(temporary, index=False)
        os.replace(temporary, out)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise _fail(f"--out {out}: {error.strerror or error}; nothing was written") from None


def _check_training_output(out: Path | None, register: bool) -> None:
    """The run folder and the model registry must be writable before training starts, not
    found unwritable when it ends."""
    from medora.registry.store import ModelStore

    try:
        check_output_folder(out or Path("runs"), "--out" if out else "the run folder runs/")
        if register:
            check_output_folder(ModelStore().root, "the model registry")
    except UnwritablePathError as error:
        raise _fail(str(error)) from None


def _refuse_options(context: typer.Context, task: Task, accepted: frozenset[str],
                    options: dict[str, Any]) -> None:
    """Refuse an option given on the command line that the task's area does not read, naming
    the ones it does."""
    refused = [name for name in options if name not in accepted
               and context.get_parameter_source(name) is not ParameterSource.DEFAULT]
    if refused:
        flags = ", ".join("--" + name.replace("_", "-") for name in refused)
        offered = ", ".join("--" + name.replace("_", "-") for name in sorted(accepted))
        raise _fail(f"{flags}: not an option of {task.name} ({task.modality} task), which "
                    f"takes {offered}")


@app.command("card")
def card_command(task: TaskArgument, version: VersionOption = None) -> None:
    """Print the model card of a registered version (Markdown).

    Example: medora card cardio.framingham_chd --version 2 > card.md
    """
    from medora.registry.store import ModelStore

    definition = _task(task)
    store = ModelStore()
    try:
        record = store.get(definition.name, version)
    except LookupError as error:
        raise _fail(str(error.args[0])) from None
    sys.stdout.write(store.card(record))


app.command("serve")(serve_command)
app.command("demo")(demo_command)
app.add_typer(users_app, name="users")
app.add_typer(db_app, name="db")
data_app = typer.Typer(help="Clinical data: generate, read and convert records for training.",
                       no_args_is_help=True)
app.add_typer(data_app, name="data")
for _area in areas():
    _verbs = _area.commands()
    for _name, _command in _verbs.commands.items():
        app.command(_name)(_command)
    for _name, _group in _verbs.groups.items():
        app.add_typer(_group, name=_name)
    for _name, _command in _verbs.data_commands.items():
        data_app.command(_name)(_command)

if __name__ == "__main__":
    app()
