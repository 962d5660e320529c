"""What every task has, whatever its area: the contract the registry, the CLI and the service
rely on, and the split, threshold and fairness pieces several areas build their tasks from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class SensitiveAttribute:
    """A patient attribute the fairness audit groups by, derived from one input column.

    Either ``labels`` maps coded values to group names (sex: 0 -> female, or a text value
    to itself to fix the groups and their order), or ``bins`` with
    ``bin_labels`` cut a continuous column into bands (age: 40-49, 50-59, ...).
    """

    name: str
    column: str
    labels: dict[float | str, str] = field(default_factory=dict)
    bins: tuple[float, ...] = ()
    bin_labels: tuple[str, ...] = ()

    def groups(self, frame: pd.DataFrame) -> pd.Series:
        """Each patient's group, as a categorical in the attribute's natural order."""
        values = frame[self.column]
        if self.bins:
            groups = pd.cut(values, bins=list(self.bins), labels=list(self.bin_labels),
                            right=False)
            categories = list(self.bin_labels)
        else:
            groups = values.map(self.labels)
            categories = list(dict.fromkeys(self.labels.values()))
        groups = pd.Categorical(groups, categories=[*categories, "unknown"])
        return pd.Series(groups, index=frame.index, name=self.name).fillna("unknown")


@dataclass(frozen=True)
class SplitSpec:
    """Stratified train/validation/test fractions; validation is used for early stopping and
    for fitting the calibration, test only for the final report."""

    validation_fraction: float = 0.2
    test_fraction: float = 0.2

    def __post_init__(self) -> None:
        if not 0 < self.validation_fraction < 1 or not 0 < self.test_fraction < 1 or (
            self.validation_fraction + self.test_fraction >= 1
        ):
            raise ValueError("validation_fraction and test_fraction must be in (0, 1) and sum "
                             f"to less than 1, got {self.validation_fraction} and "
                             f"{self.test_fraction}")


@dataclass(frozen=True)
class Split:
    train: np.ndarray
    validation: np.ndarray
    test: np.ndarray

    def sizes(self) -> dict[str, int]:
        return {"train": len(self.train), "validation": len(self.validation),
                "test": len(self.test)}


@dataclass(frozen=True)
class DecisionThreshold:
    """The risk above which a patient is flagged, and where that number comes from."""

    value: float
    source: str


class Task(Protocol):
    """What the core needs of a task of any area. Anything beyond these (features, a
    threshold, how its data loads) belongs to the task's area, which the core asks through
    :class:`medora.core.area.Area`; ``modality`` names the kind of prediction in the service's
    answers (GET /tasks), and the core never branches on it."""

    @property
    def name(self) -> str: ...
    @property
    def area(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def modality(self) -> str: ...
    @property
    def target(self) -> str: ...
    @property
    def primary_metric(self) -> str: ...
    @property
    def metrics(self) -> tuple[str, ...]: ...
    def summary(self) -> dict[str, object]: ...
