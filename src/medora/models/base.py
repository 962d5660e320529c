"""The Model surface every medora model shares, deep or classical, like a scikit-learn
classifier: ``fit``, ``predict``, ``predict_proba`` and ``explain``."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar, Literal, Self

import numpy as np
import pandas as pd

from medora.models.preprocessing import TabularPreprocessor

ModelKind = Literal["deep", "baseline"]


def check_binary_target(y: np.ndarray) -> np.ndarray:
    y = np.asarray(y)
    values = set(np.unique(y).tolist())
    if not values <= {0, 1} or len(values) < 2:
        raise ValueError(f"expected a binary target with both classes 0 and 1, got values "
                         f"{sorted(values)}")
    return y.astype(int)


class Model(ABC):
    """A binary risk model on a table of patient features.

    Subclasses implement ``_fit`` and ``_decision_function`` (log-odds of the positive class) on
    the preprocessed array, and ``_attributions`` (per-feature log-odds contributions relative
    to an average training patient). The base class owns the preprocessing, so missing values
    are always imputed from the training data alone.
    """

    name: ClassVar[str]
    kind: ClassVar[ModelKind]
    display_name: ClassVar[str]
    explanation_method: ClassVar[str]

    def fit(self, x: pd.DataFrame, y: np.ndarray, x_validation: pd.DataFrame | None = None,
            y_validation: np.ndarray | None = None) -> Self:
        """Fit on training data; validation data, if given, is used for early stopping only."""
        y = check_binary_target(y)
        if len(x) != len(y):
            raise ValueError(f"x has {len(x)} rows but y has {len(y)}")
        self.preprocessor_ = TabularPreprocessor().fit(x)
        self.feature_names_ = list(x.columns)
        validation = None
        if x_validation is not None and y_validation is not None:
            validation = (self.preprocessor_.transform(x_validation),
                          check_binary_target(y_validation))
        self._fit(self.preprocessor_.transform(x), y, validation)
        return self

    def decision_function(self, x: pd.DataFrame) -> np.ndarray:
        """Log-odds of the positive class."""
        return self._decision_function(self.preprocessor_.transform(x))

    def predict_proba(self, x: pd.DataFrame) -> np.ndarray:
        """Probabilities of class 0 and class 1, shape (n, 2), like scikit-learn."""
        positive = 1.0 / (1.0 + np.exp(-self.decision_function(x)))
        return np.column_stack([1.0 - positive, positive])

    def predict(self, x: pd.DataFrame, threshold: float = 0.5) -> np.ndarray:
        return (self.predict_proba(x)[:, 1] >= threshold).astype(int)

    def explain(self, x: pd.DataFrame) -> pd.DataFrame:
        """Per-patient, per-feature contributions to the log-odds (rows follow ``x``)."""
        contributions = self.preprocessor_.group_attributions(
            self._attributions(self.preprocessor_.transform(x)))
        return pd.DataFrame(contributions, index=x.index, columns=self.feature_names_)

    @abstractmethod
    def _fit(self, x: np.ndarray, y: np.ndarray,
             validation: tuple[np.ndarray, np.ndarray] | None) -> None: ...

    @abstractmethod
    def _decision_function(self, x: np.ndarray) -> np.ndarray: ...

    @abstractmethod
    def _attributions(self, x: np.ndarray) -> np.ndarray: ...
