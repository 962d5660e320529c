"""Prediction tasks by area; importing this package registers every built-in task."""

from medora.tasks import cardio, molecules, oncology  # noqa: F401  (registration side effect)
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
from medora.tasks.molecules import MoleculeTask

__all__ = [
    "DecisionThreshold",
    "MoleculeTask",
    "RegisteredTask",
    "SensitiveAttribute",
    "Split",
    "SplitSpec",
    "Task",
    "get_task",
    "list_tasks",
    "register_task",
    "task_names",
]
