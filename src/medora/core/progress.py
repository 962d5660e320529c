"""The progress bar of every long job that counts its work in units (folds, patients,
resources): description, bar, done of total, the unit, time spent and time left."""

from __future__ import annotations

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


def counting_progress(unit: str, *, enabled: bool = True) -> Progress:
    """A transient bar counting ``unit`` (a plural noun); ``enabled`` False shows nothing."""
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn(unit), TimeElapsedColumn(), TimeRemainingColumn(),
                    disable=not enabled, transient=True)
