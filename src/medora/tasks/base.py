"""The Task: what is predicted, from which data, how it is split, judged and audited."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

import numpy as np
import pandas as pd

from medora.data.bundled import Dataset
from medora.data.tabular import FeatureSpec


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


@dataclass(frozen=True)
class Task:
    """A named prediction problem on real data: inputs, target, split, metrics and audit."""

    name: str
    area: str
    description: str
    load: Callable[[], Dataset]
    features: tuple[FeatureSpec, ...]
    target: str
    target_description: str
    threshold: DecisionThreshold
    intended_use: str
    out_of_scope_use: str
    limitations: tuple[str, ...] = ()
    excluded_columns: tuple[str, ...] = ()
    sensitive_attributes: tuple[SensitiveAttribute, ...] = ()
    split: SplitSpec = field(default_factory=SplitSpec)
    modality: str = "tabular"
    metrics: tuple[str, ...] = ("auroc", "auprc", "brier", "ece", "sensitivity", "specificity")
    primary_metric: str = "auroc"
    deep_model: str = "mlp"
    baselines: tuple[str, ...] = ("logistic_regression", "gradient_boosting")

    @property
    def feature_names(self) -> list[str]:
        return [spec.name for spec in self.features]

    def load_xy(self) -> tuple[Dataset, pd.DataFrame, np.ndarray]:
        """Load the dataset and return it with the feature frame and the 0/1 target."""
        dataset = self.load()
        frame = dataset.frame
        missing = [c for c in [*self.feature_names, self.target] if c not in frame.columns]
        if missing:
            raise ValueError(f"task {self.name}: dataset {dataset.provenance.name} lacks "
                             f"column(s) {missing}")
        x = frame[self.feature_names].astype(float)
        y = frame[self.target].to_numpy().astype(int)
        return dataset, x, y

    def make_split(self, y: np.ndarray, seed: int) -> Split:
        from sklearn.model_selection import train_test_split  # only when splitting

        indices = np.arange(len(y))
        held_out = self.split.validation_fraction + self.split.test_fraction
        train, rest = train_test_split(indices, test_size=held_out, stratify=y, random_state=seed)
        validation, test = train_test_split(
            rest, test_size=self.split.test_fraction / held_out, stratify=y[rest],
            random_state=seed,
        )
        return Split(train=np.sort(train), validation=np.sort(validation), test=np.sort(test))

    def summary(self) -> dict[str, object]:
        return {"name": self.name, "area": self.area, "modality": self.modality,
                "target": self.target, "primary_metric": self.primary_metric,
                "description": self.description}


class RegisteredTask(Protocol):
    """What the registry needs of a task of any modality: a tabular :class:`Task`, or a
    ``MoleculeTask`` (medora.tasks.molecules), which this module cannot import without an
    import cycle. Anything beyond these (features, a threshold, ``load_xy``) belongs to one
    modality: check ``modality`` or the type before using it."""

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
    def summary(self) -> dict[str, object]: ...


AnyTask = TypeVar("AnyTask", bound=RegisteredTask)

_REGISTRY: dict[str, RegisteredTask] = {}


def register_task(task: AnyTask) -> AnyTask:
    if task.name in _REGISTRY:
        raise ValueError(f"a task named {task.name!r} is already registered")
    _REGISTRY[task.name] = task
    return task


def get_task(name: str) -> RegisteredTask:
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY))
        raise KeyError(f"unknown task {name!r}; registered tasks: {known}") from None


def list_tasks(modality: str | None = None) -> list[RegisteredTask]:
    """Every registered task by name, or only those of one ``modality`` ("tabular",
    "molecule")."""
    return [_REGISTRY[name] for name in sorted(_REGISTRY)
            if modality is None or _REGISTRY[name].modality == modality]


def task_names() -> Sequence[str]:
    return sorted(_REGISTRY)
