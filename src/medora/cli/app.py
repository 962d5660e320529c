"""The ``medora`` command: parses arguments, calls the library, prints. No logic of its own."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from medora.data.tabular import InputValidationError, read_table
from medora.areas.ehr.cli import data_app
from medora.areas.molecules.cli import mol_app
from medora.serve.cli import db_app, demo_command, serve_command, users_app
from medora.areas.survival.cli import stratify_command
from medora.core.registry import get_task, list_tasks
from medora.core.task import Task

if TYPE_CHECKING:
    from medora.areas.risk.predict import MoleculePredictions
    from medora.areas.ehr.predict import EhrPrediction
    from medora.areas.ehr.tasks import EventSequenceTask
    from medora.areas.molecules.tasks import MoleculeTask

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
    from medora.areas.molecules.tasks import MoleculeTask

    table = Table(title="medora tasks")
    for column in ("task", "area", "data", "n", "target summary", "target", "metric"):
        table.add_column(column)
    for task in list_tasks():
        if task.modality == "effect":
            table.add_row(*_effect_task_row(task))
            continue
        if task.modality == "survival":
            table.add_row(*_survival_task_row(task))
            continue
        if task.modality == "event_sequence":  # the bundled cohort, or the user's table
            table.add_row(task.name, task.area, "bundled synthetic cohort (Synthea, 2,000 "
                          "patients) or your event table (train --data PATH)", "", "",
                          task.target, task.primary_metric)
            continue
        if isinstance(task, MoleculeTask):
            dataset, _, y = task.load_molecules()
            summary = f"mean {y.mean():.2f}, sd {y.std():.2f} {task.units}"
        else:
            dataset, _, y = task.load_xy()
            summary = f"{y.mean():.1%} positive"
        table.add_row(task.name, task.area, f"{dataset.provenance.title} "
                      f"({dataset.provenance.package} {dataset.provenance.package_version})",
                      str(len(y)), summary, task.target, task.primary_metric)
    console.print(table)


def _effect_task_row(task: Task) -> tuple[str, ...]:
    """A treatment-effect task's row of `medora tasks`: its data (default instance), the number
    of patients and the mean outcome per arm."""
    from medora.areas.effects.tasks import EffectTask

    assert isinstance(task, EffectTask)  # modality "effect" is only ever an EffectTask
    data = task.load()
    means = [f"{data.outcome[data.treatment == arm].mean():.2f}" for arm in (1, 0)]
    summary = (f"mean {means[0]} treated, {means[1]} control ({data.outcome_unit}; "
               f"{'randomised' if data.randomised else 'observational'})")
    return (task.name, task.area, f"{data.provenance.title} ({data.provenance.package} "
            f"{data.provenance.package_version})", str(data.n), summary, task.target,
            task.primary_metric)


def _survival_task_row(task: Task) -> tuple[str, ...]:
    """A survival task's row of `medora tasks`: patients, events and follow-up, or why its
    data cannot be read (GSE7390 needs the optional scikit-survival package)."""
    from rich.markup import escape

    from medora.data.packaged import DatasetUnavailableError
    from medora.areas.survival.tasks import SurvivalTask

    assert isinstance(task, SurvivalTask)  # modality "survival" is only ever a SurvivalTask
    try:
        data = task.load()
    except DatasetUnavailableError as error:
        # escape: rich would take "[gpl-baselines]" in the install hint for a markup tag
        return (task.name, task.area, f"unavailable: {escape(str(error))}", "", "",
                task.target, task.primary_metric)
    summary = (f"{data.n_events} events ({data.event.mean():.1%}), follow-up up to "
               f"{data.time.max():.0f} {data.time_unit}")
    return (task.name, task.area, f"{data.provenance.title} ({data.provenance.package} "
            f"{data.provenance.package_version})", str(len(data.time)), summary, task.target,
            task.primary_metric)


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
    """Train the deep model and its baselines; evaluate, calibrate, explain, audit, register."""
    from medora.areas.effects.factory import EFFECT_MODEL_CLASSES
    from medora.areas.molecules.factory import MOLECULE_MODEL_CLASSES
    from medora.models import MODEL_CLASSES
    from medora.areas.ehr.factory import EVENT_MODEL_NAMES
    from medora.areas.effects.tasks import EffectTask
    from medora.areas.ehr.tasks import EventSequenceTask
    from medora.areas.molecules.tasks import MoleculeTask
    from medora.train.dispatch import train_any_task
    from medora.train.run import RunConfig

    definition = _task(task)
    is_event = isinstance(definition, EventSequenceTask)
    if data is not None and not is_event:
        raise _fail(f"{task} trains on its bundled dataset and takes no --data; only the ehr.* "
                    "tasks read an event table")
    if definition.modality == "survival":
        from medora.areas.survival.cli import train_survival

        return train_survival(definition, model, seed, quick, out, register, split)
    is_molecule = isinstance(definition, MoleculeTask)
    known = (MOLECULE_MODEL_CLASSES if is_molecule else EFFECT_MODEL_CLASSES
             if isinstance(definition, EffectTask) else EVENT_MODEL_NAMES if is_event
             else MODEL_CLASSES)
    if model is not None and model not in known:
        raise _fail(f"unknown model {model!r} for {task}; choose one of "
                    f"{', '.join(sorted(known))}")
    if split is not None and (not is_molecule or split not in definition.split_kinds):
        offered = definition.split_kinds if is_molecule else ("its stratified random split",)
        raise _fail(f"{task} offers the split(s) {', '.join(offered)}, not {split!r}")
    try:
        run = train_any_task(definition, RunConfig(model=model, seed=seed, quick=quick,
                                                   out_dir=out, register=register, split=split,
                                                   data=data))
    except InputValidationError as error:
        raise _fail(str(error)) from None
    table = Table(title=f"{task}: test split, 95% bootstrap CI")
    table.add_column("model")
    for metric in definition.metrics:
        table.add_column(metric, overflow="fold")
    from medora.registry.card import format_estimate

    for result in run.results.values():
        table.add_row(result.display_name,
                      *(format_estimate(result.metrics[m]) for m in definition.metrics))
    console.print(table)
    if is_molecule:
        coverage = run.primary.coverage
        console.print(f"conformal intervals: nominal coverage {coverage['nominal']:.0%}, "
                      f"empirical on the test split {coverage['empirical']:.1%}")
    if run.version:
        console.print(f"registered {task} v{run.version.version} (status: "
                      f"{run.version.status})")
    console.print(f"wrote {run.out_dir}/report.html, metrics.json, card.md")


@app.command("models")
def models_command(task: Annotated[str | None, typer.Argument(help="Only this task.")] = None
                   ) -> None:
    """List registered model versions: task, version, model, status and its primary test
    metric."""
    from medora.evaluate.bootstrap import Estimate
    from medora.registry.card import METRIC_LABELS, format_estimate
    from medora.registry.store import ModelStore

    store = ModelStore()
    records = store.versions(task)
    if not records:
        console.print(f"no registered models in {store.root}; train one with `medora train "
                      "TASK`")
        return
    table = Table(title=f"model registry ({store.root})")
    for column in ("task", "version", "model", "status", "test metric (95% CI)", "created",
                   "run"):
        table.add_column(column, overflow="fold")
    for record in records:
        metric = _primary_metric(record.task, record.metrics)
        stored = record.metrics.get(metric, {})
        ci = stored.get("ci") or [float("nan"), float("nan")]
        value = stored.get("value")
        estimate = Estimate(float("nan") if value is None else value, *(
            float("nan") if v is None else v for v in ci))
        table.add_row(record.task, str(record.version), record.model_name, record.status,
                      f"{METRIC_LABELS.get(metric, metric)} {format_estimate(estimate)}",
                      record.created_at, record.run_id)
    console.print(table)


def _primary_metric(task_name: str, metrics: dict[str, object]) -> str:
    """The task's primary metric; the first stored one for a task no longer registered."""
    try:
        return get_task(task_name).primary_metric
    except KeyError:
        return next(iter(metrics), "")


@app.command("predict")
def predict_command(
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
) -> None:
    """Predict each patient's calibrated risk (95% interval, threshold flag), survival at the
    task's horizons (survival tasks), each molecule's property (conformal interval,
    applicability domain, atom map), or, for an ehr.* task, one patient's risk at an index
    time from a FHIR Bundle (with --explain, the past events that drove it)."""
    from medora.areas.risk.predict import ModelUnavailableError, predict_patients
    from medora.registry.store import ArtifactIntegrityError
    from medora.areas.effects.tasks import EffectTask
    from medora.areas.ehr.tasks import EventSequenceTask
    from medora.areas.molecules.tasks import MoleculeTask
    from medora.areas.survival.tasks import SurvivalTask

    definition = _task(task)
    if plot is not None and not isinstance(definition, SurvivalTask):
        raise _fail("--plot draws survival curves: it is for survival tasks only")
    if index_time is not None and not isinstance(definition, EventSequenceTask):
        raise _fail("--index-time is the prediction time of an ehr.* task's bundle; "
                    f"{task} predicts from its inputs as they are")
    try:
        if isinstance(definition, EventSequenceTask):
            from medora.areas.ehr.predict import predict_ehr_patient

            result = predict_ehr_patient(definition, inputs, index_time=index_time,
                                         version=version, explain=explain)
            title = (f"{task} v{result.version.version}: calibrated risk at the index time "
                     f"(threshold {definition.threshold.value})")
        elif isinstance(definition, MoleculeTask):
            if image_format not in ("svg", "png"):
                raise _fail(f"--image-format must be svg or png, not {image_format!r}")
            result = _predict_molecules(definition, inputs, version, explain, skip_invalid,
                                        smiles_column, id_column)
            title = (f"{task} v{result.version.version}: {definition.target} "
                     f"({definition.units}) with {result.coverage:.0%} conformal interval")
        elif isinstance(definition, EffectTask):
            from medora.areas.effects.predictor import predict_effects

            result = predict_effects(definition, read_table(inputs), version=version,
                                     source=str(inputs))
            title = (f"{task} v{result.version.version}: effect (treated minus control) with "
                     "interval; an arm is recommended only inside overlap")
        elif isinstance(definition, SurvivalTask):
            from medora.areas.survival.predictor import predict_survival_patients

            result = predict_survival_patients(definition, read_table(inputs), version=version,
                                               source=str(inputs))
            title = (f"{task} v{result.version.version}: risk score (higher = earlier event) "
                     f"and predicted {definition.target} at the horizons")
        else:
            result = predict_patients(definition, read_table(inputs), version=version,
                                      explain=explain, source=str(inputs))
            title = (f"{task} v{result.version.version}: calibrated risk (threshold "
                     f"{definition.threshold.value})")
    except InputValidationError as error:
        raise _fail(str(error)) from None
    except (LookupError, ModelUnavailableError, ArtifactIntegrityError) as error:
        raise _fail(str(error.args[0])) from None
    record = result.version
    if record.status != "approved":
        errors.print(f"[yellow]note:[/yellow] {task} v{record.version} is {record.status}: "
                     "not approved for use; every prediction needs expert review.")
    if isinstance(definition, MoleculeTask) and explain:
        folder = maps or ((out.parent if out else Path.cwd()) / "atom-maps")
        written = _write_atom_maps(folder, result, image_format)
        console.print(f"wrote {written} atom maps ({image_format}) to {folder}")
    if plot is not None:
        from medora.areas.survival.predictor import plot_survival_curves

        plot_survival_curves(result, plot, title=f"{task} v{record.version}: predicted "
                                                 f"{definition.target}")
        console.print(f"wrote {len(result.table)} survival curves to {plot}")
    if out is not None:
        temporary = out.with_suffix(out.suffix + ".tmp")
        result.table.to_csv(temporary, index=False)
        os.replace(temporary, out)
        console.print(f"wrote {len(result.table)} predictions to {out}")
        return
    if isinstance(definition, EventSequenceTask):
        return _print_ehr_prediction(definition, result, title, explain)
    table = Table(title=title)
    for column in result.table.columns:
        table.add_column(column, overflow="fold")
    for row in result.table.itertuples(index=False):
        table.add_row(*(f"{v:.3f}" if isinstance(v, float) else str(v) for v in row))
    console.print(table)


def _print_ehr_prediction(task: EventSequenceTask, result: EhrPrediction, title: str,
                          explain: bool) -> None:
    """The risk, the flag, where it was predicted and on what, and with ``explain`` the past
    events that drove it."""
    from rich.markup import escape

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


def _predict_molecules(task: MoleculeTask, path: Path, version: int | None, explain: bool,
                       skip_invalid: bool, smiles_column: str | None,
                       id_column: str | None) -> MoleculePredictions:
    from medora.data.molecules import read_molecules
    from medora.areas.risk.predict import predict_molecules

    molecules = read_molecules(path, smiles_column=smiles_column, id_column=id_column,
                               skip_invalid=skip_invalid)
    for item in molecules.invalid:
        errors.print(f"[yellow]skipped[/yellow] {item.describe()}", highlight=False)
    if not len(molecules):
        raise _fail(f"{path}: no valid molecule left to predict")
    return predict_molecules(task, molecules, version=version, explain=explain)


def _write_atom_maps(folder: Path, result: MoleculePredictions, image_format: str) -> int:
    """One image per molecule, named after its id, drawn on the molecule the weights index."""
    from medora.areas.molecules.chem.depict import draw_molecule

    folder.mkdir(parents=True, exist_ok=True)
    for ident, mol, weights in zip(result.molecules.ids, result.molecules.mols,
                                   result.atom_weights, strict=True):
        image = draw_molecule(mol, atom_weights=list(weights), format=image_format)
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in str(ident))
        path = folder / f"{safe}.{image_format}"
        if isinstance(image, bytes):
            path.write_bytes(image)
        else:
            path.write_text(image, encoding="utf-8")
    return len(result.table)


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
app.add_typer(mol_app, name="mol")
app.add_typer(data_app, name="data")
app.command("stratify")(stratify_command)

if __name__ == "__main__":
    app()
