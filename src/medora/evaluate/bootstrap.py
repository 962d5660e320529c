"""Bootstrap confidence intervals for binary metrics, paired across metrics and models.

One resample matrix is drawn per test set and reused for every metric and every model, so
differences between models are computed on the same resampled patients (a paired bootstrap),
which is what makes their intervals meaningful. It is either an index matrix from
:func:`bootstrap_indices` (one row per sample) or, when a patient contributes several
samples, a multiplicity matrix from :func:`cluster_bootstrap_weights`, which resamples
patients with all their samples: samples of one patient are correlated, and resampling them
one by one would give intervals that are too narrow. Internally an index matrix is turned
into per-sample multiplicities (see :func:`resample_weights`) so that each metric evaluates
all resamples in one vectorised call.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from medora.evaluate._validation import (
    check_labels,
    check_labels_and_probabilities,
    check_positive_int,
    check_probabilities,
    check_threshold,
)
from medora.evaluate.metrics import BINARY_METRICS, MetricSpec

__all__ = [
    "Estimate",
    "bootstrap_indices",
    "cluster_bootstrap_weights",
    "evaluate_binary",
    "paired_difference",
    "percentile_interval",
    "resample_weights",
]

#: Two-sided miscoverage of the reported percentile intervals (95% intervals).
ALPHA = 0.05


def _json_float(value: float) -> float | None:
    """Round for reporting; JSON has no nan, so undefined values become ``None``."""
    return None if math.isnan(value) else round(float(value), 4)


def percentile_interval(
    samples: ArrayLike, alpha: float = ALPHA, axis: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Nan-aware two-sided percentile interval of ``samples`` along ``axis``.

    Undefined replicates (nan) are ignored; a slice with no defined replicate yields nan.
    """
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}.")
    with warnings.catch_warnings():
        # An all-nan slice (e.g. AUROC of a tiny subgroup) legitimately has no interval.
        warnings.simplefilter("ignore", RuntimeWarning)
        low, high = np.nanpercentile(
            np.asarray(samples, dtype=np.float64), [50 * alpha, 100 - 50 * alpha], axis=axis
        )
    return low, high


@dataclass(frozen=True)
class Estimate:
    """A point estimate with a 95% bootstrap percentile confidence interval."""

    value: float
    ci_low: float
    ci_high: float

    @classmethod
    def from_replicates(cls, value: float, replicates: np.ndarray) -> Estimate:
        """Build an estimate from the full-data value and its 1-D bootstrap replicates."""
        low, high = percentile_interval(replicates)
        return cls(float(value), float(low), float(high))

    def to_dict(self) -> dict[str, float | list[float | None] | None]:
        """JSON-ready ``{"value": v, "ci": [lo, hi]}`` rounded to 4 decimals, nan as None."""
        return {
            "value": _json_float(self.value),
            "ci": [_json_float(self.ci_low), _json_float(self.ci_high)],
        }


def bootstrap_indices(
    y: ArrayLike, n_resamples: int, seed: int, stratified: bool = True
) -> np.ndarray:
    """Draw bootstrap resamples of row indices, shape ``(n_resamples, n)``.

    With ``stratified=True`` each class is resampled separately at its observed size, so
    every resample keeps the original prevalence and contains both classes; class-dependent
    metrics (AUROC, sensitivity) are then defined on every resample.
    """
    labels = check_labels(y)
    n_resamples = check_positive_int(n_resamples, "n_resamples")
    rng = np.random.default_rng(seed)
    if not stratified:
        return rng.integers(0, labels.size, size=(n_resamples, labels.size))
    indices = np.empty((n_resamples, labels.size), dtype=np.intp)
    for label in (0.0, 1.0):
        members = np.flatnonzero(labels == label)
        if members.size:
            # Fill each class's own columns so column j is always a draw from j's class.
            indices[:, members] = rng.choice(members, size=(n_resamples, members.size))
    return indices


def cluster_bootstrap_weights(
    y: ArrayLike, clusters: ArrayLike, n_resamples: int, seed: int, stratified: bool = True
) -> np.ndarray:
    """Resample whole clusters (patients) with replacement; ``w[r, i]`` = times sample i's
    cluster is drawn in resample r, shape ``(n_resamples, n)``.

    With ``stratified=True`` clusters with at least one positive sample and clusters without
    are resampled separately at their observed numbers, so every resample contains both
    classes (as :func:`bootstrap_indices` does for samples). The number of samples varies
    between resamples, as it does between cohorts of the same number of patients.
    """
    labels = check_labels(y)
    n_resamples = check_positive_int(n_resamples, "n_resamples")
    ids = np.asarray(clusters)
    if ids.shape != labels.shape:
        raise ValueError(f"clusters must give one cluster per sample: {ids.shape} for "
                         f"{labels.size} samples.")
    unique, cluster_of = np.unique(ids, return_inverse=True)
    has_positive = np.zeros(unique.size, dtype=bool)
    np.logical_or.at(has_positive, cluster_of, labels == 1.0)
    strata = (has_positive, ~has_positive) if stratified else (np.ones(unique.size, bool),)
    rng = np.random.default_rng(seed)
    cluster_counts = np.zeros((n_resamples, unique.size))
    for stratum in strata:
        members = np.flatnonzero(stratum)
        if members.size:
            draws = rng.choice(members, size=(n_resamples, members.size))
            flat = (draws + unique.size * np.arange(n_resamples)[:, None]).ravel()
            cluster_counts += np.bincount(flat, minlength=n_resamples * unique.size).reshape(
                n_resamples, unique.size)
    return cluster_counts[:, cluster_of]


def resample_weights(indices: ArrayLike, n: int) -> np.ndarray:
    """Convert an index matrix to multiplicities: ``w[r, i]`` = times sample i is in row r.

    A multiplicity matrix (floating point, from :func:`cluster_bootstrap_weights`) is
    returned as it is. Evaluating a weighted metric on these weights is identical to
    evaluating it on the resampled arrays, but lets the data be sorted and binned once for
    all resamples.
    """
    idx = np.asarray(indices)
    if idx.ndim == 2 and idx.dtype.kind == "f":
        if idx.shape[1] != n or idx.min(initial=0.0) < 0:
            raise ValueError(f"a multiplicity matrix must have {n} non-negative columns, got "
                             f"shape {idx.shape}.")
        return idx
    if idx.ndim != 2 or idx.shape[1] == 0 or idx.dtype.kind not in "iu":
        raise ValueError(
            f"indices must be a 2-D integer array (n_resamples, n), got {idx.dtype} {idx.shape}."
        )
    if idx.min() < 0 or idx.max() >= n:
        raise ValueError(f"indices must lie in [0, {n}) to index the {n} patients.")
    n_rows = idx.shape[0]
    flat = (idx + n * np.arange(n_rows)[:, None]).ravel()
    return np.bincount(flat, minlength=n_rows * n).reshape(n_rows, n).astype(np.float64)


def _resolve_metrics(names: Sequence[str] | None) -> list[MetricSpec]:
    """Look up metric specs by name, defaulting to all binary metrics."""
    if names is None:
        return list(BINARY_METRICS.values())
    unknown = [name for name in names if name not in BINARY_METRICS]
    if unknown:
        raise ValueError(f"Unknown metric(s) {unknown}; expected any of {list(BINARY_METRICS)}.")
    return [BINARY_METRICS[name] for name in names]


def _point_and_replicates(
    spec: MetricSpec, y: np.ndarray, p: np.ndarray, weights: np.ndarray, threshold: float
) -> tuple[float, np.ndarray]:
    """Metric on the full data and on every resample, sharing one kernel call."""
    all_weights = np.vstack([np.ones((1, y.size)), weights])
    values = spec.on_weights(y, p, all_weights, threshold)
    return float(values[0]), values[1:]


def evaluate_binary(
    y: ArrayLike,
    p: ArrayLike,
    threshold: float,
    indices: ArrayLike,
    metrics: Sequence[str] | None = None,
) -> dict[str, Estimate]:
    """Point estimates on the full data with 95% percentile bootstrap intervals.

    Args:
        y: Binary outcomes (0/1).
        p: Predicted probabilities of class 1.
        threshold: Decision threshold for threshold metrics (predicted positive: p >= t).
        indices: Resample matrix from :func:`bootstrap_indices` or
            :func:`cluster_bootstrap_weights`.
        metrics: Names from :data:`BINARY_METRICS`; all of them when ``None``.

    Returns:
        Mapping from metric name to :class:`Estimate`, in the requested order.
    """
    labels, probs = check_labels_and_probabilities(y, p)
    cutoff = check_threshold(threshold)
    weights = resample_weights(indices, labels.size)
    results = {}
    for spec in _resolve_metrics(metrics):
        value, replicates = _point_and_replicates(spec, labels, probs, weights, cutoff)
        results[spec.name] = Estimate.from_replicates(value, replicates)
    return results


def paired_difference(
    metric_name: str,
    y: ArrayLike,
    p_a: ArrayLike,
    p_b: ArrayLike,
    threshold: float,
    indices: ArrayLike,
) -> Estimate:
    """Difference ``metric(p_a) - metric(p_b)`` with a paired bootstrap 95% interval.

    Both models are scored on the same resampled patients, so the interval reflects the
    uncertainty of the difference itself rather than of each model separately.
    """
    (spec,) = _resolve_metrics([metric_name])
    labels = check_labels(y)
    probs_a = check_probabilities(p_a, labels.size, name="p_a")
    probs_b = check_probabilities(p_b, labels.size, name="p_b")
    cutoff = check_threshold(threshold)
    weights = resample_weights(indices, labels.size)
    value_a, replicates_a = _point_and_replicates(spec, labels, probs_a, weights, cutoff)
    value_b, replicates_b = _point_and_replicates(spec, labels, probs_b, weights, cutoff)
    return Estimate.from_replicates(value_a - value_b, replicates_a - replicates_b)


def format_estimate(estimate: Estimate, digits: int = 3) -> str:
    """``0.722 (0.681 to 0.760)``, or ``n/a`` when undefined.

    "to" rather than a dash keeps intervals of differences readable: ``-0.008 (-0.022 to
    0.006)``.
    """
    if estimate.value != estimate.value:  # nan: undefined on this data
        return "n/a"
    return (f"{estimate.value:.{digits}f} ({estimate.ci_low:.{digits}f} to "
            f"{estimate.ci_high:.{digits}f})")
