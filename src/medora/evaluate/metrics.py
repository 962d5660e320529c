"""Binary classification metrics with a weighted, resample-vectorised core.

Every metric is implemented once as a *weighted kernel* ``(y, p, weights) -> values`` where
``weights`` has shape ``(n_rows, n)`` and row ``r`` holds how many times each patient counts.
A bootstrap resample is exactly such a row of multiplicities, so one kernel call evaluates a
metric on all resamples at once (and a 0/1 row restricts it to a subgroup). The public scalar
functions are the same kernels evaluated on a single row of ones, which keeps point estimates
and bootstrap replicates on one code path.

Metrics that are undefined on a sample (for example AUROC when only one class is present)
return ``nan`` rather than raising, so a degenerate resample never aborts a bootstrap.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np
from numpy.typing import ArrayLike

from medora.evaluate._validation import (
    check_labels_and_probabilities,
    check_positive_int,
    check_threshold,
)

__all__ = [
    "BINARY_METRICS",
    "MetricSpec",
    "auprc",
    "auroc",
    "brier",
    "expected_calibration_error",
    "false_positive_rate",
    "selection_rate",
    "sensitivity",
    "specificity",
]


def _safe_divide(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """Elementwise ratio that is ``nan`` (without a warning) where the denominator is 0."""
    numerator, denominator = np.broadcast_arrays(numerator, denominator)
    out = np.full(numerator.shape, np.nan)
    return np.divide(numerator, denominator, out=out, where=denominator != 0)


def _class_weights_per_tie_group(
    y: np.ndarray, p: np.ndarray, weights: np.ndarray, descending: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Sum positive and negative weights within each group of tied scores.

    Returns two ``(n_rows, n_groups)`` arrays ordered by score. Sorting the original data once
    and carrying resamples as weights costs O(n log n + n_rows * n), instead of one sort per
    resample.
    """
    order = np.argsort(-p if descending else p, kind="stable")
    sorted_scores = p[order]
    group_starts = np.flatnonzero(np.r_[True, sorted_scores[1:] != sorted_scores[:-1]])
    positive = weights[:, order] * y[order]
    negative = weights[:, order] - positive
    return (
        np.add.reduceat(positive, group_starts, axis=1),
        np.add.reduceat(negative, group_starts, axis=1),
    )


def _weighted_auroc(y: np.ndarray, p: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Mann-Whitney AUROC per weight row: P(score_pos > score_neg) + 0.5 P(tie).

    Counts are integers and ties contribute halves, so the statistic is exact in float64
    and matches sklearn's trapezoidal ROC area up to rounding of the final division.
    """
    pos, neg = _class_weights_per_tie_group(y, p, weights, descending=False)
    negatives_below = np.cumsum(neg, axis=1) - neg
    concordant = np.sum(pos * (negatives_below + 0.5 * neg), axis=1)
    return _safe_divide(concordant, pos.sum(axis=1) * neg.sum(axis=1))


def _weighted_auprc(y: np.ndarray, p: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Average precision per weight row: sum over thresholds of recall gain x precision.

    This is sklearn's non-interpolated step integral; it is undefined without positives.
    """
    pos, neg = _class_weights_per_tie_group(y, p, weights, descending=True)
    true_pos = np.cumsum(pos, axis=1)
    predicted_pos = true_pos + np.cumsum(neg, axis=1)
    # Tie groups absent from a resample have no recall gain; give them precision 0, not nan.
    precision = np.divide(
        true_pos, predicted_pos, out=np.zeros_like(true_pos), where=predicted_pos > 0
    )
    return _safe_divide(np.sum(pos * precision, axis=1), pos.sum(axis=1))


def _weighted_brier(y: np.ndarray, p: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted mean squared error of the probabilities per weight row."""
    return _safe_divide(weights @ (p - y) ** 2, weights.sum(axis=1))


def _equal_width_bins(p: np.ndarray, n_bins: int) -> np.ndarray:
    """Bin index of each probability on ``n_bins`` equal-width bins over [0, 1].

    Uses the same edge convention as ``sklearn.calibration.calibration_curve`` (bins are
    closed on the left; 1.0 falls in the last bin), so reliability curves agree with it.
    """
    inner_edges = np.linspace(0.0, 1.0, n_bins + 1)[1:-1]
    return np.searchsorted(inner_edges, p, side="right")


def _binned_sums(
    y: np.ndarray, p: np.ndarray, weights: np.ndarray, n_bins: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-bin (count, sum of p, sum of y) for each weight row, each ``(n_rows, n_bins)``.

    A single matrix product against a one-hot bin design does all rows at once.
    """
    one_hot = np.zeros((p.size, n_bins))
    one_hot[np.arange(p.size), _equal_width_bins(p, n_bins)] = 1.0
    design = np.hstack([one_hot, one_hot * p[:, None], one_hot * y[:, None]])
    count, sum_p, sum_y = np.split(weights @ design, 3, axis=1)
    return count, sum_p, sum_y


def _weighted_ece(
    y: np.ndarray, p: np.ndarray, weights: np.ndarray, n_bins: int = 10
) -> np.ndarray:
    """Expected calibration error per weight row.

    sum_b (n_b / n) |mean p_b - frac pos_b| simplifies to sum_b |sum p_b - sum y_b| / n.
    """
    count, sum_p, sum_y = _binned_sums(y, p, weights, n_bins)
    return _safe_divide(np.abs(sum_p - sum_y).sum(axis=1), count.sum(axis=1))


def _weighted_sensitivity(
    y: np.ndarray, p: np.ndarray, weights: np.ndarray, threshold: float
) -> np.ndarray:
    """True positive rate per weight row; undefined (nan) without positives."""
    predicted = (p >= threshold).astype(np.float64)
    return _safe_divide(weights @ (y * predicted), weights @ y)


def _weighted_specificity(
    y: np.ndarray, p: np.ndarray, weights: np.ndarray, threshold: float
) -> np.ndarray:
    """True negative rate per weight row; undefined (nan) without negatives."""
    negative = 1.0 - y
    predicted_negative = (p < threshold).astype(np.float64)
    return _safe_divide(weights @ (negative * predicted_negative), weights @ negative)


def _weighted_false_positive_rate(
    y: np.ndarray, p: np.ndarray, weights: np.ndarray, threshold: float
) -> np.ndarray:
    """False positive rate (1 - specificity) per weight row; undefined without negatives."""
    return 1.0 - _weighted_specificity(y, p, weights, threshold)


def _weighted_selection_rate(
    y: np.ndarray, p: np.ndarray, weights: np.ndarray, threshold: float
) -> np.ndarray:
    """Fraction predicted positive per weight row; ``y`` is unused but kept for a uniform API."""
    return _safe_divide(weights @ (p >= threshold).astype(np.float64), weights.sum(axis=1))


def _unit_weights(n: int) -> np.ndarray:
    """A single weight row giving every patient weight one (the full, unresampled data)."""
    return np.ones((1, n))


def _evaluate_once(
    kernel: Callable[..., np.ndarray], y: ArrayLike, p: ArrayLike, *args: float
) -> float:
    """Validate ``(y, p)`` and evaluate a weighted kernel on the full, unresampled data."""
    labels, probs = check_labels_and_probabilities(y, p)
    return float(kernel(labels, probs, _unit_weights(labels.size), *args)[0])


def auroc(y: ArrayLike, p: ArrayLike) -> float:
    """Area under the ROC curve; ``nan`` if ``y`` contains a single class."""
    return _evaluate_once(_weighted_auroc, y, p)


def auprc(y: ArrayLike, p: ArrayLike) -> float:
    """Area under the precision-recall curve as average precision; ``nan`` without positives.

    Average precision (not trapezoidal area) is used because linear interpolation in PR space
    is optimistic; it equals ``sklearn.metrics.average_precision_score``.
    """
    return _evaluate_once(_weighted_auprc, y, p)


def brier(y: ArrayLike, p: ArrayLike) -> float:
    """Brier score: mean squared difference between probability and outcome (lower is better)."""
    return _evaluate_once(_weighted_brier, y, p)


def expected_calibration_error(y: ArrayLike, p: ArrayLike, n_bins: int = 10) -> float:
    """Expected calibration error on ``n_bins`` equal-width probability bins.

    The count-weighted mean over non-empty bins of |mean predicted probability - fraction of
    positives|. Zero for a perfectly calibrated model (up to binning and sampling noise).
    """
    return _evaluate_once(_weighted_ece, y, p, check_positive_int(n_bins, "n_bins"))


def sensitivity(y: ArrayLike, p: ArrayLike, threshold: float) -> float:
    """Fraction of positives predicted positive (``p >= threshold``); ``nan`` without positives."""
    return _evaluate_once(_weighted_sensitivity, y, p, check_threshold(threshold))


def specificity(y: ArrayLike, p: ArrayLike, threshold: float) -> float:
    """Fraction of negatives predicted negative (``p < threshold``); ``nan`` without negatives."""
    return _evaluate_once(_weighted_specificity, y, p, check_threshold(threshold))


def false_positive_rate(y: ArrayLike, p: ArrayLike, threshold: float) -> float:
    """Fraction of negatives predicted positive (``p >= threshold``); ``nan`` without negatives."""
    return _evaluate_once(_weighted_false_positive_rate, y, p, check_threshold(threshold))


def selection_rate(y: ArrayLike, p: ArrayLike, threshold: float) -> float:
    """Fraction of all patients predicted positive (``p >= threshold``)."""
    return _evaluate_once(_weighted_selection_rate, y, p, check_threshold(threshold))


@dataclass(frozen=True)
class MetricSpec:
    """Description of a binary metric for reports and bootstrap evaluation.

    Attributes:
        name: Registry key, e.g. ``"auroc"``.
        label: Human-readable label for tables and plots, e.g. ``"AUROC"``.
        fn: Public scalar function ``fn(y, p)``, or ``fn(y, p, threshold)`` when
            ``needs_threshold`` is true.
        higher_is_better: Direction of improvement, used when comparing models; ``None`` for
            rates with no preferred direction (e.g. selection rate).
        needs_threshold: Whether the metric depends on a decision threshold.
        weighted_fn: Vectorised kernel ``(y, p, weights[, threshold]) -> (n_rows,)`` over a
            weight matrix of resample multiplicities; inputs must already be validated.
    """

    name: str
    label: str
    fn: Callable[..., float]
    higher_is_better: bool | None
    needs_threshold: bool
    weighted_fn: Callable[..., np.ndarray]

    def bind(self, threshold: float) -> Callable[[ArrayLike, ArrayLike], float]:
        """The scalar metric as a function of ``(y, p)`` only, binding the threshold if used."""
        return partial(self.fn, threshold=threshold) if self.needs_threshold else self.fn

    def on_weights(
        self, y: np.ndarray, p: np.ndarray, weights: np.ndarray, threshold: float
    ) -> np.ndarray:
        """Evaluate the metric on every row of ``weights`` (validated inputs only).

        ``threshold`` is ignored by threshold-free metrics, so callers need not branch.
        """
        if self.needs_threshold:
            return self.weighted_fn(y, p, weights, threshold)
        return self.weighted_fn(y, p, weights)


BINARY_METRICS: dict[str, MetricSpec] = {
    spec.name: spec
    for spec in (
        MetricSpec(
            "auroc",
            "AUROC",
            auroc,
            higher_is_better=True,
            needs_threshold=False,
            weighted_fn=_weighted_auroc,
        ),
        MetricSpec(
            "auprc",
            "AUPRC (average precision)",
            auprc,
            higher_is_better=True,
            needs_threshold=False,
            weighted_fn=_weighted_auprc,
        ),
        MetricSpec(
            "brier",
            "Brier score",
            brier,
            higher_is_better=False,
            needs_threshold=False,
            weighted_fn=_weighted_brier,
        ),
        MetricSpec(
            "ece",
            "Expected calibration error",
            expected_calibration_error,
            higher_is_better=False,
            needs_threshold=False,
            weighted_fn=_weighted_ece,
        ),
        MetricSpec(
            "sensitivity",
            "Sensitivity @ threshold",
            sensitivity,
            higher_is_better=True,
            needs_threshold=True,
            weighted_fn=_weighted_sensitivity,
        ),
        MetricSpec(
            "specificity",
            "Specificity @ threshold",
            specificity,
            higher_is_better=True,
            needs_threshold=True,
            weighted_fn=_weighted_specificity,
        ),
    )
}
