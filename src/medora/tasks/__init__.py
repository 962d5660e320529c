"""Prediction tasks by area; importing this package registers every built-in task."""

from medora.tasks import cardio, oncology  # noqa: F401  (registration side effect)
from medora.tasks.base import (
    DecisionThreshold,
    SensitiveAttribute,
    Split,
    SplitSpec,
    Task,
    get_task,
    list_tasks,
    register_task,
    task_names,
)

__all__ = [
    "DecisionThreshold",
    "SensitiveAttribute",
    "Split",
    "SplitSpec",
    "Task",
    "get_task",
    "list_tasks",
    "register_task",
    "task_names",
]
