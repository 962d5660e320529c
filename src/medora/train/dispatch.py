"""One entry point that trains any registered task with the run its kind needs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from medora.registry.store import ModelStore
from medora.tasks import (
    EffectTask,
    EventSequenceTask,
    MoleculeTask,
    RegisteredTask,
    SurvivalTask,
    Task,
)

if TYPE_CHECKING:
    from medora.train.effect_run import EffectRun
    from medora.train.ehr_run import EhrRun
    from medora.train.molecule_run import MoleculeRun
    from medora.train.run import Run, RunConfig
    from medora.train.survival_run import SurvivalRun


def train_any_task(task: RegisteredTask, config: RunConfig, store: ModelStore | None = None
                   ) -> Run | MoleculeRun | SurvivalRun | EffectRun | EhrRun:
    """Train, compare and (unless ``config.register`` is false) register ``task``'s models:
    a split and bootstrap for tabular, molecule, effect and event-sequence tasks (these on
    the event table ``config.data``), repeated cross-validation for survival tasks. Each
    run's module is imported only when its kind is trained."""
    if isinstance(task, MoleculeTask):
        from medora.train.molecule_run import train_molecule_task

        return train_molecule_task(task, config, store)
    if isinstance(task, SurvivalTask):
        from medora.train.survival_run import train_survival_task

        return train_survival_task(task, config, store)
    if isinstance(task, EffectTask):
        from medora.train.effect_run import train_effect_task

        return train_effect_task(task, config, store)
    if isinstance(task, EventSequenceTask):
        from medora.train.ehr_run import train_event_task

        return train_event_task(task, config, store)
    if isinstance(task, Task):
        from medora.train.run import train_task

        return train_task(task, config, store)
    raise TypeError(f"{task.name} is a {task.modality} task, which has no training run")
