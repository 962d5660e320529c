"""A fitted model plus the calibration fitted on validation data: what gets registered and
served."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from medora.evaluate.calibration import PlattCalibrator
from medora.models.base import Model


@dataclass(frozen=True)
class RiskPrediction:
    """Calibrated risk per patient with a 95% interval (calibration uncertainty)."""

    risk: np.ndarray
    lower: np.ndarray
    upper: np.ndarray


class CalibratedModel:
    """Calibrated probabilities from any medora model, with per-patient intervals.

    The interval comes from refitting the calibration on bootstrap resamples of the validation
    set: it says how much the stated risk depends on which validation patients were seen.
    """

    def __init__(self, model: Model, calibrator: PlattCalibrator) -> None:
        self.model = model
        self.calibrator = calibrator

    @property
    def feature_names(self) -> list[str]:
        return self.model.feature_names_

    def predict_proba(self, x: pd.DataFrame) -> np.ndarray:
        positive = self.calibrator.transform(self.model.predict_proba(x)[:, 1])
        return np.column_stack([1.0 - positive, positive])

    def predict_risk(self, x: pd.DataFrame, alpha: float = 0.05) -> RiskPrediction:
        uncalibrated = self.model.predict_proba(x)[:, 1]
        lower, upper = self.calibrator.transform_interval(uncalibrated, alpha=alpha)
        return RiskPrediction(self.calibrator.transform(uncalibrated), lower, upper)

    def explain(self, x: pd.DataFrame) -> pd.DataFrame:
        return self.model.explain(x)
