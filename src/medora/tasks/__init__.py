"""Prediction tasks by area; importing this package registers every built-in task."""

# Importing each area module registers its tasks.
from medora.tasks import cardio, effects, ehr, molecules, oncology, survival  # noqa: F401
from medora.tasks.base import (
    DecisionThreshold,
    RegisteredTask,
    SensitiveAttribute,
    Split,
    SplitSpec,
    Task,
    get_task,
    list_tasks,
    register_task,
    task_names,
)
from medora.tasks.effects import EffectTask
from medora.tasks.ehr import EventSequenceTask
from medora.tasks.molecules import MoleculeTask
from medora.tasks.survival import SurvivalTask

__all__ = [
    "DecisionThreshold",
    "EffectTask",
    "EventSequenceTask",
    "MoleculeTask",
    "RegisteredTask",
    "SensitiveAttribute",
    "Split",
    "SplitSpec",
    "SurvivalTask",
    "Task",
    "get_task",
    "list_tasks",
    "register_task",
    "task_names",
]
