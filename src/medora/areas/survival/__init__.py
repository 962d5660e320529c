"""Survival (oncology): time to recurrence or metastasis with censoring kept as it is (GBSG2,
GSE7390), DeepSurv and the logistic-hazard network beside Cox and the scikit-survival baselines,
judged by repeated stratified cross-validation; each patient's survival curve, percentile and
risk group among the training patients; ``medora stratify`` for risk groups and subtypes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from medora.areas.survival.tasks import BREAST_RECURRENCE_GENES, GBSG2_RECURRENCE, SurvivalTask
from medora.core.area import (
    Area,
    AreaCommands,
    AreaUsageError,
    FilePredictions,
    ResultTable,
    TaskRow,
)

if TYPE_CHECKING:
    from medora.areas.survival.run import SurvivalRun
    from medora.areas.survival.serving import SurvivalServing
    from medora.registry.store import ModelStore
    from medora.train.run import RunConfig


class SurvivalArea(Area):
    name = "survival"
    task_type = SurvivalTask
    template_package = "medora.areas.survival"
    # --split is read only to refuse it with the reason (every number is cross-validated).
    train_options = frozenset({"split"})
    # --explain is taken and ignored, as before: a survival prediction's explanation is its
    # curve, percentile and group, which every prediction carries.
    predict_options = frozenset({"explain", "version", "out", "plot"})
    # A registered SurvivalPredictor pickles its model (deep, Cox or scikit-survival) under
    # these.
    moved_modules: ClassVar[Mapping[str, str]] = {
        "medora.predict_survival": "medora.areas.survival.predictor",
        "medora.models.survival": "medora.areas.survival.models",
        "medora.models.survival_gpl": "medora.areas.survival.gpl"}

    def tasks(self) -> Sequence[SurvivalTask]:
        return (BREAST_RECURRENCE_GENES, GBSG2_RECURRENCE)

    def describe(self, task: SurvivalTask) -> TaskRow:
        """Patients, events and follow-up, or why the data cannot be read (GSE7390 ships in
        the optional scikit-survival package)."""
        from rich.markup import escape

        from medora.data.packaged import DatasetUnavailableError

        try:
            data = task.load()
        except DatasetUnavailableError as error:
            # escape: rich would take "[gpl-baselines]" in the install hint for a markup tag
            return TaskRow(f"unavailable: {escape(str(error))}")
        provenance = data.provenance
        return TaskRow(f"{provenance.title} ({provenance.package} {provenance.package_version})",
                       str(len(data.time)),
                       f"{data.n_events} events ({data.event.mean():.1%}), follow-up up to "
                       f"{data.time.max():.0f} {data.time_unit}")

    def model_names(self, task: SurvivalTask) -> Sequence[str]:
        from medora.areas.survival.factory import survival_model_classes

        return tuple(survival_model_classes())

    def train(self, task: SurvivalTask, config: RunConfig, store: ModelStore | None = None
              ) -> SurvivalRun:
        """Repeated stratified cross-validation on the task's bundled data. The run's own
        refusals (an unknown model, a scikit-survival model without the package) are
        :class:`AreaUsageError`\\ s too, so they reach the user as a message, not a
        traceback."""
        if config.data is not None:
            raise AreaUsageError(f"{task.name} trains on its bundled dataset and takes no "
                                 "--data; only the ehr.* tasks read an event table")
        if config.split is not None:
            raise AreaUsageError(f"{task.name} is evaluated by repeated stratified "
                                 f"cross-validation, not a split; drop --split {config.split}")
        from medora.areas.survival.run import train_survival_task

        try:
            return train_survival_task(task, config, store)
        except ValueError as error:
            raise AreaUsageError(str(error)) from None

    def result_table(self, run: SurvivalRun) -> ResultTable:
        """Each model's cross-validated metrics, the models left out (scikit-survival not
        installed) with the reason, and the published results to compare with."""
        from medora.areas.survival.run import SURVIVAL_METRICS
        from medora.registry.card import format_estimate

        labels = {metric: label for metric, (label, _) in SURVIVAL_METRICS.items()}
        rows = [(result.display_name, *(format_estimate(result.metrics[m]) for m in labels))
                for result in run.results.values()]
        rows += [(name, reason, *([""] * (len(labels) - 1)))
                 for name, reason in run.unavailable.items()]
        return ResultTable(
            title=f"{run.task.name}: {run.interval}", columns=("model", *labels.values()),
            rows=tuple(rows),
            notes=tuple(f"published: {r.model} {labels[r.metric]} {r.value} ({r.setting}; "
                        f"source: {r.source})" for r in run.references))

    def predict_file(self, task: SurvivalTask, path: Path, options: Mapping[str, Any]
                     ) -> FilePredictions:
        """Each patient's risk score, probability of the event by the reference horizon with
        its percentile and group, and survival at the horizons; ``plot`` writes every
        patient's curve to that PNG."""
        from medora.areas.survival.predictor import plot_survival_curves, predict_survival_patients
        from medora.data.tabular import read_table

        result = predict_survival_patients(task, read_table(path), version=options.get("version"),
                                           source=str(path))
        version = result.version.version
        notes = []
        plot = options.get("plot")
        if plot is not None:
            plot_survival_curves(result, plot, title=f"{task.name} v{version}: predicted "
                                                     f"{task.target}")
            notes.append(f"wrote {len(result.table)} survival curves to {plot}")
        return FilePredictions(result.table, result.version,
                               f"{task.name} v{version}: risk score (higher = earlier event) "
                               f"and predicted {task.target} at the horizons", notes=notes)

    def commands(self) -> AreaCommands:
        from medora.areas.survival.cli import stratify_command

        return AreaCommands(commands={"stratify": stratify_command})

    def serving(self, task: SurvivalTask) -> SurvivalServing:
        from medora.areas.survival.serving import SurvivalServing

        return SurvivalServing(task)

    def detail_schemas(self) -> tuple[type, ...]:
        from medora.areas.survival.schemas import SurvivalDetails

        return (SurvivalDetails,)
