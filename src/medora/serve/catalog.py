"""What the service says of each task it predicts (GET /tasks, the web page's form): what is
predicted, in which unit, when a prediction is flagged, and the inputs it takes, as the task's
area describes them."""

from __future__ import annotations

from medora.core.task import Task
from medora.serve import scoring
from medora.serve.schemas import TaskInfo


def task_info(task: Task) -> TaskInfo:
    """What GET /tasks says of ``task``: what it predicts, in which unit, and its inputs."""
    handler = scoring.serving(task.name)
    outcome, catalogue = handler.outcome, handler.catalogue()
    return TaskInfo(name=task.name, area=task.area, description=task.description,
                    modality=outcome.modality, unit=outcome.unit,
                    interval_coverage=outcome.interval_coverage,
                    threshold=catalogue.threshold, threshold_source=catalogue.threshold_source,
                    inputs=catalogue.inputs)
