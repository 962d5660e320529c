"""Input validation shared by the evaluation modules.

Every public function validates at the boundary with these helpers so the numeric kernels
behind them can assume clean ``float64`` arrays and stay branch-free.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


def check_labels(y: ArrayLike) -> np.ndarray:
    """Return binary labels as a 1-D ``float64`` array of 0.0/1.0.

    Float storage lets the labels enter matrix products with resampling weights directly.
    """
    labels = np.asarray(y)
    if labels.ndim != 1 or labels.size == 0:
        raise ValueError(f"y must be a non-empty 1-D array, got shape {labels.shape}.")
    if labels.dtype.kind not in "biuf":
        raise ValueError(f"y must be numeric 0/1 labels, got dtype {labels.dtype}.")
    invalid = np.setdiff1d(np.unique(labels), [0, 1])
    if invalid.size:
        raise ValueError(f"y must contain only 0/1 labels, found {invalid[:5].tolist()}.")
    return labels.astype(np.float64)


def check_probabilities(p: ArrayLike, n: int | None = None, name: str = "p") -> np.ndarray:
    """Return predicted probabilities as a 1-D ``float64`` array with values in [0, 1].

    When ``n`` is given, the array must have exactly ``n`` entries (one per label).
    """
    probs = np.asarray(p, dtype=np.float64)
    if probs.ndim != 1 or probs.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array, got shape {probs.shape}.")
    if n is not None and probs.size != n:
        raise ValueError(f"{name} must have one entry per label: expected {n}, got {probs.size}.")
    if not np.all(np.isfinite(probs)) or probs.min() < 0.0 or probs.max() > 1.0:
        raise ValueError(f"{name} must contain finite probabilities in [0, 1].")
    return probs


def check_labels_and_probabilities(y: ArrayLike, p: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Validate a (labels, probabilities) pair of equal length."""
    labels = check_labels(y)
    return labels, check_probabilities(p, labels.size)


def check_threshold(threshold: float) -> float:
    """Return a decision threshold, which must be a finite number in [0, 1]."""
    value = float(threshold)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"threshold must be a number in [0, 1], got {threshold!r}.")
    return value


def check_positive_int(value: int, name: str) -> int:
    """Return ``value`` if it is a positive integer, else raise a ValueError naming it."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}.")
    return int(value)
