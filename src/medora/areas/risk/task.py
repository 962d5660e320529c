"""The tabular risk task: patients as rows of named inputs, a binary outcome."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from medora.core.task import DecisionThreshold, SensitiveAttribute, Split, SplitSpec
from medora.data.bundled import Dataset
from medora.data.tabular import FeatureSpec


@dataclass(frozen=True)
class RiskTask:
    """A clinical risk from a table of patients: named inputs, a 0/1 target, a stratified split,
    the metrics it is judged by, the threshold that flags a patient and the fairness audit."""

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
