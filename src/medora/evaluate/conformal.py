"""Split-conformal prediction intervals for regression, normalised by the model's own spread.

With calibration residuals scored as ``|y - prediction| / (spread + beta)``, the interval
``prediction +/- q * (spread + beta)`` covers a new exchangeable sample's true value with
probability at least the nominal coverage, whatever the model (Vovk et al. 2005; Lei et al.,
JASA 2018). Normalising by the spread (Papadopoulos et al. 2008) makes intervals wider where the
ensemble disagrees, without touching the guarantee; ``beta``, the median calibration spread,
keeps a near-zero spread from producing a near-zero interval.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike


@dataclass
class SplitConformal:
    coverage: float = 0.9
    quantile_: float = field(default=math.nan, init=False)
    beta_: float = field(default=math.nan, init=False)
    n_calibration_: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        if not 0.0 < self.coverage < 1.0:
            raise ValueError(f"coverage must be in (0, 1), got {self.coverage}")

    def fit(self, y: ArrayLike, prediction: ArrayLike, spread: ArrayLike) -> SplitConformal:
        y, prediction, spread = (np.asarray(a, dtype=np.float64) for a in (y, prediction, spread))
        if not y.shape == prediction.shape == spread.shape or y.ndim != 1:
            raise ValueError("y, prediction and spread must be 1-D arrays of the same length, "
                             f"got {y.shape}, {prediction.shape}, {spread.shape}")
        n = len(y)
        rank = math.ceil((n + 1) * self.coverage)
        if rank > n:
            needed = math.ceil(self.coverage / (1 - self.coverage) - 1e-9)
            raise ValueError(f"{n} calibration samples cannot certify {self.coverage:.0%} "
                             f"coverage; at least {needed} are needed (or ask for a lower "
                             "coverage)")
        self.beta_ = float(np.median(spread)) or 1.0  # no spread at all: constant width
        scores = np.abs(y - prediction) / (spread + self.beta_)
        self.quantile_ = float(np.sort(scores)[rank - 1])
        self.n_calibration_ = n
        return self

    def interval(self, prediction: ArrayLike,
                 spread: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        if math.isnan(self.quantile_):
            raise RuntimeError("fit the conformal calibration before asking for intervals")
        prediction = np.asarray(prediction, dtype=np.float64)
        half_width = self.quantile_ * (np.asarray(spread, dtype=np.float64) + self.beta_)
        return prediction - half_width, prediction + half_width


def empirical_coverage(y: ArrayLike, lower: ArrayLike, upper: ArrayLike) -> float:
    """Share of true values inside their intervals: the check of a stated coverage."""
    y = np.asarray(y, dtype=np.float64)
    return float(np.mean((y >= np.asarray(lower)) & (y <= np.asarray(upper))))
