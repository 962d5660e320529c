"""Classical baselines for event-sequence tasks: medora's logistic regression and gradient
boosting on bag-of-codes counts plus demographics, with the sequence models' surface."""

from __future__ import annotations

from typing import Self

import numpy as np
import pandas as pd

from medora.areas.ehr.featurizers import BagOfCodes
from medora.areas.ehr.tasks import EventSamples
from medora.models.base import Model


class BagOfCodesClassifier:
    """A tabular medora model on :class:`BagOfCodes` features of event samples.

    The features (vocabulary, demographic columns) are fitted on the training samples inside
    ``fit``; explanations are the tabular model's own, one row per sample and feature.
    """

    def __init__(self, model: Model, min_count: int = 5) -> None:
        self.model = model
        self.min_count = min_count

    @property
    def name(self) -> str:
        return f"bag_{self.model.name}"

    @property
    def kind(self) -> str:
        return self.model.kind

    @property
    def display_name(self) -> str:
        return f"{self.model.display_name} (bag of codes)"

    @property
    def explanation_method(self) -> str:
        return self.model.explanation_method

    def fit(self, samples: EventSamples, y: np.ndarray,
            validation_samples: EventSamples | None = None,
            y_validation: np.ndarray | None = None) -> Self:
        self.features_ = BagOfCodes(self.min_count).fit(samples)
        validation = (None if validation_samples is None
                      else self.features_.transform(validation_samples))
        self.model.fit(self.features_.transform(samples), y, validation, y_validation)
        return self

    def predict_proba(self, samples: EventSamples) -> np.ndarray:
        return self.model.predict_proba(self.features_.transform(samples))

    def predict(self, samples: EventSamples, threshold: float = 0.5) -> np.ndarray:
        return self.model.predict(self.features_.transform(samples), threshold)

    def explain(self, samples: EventSamples) -> pd.DataFrame:
        """``sample``, ``feature``, ``value`` and ``contribution`` to the log-odds, for every
        feature with a non-zero value or contribution."""
        x = self.features_.transform(samples)
        contributions = self.model.explain(x)
        long = pd.DataFrame({
            "sample": np.repeat(np.arange(len(x)), x.shape[1]),
            "feature": np.tile(x.columns.to_numpy(), len(x)),
            "value": x.to_numpy().ravel(), "contribution": contributions.to_numpy().ravel()})
        return long[(long["value"] != 0) | (long["contribution"] != 0)].reset_index(drop=True)
