"""Which registered version a prediction may use: the one asked for, or the newest not retired,
and never one that is stopped or retired."""

from __future__ import annotations

from medora.core.task import Task
from medora.registry.store import ModelStore, ModelVersion


class ModelUnavailableError(RuntimeError):
    """The requested model version may not be used for predictions (stopped or retired)."""


def usable_version(task: Task, store: ModelStore,
                   version: int | None = None) -> ModelVersion:
    record = store.get(task.name, version)
    if record.status in {"stopped", "retired"}:
        last = record.history[-1] if record.history else {}
        raise ModelUnavailableError(
            f"{task.name} v{record.version} is {record.status}"
            + (f" by {last.get('by')} ({last.get('reason') or 'no reason given'})" if last else "")
            + "; use another version or resume it")
    return record
