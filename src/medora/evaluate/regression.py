"""Regression metrics with paired bootstrap confidence intervals.

As for the binary metrics, one index matrix is drawn per test set and reused for every metric
and every model, so model differences are computed on the same resampled molecules.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import ArrayLike

from medora.evaluate.bootstrap import Estimate

RegressionMetric = Callable[[np.ndarray, np.ndarray], np.ndarray]


def _rmse(y: np.ndarray, prediction: np.ndarray) -> np.ndarray:
    return np.sqrt(np.mean((y - prediction) ** 2, axis=-1))


def _mae(y: np.ndarray, prediction: np.ndarray) -> np.ndarray:
    return np.mean(np.abs(y - prediction), axis=-1)


def _r2(y: np.ndarray, prediction: np.ndarray) -> np.ndarray:
    residual = np.sum((y - prediction) ** 2, axis=-1)
    total = np.sum((y - y.mean(axis=-1, keepdims=True)) ** 2, axis=-1)
    return 1.0 - residual / total


#: name -> (function over the last axis, True if larger is better)
REGRESSION_METRICS: dict[str, tuple[RegressionMetric, bool]] = {
    "rmse": (_rmse, False), "mae": (_mae, False), "r2": (_r2, True),
}
METRIC_LABELS = {"rmse": "RMSE", "mae": "MAE", "r2": "R²"}


def regression_bootstrap_indices(n: int, n_resamples: int, seed: int) -> np.ndarray:
    """(n_resamples, n) row indices drawn with replacement."""
    if n < 2 or n_resamples < 1:
        raise ValueError(f"need at least 2 samples and 1 resample, got {n} and {n_resamples}")
    return np.random.default_rng(seed).integers(0, n, size=(n_resamples, n))


def _check(y: ArrayLike, prediction: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    y, prediction = np.asarray(y, dtype=np.float64), np.asarray(prediction, dtype=np.float64)
    if y.shape != prediction.shape or y.ndim != 1:
        raise ValueError(f"y and prediction must be 1-D and the same length, got {y.shape} and "
                         f"{prediction.shape}")
    if not (np.isfinite(y).all() and np.isfinite(prediction).all()):
        raise ValueError("y and prediction must be finite")
    return y, prediction


def _resolve(names: Sequence[str]) -> list[str]:
    unknown = [name for name in names if name not in REGRESSION_METRICS]
    if unknown:
        raise ValueError(f"unknown regression metric(s) {unknown}; expected any of "
                         f"{list(REGRESSION_METRICS)}")
    return list(names)


def evaluate_regression(y: ArrayLike, prediction: ArrayLike, indices: np.ndarray,
                        metrics: Sequence[str] = ("rmse", "mae", "r2")) -> dict[str, Estimate]:
    y, prediction = _check(y, prediction)
    results = {}
    for name in _resolve(metrics):
        function, _ = REGRESSION_METRICS[name]
        results[name] = Estimate.from_replicates(float(function(y, prediction)),
                                                 function(y[indices], prediction[indices]))
    return results


def paired_regression_difference(metric: str, y: ArrayLike, prediction_a: ArrayLike,
                                 prediction_b: ArrayLike, indices: np.ndarray) -> Estimate:
    """``metric(a) - metric(b)`` on the same resamples (for RMSE, negative favours ``a``)."""
    (name,) = _resolve([metric])
    function, _ = REGRESSION_METRICS[name]
    y, a = _check(y, prediction_a)
    _, b = _check(y, prediction_b)
    return Estimate.from_replicates(
        float(function(y, a) - function(y, b)),
        function(y[indices], a[indices]) - function(y[indices], b[indices]))


def higher_is_better(metric: str) -> bool:
    return REGRESSION_METRICS[_resolve([metric])[0]][1]
