"""Decision curve analysis (Vickers & Elkin, Med Decis Making 2006).

Net benefit weighs true positives against false positives at the exchange rate implied by
a threshold probability ``t``: a clinician who treats at risk ``t`` values one true positive
as much as ``(1 - t) / t`` false positives. A model is clinically useful at ``t`` when its
net benefit exceeds both default strategies, treating everyone and treating no one.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from medora.evaluate._validation import check_labels, check_probabilities

__all__ = ["decision_curve", "net_benefit", "net_benefit_treat_all"]

TREAT_ALL = "treat all"
TREAT_NONE = "treat none"


def _check_thresholds(thresholds: ArrayLike) -> np.ndarray:
    """Threshold probabilities must lie strictly inside (0, 1): the odds t/(1-t) are finite."""
    values = np.atleast_1d(np.asarray(thresholds, dtype=np.float64))
    if values.ndim != 1 or values.size == 0:
        raise ValueError(f"thresholds must be a non-empty 1-D array, got shape {values.shape}.")
    if not np.all((values > 0.0) & (values < 1.0)):
        raise ValueError("thresholds must be probabilities strictly between 0 and 1.")
    return values


def _net_benefit(y: np.ndarray, p: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Net benefit per threshold for validated inputs (predicted positive: p >= t)."""
    treated = (p[None, :] >= thresholds[:, None]).astype(np.float64)  # (n_thresholds, n)
    true_pos = treated @ y
    false_pos = treated @ (1.0 - y)
    return (true_pos - false_pos * thresholds / (1.0 - thresholds)) / y.size


def net_benefit(y: ArrayLike, p: ArrayLike, thresholds: ArrayLike) -> np.ndarray:
    """Net benefit ``TP/n - FP/n * t/(1-t)`` of treating patients with ``p >= t``, per ``t``."""
    labels = check_labels(y)
    probs = check_probabilities(p, labels.size)
    return _net_benefit(labels, probs, _check_thresholds(thresholds))


def net_benefit_treat_all(y: ArrayLike, thresholds: ArrayLike) -> np.ndarray:
    """Net benefit of treating everyone: ``prevalence - (1 - prevalence) * t/(1-t)``."""
    labels = check_labels(y)
    return _net_benefit(labels, np.ones_like(labels), _check_thresholds(thresholds))


def decision_curve(
    y: ArrayLike,
    predictions: dict[str, ArrayLike],
    thresholds: ArrayLike | None = None,
) -> pd.DataFrame:
    """Net benefit of each model and of the default strategies, in long format.

    Args:
        y: Binary outcomes (0/1).
        predictions: Model name -> predicted probabilities, one per outcome.
        thresholds: Threshold probabilities; defaults to 0.01, 0.02, ..., 0.50.

    Returns:
        DataFrame with columns ``threshold``, ``strategy``, ``net_benefit``; strategies are
        the model names in the given order, then ``"treat all"`` and ``"treat none"``.
    """
    if not predictions:
        raise ValueError("predictions must map at least one model name to probabilities.")
    if TREAT_ALL in predictions or TREAT_NONE in predictions:
        raise ValueError(f"Model names {TREAT_ALL!r} and {TREAT_NONE!r} are reserved.")
    labels = check_labels(y)
    grid = _check_thresholds(np.linspace(0.01, 0.5, 50) if thresholds is None else thresholds)
    curves = {
        name: _net_benefit(labels, check_probabilities(p, labels.size, name=name), grid)
        for name, p in predictions.items()
    }
    curves[TREAT_ALL] = _net_benefit(labels, np.ones_like(labels), grid)
    curves[TREAT_NONE] = np.zeros_like(grid)
    return pd.DataFrame(
        {
            "threshold": np.tile(grid, len(curves)),
            "strategy": np.repeat(list(curves), grid.size),
            "net_benefit": np.concatenate(list(curves.values())),
        }
    )
