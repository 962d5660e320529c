"""Treatment effects: which of two treatments is better for which patient (ACTG 175, NHEFS,
ACIC 2016), TARNet, DragonNet and the offset TARNet beside meta-learner and causal-forest
baselines, with the overlap rule that keeps a recommendation to patients like those trained on."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from medora.areas.effects.tasks import ACIC2016, ACTG175, NHEFS, EffectTask
from medora.core.area import Area, AreaUsageError, FilePredictions, TaskRow

if TYPE_CHECKING:
    from medora.areas.effects.run import EffectRun
    from medora.areas.effects.serving import EffectServing
    from medora.registry.store import ModelStore
    from medora.train.run import RunConfig


class EffectArea(Area):
    name = "effects"
    task_type = EffectTask
    template_package = "medora.areas.effects"
    # Taken only to name the one split there is when another is asked for; --data is refused
    # by the CLI (bundled data only).
    train_options = frozenset({"split"})
    # --explain is taken and ignored, as before: an effect's explanation is its overlap check
    # and recommendation, which every prediction carries.
    predict_options = frozenset({"explain", "version", "out"})
    demo_tasks = ("effect.actg175",)
    # Registered EffectPredictors pickle the models, baselines and overlap rule under these.
    moved_modules: ClassVar[Mapping[str, str]] = {
        "medora.tasks.effects": "medora.areas.effects.tasks",
        "medora.data.effects": "medora.areas.effects.data",
        "medora.models.effects": "medora.areas.effects.models",
        "medora.models.effect_baselines": "medora.areas.effects.baselines",
        "medora.evaluate.effects": "medora.areas.effects.metrics",
        "medora.train.effect_run": "medora.areas.effects.run",
        "medora.predict_effects": "medora.areas.effects.predictor"}

    def tasks(self) -> Sequence[EffectTask]:
        return (ACTG175, NHEFS, ACIC2016)

    def describe(self, task: EffectTask) -> TaskRow:
        """Its data (the default instance), the number of patients and the mean outcome per
        arm."""
        data = task.load()
        means = [f"{data.outcome[data.treatment == arm].mean():.2f}" for arm in (1, 0)]
        provenance = data.provenance
        return TaskRow(f"{provenance.title} ({provenance.package} {provenance.package_version})",
                       str(data.n),
                       f"mean {means[0]} treated, {means[1]} control ({data.outcome_unit}; "
                       f"{'randomised' if data.randomised else 'observational'})")

    def model_names(self, task: EffectTask) -> Sequence[str]:
        from medora.areas.effects.factory import EFFECT_MODEL_CLASSES

        return tuple(EFFECT_MODEL_CLASSES)

    def train(self, task: EffectTask, config: RunConfig, store: ModelStore | None = None
              ) -> EffectRun:
        """One run on the task's bundled data and its one split (random, stratified on
        treatment)."""
        if config.split is not None:
            raise AreaUsageError(f"{task.name} offers the split(s) its stratified random split, "
                                 f"not {config.split!r}")
        from medora.areas.effects.run import train_effect_task

        return train_effect_task(task, config, store)

    def predict_file(self, task: EffectTask, path: Path, options: Mapping[str, Any]
                     ) -> FilePredictions:
        from medora.areas.effects.predictor import predict_effects
        from medora.data.tabular import read_table

        result = predict_effects(task, read_table(path), version=options.get("version"),
                                 source=str(path))
        return FilePredictions(result.table, result.version,
                               f"{task.name} v{result.version.version}: effect (treated minus "
                               "control) with interval; an arm is recommended only inside "
                               "overlap")

    def serving(self, task: EffectTask) -> EffectServing:
        from medora.areas.effects.serving import EffectServing

        return EffectServing(task)

    def detail_schemas(self) -> tuple[type, ...]:
        from medora.areas.effects.schemas import EffectDetails

        return (EffectDetails,)
