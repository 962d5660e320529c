"""The ``medora`` command: parses arguments, calls the library, prints. No logic of its own."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from medora.data.tabular import InputValidationError, read_table
from medora.serve.cli import db_app, demo_command, serve_command, users_app
from medora.tasks import get_task, list_tasks

app = typer.Typer(help="medora: trustworthy deep learning for healthcare.",
                  no_args_is_help=True, add_completion=False,
                  pretty_exceptions_show_locals=False)  # locals may hold patient data
console = Console()
errors = Console(stderr=True)

TaskArgument = Annotated[str, typer.Argument(help="Task name, e.g. cardio.framingham_chd "
                                                  "(see `medora tasks`).")]
VersionOption = Annotated[int | None, typer.Option(
    "--version", "-v", help="Model version (default: the newest not retired).")]


def _fail(message: str, code: int = 2) -> typer.Exit:
    errors.print(f"[bold red]error:[/bold red] {message}", highlight=False, markup=True,
                 soft_wrap=True)
    return typer.Exit(code)


def _task(name: str):
    try:
        return get_task(name)
    except KeyError as error:
        raise _fail(str(error.args[0])) from None


@app.command("tasks")
def tasks_command() -> None:
    """List every registered task: area, data, size, target and primary metric."""
    table = Table(title="medora tasks")
    for column in ("task", "area", "data", "n", "outcome rate", "target", "metric"):
        table.add_column(column)
    for task in list_tasks():
        dataset, _, y = task.load_xy()
        table.add_row(task.name, task.area, f"{dataset.provenance.title} "
                      f"({dataset.provenance.package} {dataset.provenance.package_version})",
                      str(len(y)), f"{y.mean():.1%}", task.target, task.primary_metric)
    console.print(table)


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
) -> None:
    """Train the deep model and its baselines; evaluate, calibrate, explain, audit, register."""
    from medora.models import MODEL_CLASSES
    from medora.train.run import RunConfig, train_task

    definition = _task(task)
    if model is not None and model not in MODEL_CLASSES:
        raise _fail(f"unknown model {model!r}; choose one of {', '.join(sorted(MODEL_CLASSES))}")
    run = train_task(definition, RunConfig(model=model, seed=seed, quick=quick, out_dir=out,
                                           register=register))
    table = Table(title=f"{task}: test split, 95% bootstrap CI")
    table.add_column("model")
    for metric in definition.metrics:
        table.add_column(metric, overflow="fold")
    from medora.registry.card import format_estimate

    for result in run.results.values():
        table.add_row(result.display_name,
                      *(format_estimate(result.metrics[m]) for m in definition.metrics))
    console.print(table)
    if run.version:
        console.print(f"registered {task} v{run.version.version} (status: "
                      f"{run.version.status})")
    console.print(f"wrote {run.out_dir}/report.html, metrics.json, card.md")


@app.command("models")
def models_command(task: Annotated[str | None, typer.Argument(help="Only this task.")] = None
                   ) -> None:
    """List registered model versions: task, version, model, status and test AUROC."""
    from medora.evaluate.bootstrap import Estimate
    from medora.registry.card import format_estimate
    from medora.registry.store import ModelStore

    store = ModelStore()
    records = store.versions(task)
    if not records:
        console.print(f"no registered models in {store.root}; train one with `medora train "
                      "TASK`")
        return
    table = Table(title=f"model registry ({store.root})")
    for column in ("task", "version", "model", "status", "AUROC (95% CI)", "created", "run"):
        table.add_column(column, overflow="fold")
    for record in records:
        auroc = record.metrics.get("auroc", {})
        ci = auroc.get("ci") or [float("nan"), float("nan")]
        value = auroc.get("value")
        estimate = Estimate(float("nan") if value is None else value, *(
            float("nan") if v is None else v for v in ci))
        table.add_row(record.task, str(record.version), record.model_name, record.status,
                      format_estimate(estimate), record.created_at, record.run_id)
    console.print(table)


@app.command("predict")
def predict_command(
    task: TaskArgument,
    patients: Annotated[Path, typer.Argument(help="CSV of patients: one column per input "
                                                  "(see the card), optional patient_id.")],
    explain: Annotated[bool, typer.Option("--explain", help="Add each patient's top "
                                                            "contributing features.")] = False,
    version: VersionOption = None,
    out: Annotated[Path | None, typer.Option(help="Write the predictions to this CSV "
                                                  "(written only if every row is valid).")
                   ] = None,
) -> None:
    """Predict calibrated risk, its 95% interval and the threshold flag for each patient."""
    from medora.predict import ModelUnavailableError, predict_patients

    definition = _task(task)
    try:
        result = predict_patients(definition, read_table(patients), version=version,
                                  explain=explain, source=str(patients))
    except InputValidationError as error:
        raise _fail(str(error)) from None
    except (LookupError, ModelUnavailableError) as error:
        raise _fail(str(error.args[0])) from None
    record = result.version
    if record.status != "approved":
        errors.print(f"[yellow]note:[/yellow] {task} v{record.version} is {record.status}: "
                     "not approved for clinical use; every prediction needs clinician review.")
    if out is not None:
        temporary = out.with_suffix(out.suffix + ".tmp")
        result.table.to_csv(temporary, index=False)
        os.replace(temporary, out)
        console.print(f"wrote {len(result.table)} predictions to {out}")
        return
    table = Table(title=f"{task} v{record.version}: calibrated risk (threshold "
                        f"{definition.threshold.value})")
    for column in result.table.columns:
        table.add_column(column, overflow="fold")
    for row in result.table.itertuples(index=False):
        table.add_row(*(f"{v:.3f}" if isinstance(v, float) else str(v) for v in row))
    console.print(table)


@app.command("card")
def card_command(task: TaskArgument, version: VersionOption = None) -> None:
    """Print the model card of a registered version (Markdown)."""
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

if __name__ == "__main__":
    app()
