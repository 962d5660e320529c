"""Probability calibration: Platt recalibration, reliability curves, TRIPOD summaries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike
from scipy.optimize import brentq
from scipy.special import expit, logit
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression

from medora.evaluate._validation import (
    check_labels_and_probabilities,
    check_positive_int,
    check_probabilities,
)
from medora.evaluate.bootstrap import bootstrap_indices, percentile_interval
from medora.evaluate.metrics import _binned_sums, _unit_weights

__all__ = [
    "PlattCalibrator",
    "ReliabilityCurve",
    "calibration_slope_intercept",
    "reliability_curve",
]

#: Probabilities are clipped away from 0 and 1 so their logit stays finite.
_EPS = 1e-6
#: Inverse regularisation strength: large enough to be negligible for a 2-parameter model,
#: small enough that (perfectly separable) bootstrap resamples still have a finite optimum.
_INVERSE_PENALTY = 1e6


def _clipped_logit(p: np.ndarray) -> np.ndarray:
    """Log-odds of probabilities clipped to [eps, 1 - eps]."""
    return logit(np.clip(p, _EPS, 1.0 - _EPS))


def _require_both_classes(y: np.ndarray, name: str) -> None:
    """Logistic recalibration is not identifiable from a single outcome class."""
    if np.unique(y).size < 2:
        raise ValueError(f"{name} must contain both classes 0 and 1 to fit a calibration model.")


def _fit_logistic(log_odds: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(slope, intercept) of the logistic regression of ``y`` on ``log_odds``."""
    model = LogisticRegression(C=_INVERSE_PENALTY, solver="newton-cholesky")
    model.fit(log_odds[:, None], y)
    return float(model.coef_[0, 0]), float(model.intercept_[0])


class PlattCalibrator:
    """Logistic recalibration of predicted probabilities with bootstrap uncertainty.

    Fits ``P(y=1) = sigmoid(slope * logit(p) + intercept)`` on a held-out validation set, and
    refits it on bootstrap resamples of that set. The spread of the resampled calibrators
    quantifies how much the recalibration itself is uncertain because the validation set is
    finite, which :meth:`transform_interval` reports per sample.

    Attributes:
        slope_: Fitted coefficient on ``logit(p)``.
        intercept_: Fitted intercept.
        bootstrap_params_: ``(n_resamples, 2)`` array of (slope, intercept) per resample.
    """

    slope_: float
    intercept_: float
    bootstrap_params_: np.ndarray

    def fit(
        self, p_val: ArrayLike, y_val: ArrayLike, n_resamples: int = 200, seed: int = 0
    ) -> PlattCalibrator:
        """Fit on validation probabilities and outcomes, plus ``n_resamples`` bootstrap refits.

        Resampling is stratified by outcome so every refit sees both classes.
        """
        labels, probs = check_labels_and_probabilities(y_val, p_val)
        _require_both_classes(labels, "y_val")
        indices = bootstrap_indices(labels, n_resamples, seed, stratified=True)
        log_odds = _clipped_logit(probs)
        self.slope_, self.intercept_ = _fit_logistic(log_odds, labels)
        self.bootstrap_params_ = np.array(
            [_fit_logistic(log_odds[rows], labels[rows]) for rows in indices]
        )
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "slope_"):
            raise NotFittedError("PlattCalibrator is not fitted; call fit(p_val, y_val) first.")

    def transform(self, p: ArrayLike) -> np.ndarray:
        """Calibrated probabilities for predicted probabilities ``p``."""
        self._check_fitted()
        log_odds = _clipped_logit(check_probabilities(p))
        return expit(self.slope_ * log_odds + self.intercept_)

    def transform_interval(
        self, p: ArrayLike, alpha: float = 0.05
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per-sample ``1 - alpha`` percentile interval of the bootstrap-calibrated probability.

        Returns ``(low, high)`` arrays with the shape of ``p``.
        """
        self._check_fitted()
        log_odds = _clipped_logit(check_probabilities(p))
        slopes, intercepts = self.bootstrap_params_[:, :1], self.bootstrap_params_[:, 1:]
        calibrated = expit(slopes * log_odds + intercepts)  # (n_resamples, n)
        return percentile_interval(calibrated, alpha=alpha, axis=0)


@dataclass(frozen=True)
class ReliabilityCurve:
    """Observed event rate against mean predicted probability per non-empty bin, with a 95%
    Wilson interval on each observed rate."""

    mean_predicted: np.ndarray
    fraction_positive: np.ndarray
    count: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray


def _wilson_interval(successes: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    z = 1.959963984540054
    rate = successes / n
    centre = (rate + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * np.sqrt(rate * (1 - rate) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    return centre - half, centre + half


def reliability_curve(y: ArrayLike, p: ArrayLike, n_bins: int = 10,
                      strategy: Literal["quantile", "uniform"] = "quantile") -> ReliabilityCurve:
    """Reliability diagram data on ``n_bins`` bins.

    ``"quantile"`` bins hold equal numbers of patients (deciles of predicted risk, the usual
    clinical presentation), so no point rests on a handful of patients. ``"uniform"`` bins are
    equal-width over [0, 1], the bins of
    :func:`~medora.evaluate.metrics.expected_calibration_error`, and match
    ``sklearn.calibration.calibration_curve(strategy="uniform")``. Empty bins are dropped.
    """
    bins = check_positive_int(n_bins, "n_bins")
    labels, probs = check_labels_and_probabilities(y, p)
    if strategy == "uniform":
        # The binned sums are computed per weight row; a single unit row is the full sample.
        count, sum_p, sum_y = (
            sums[0] for sums in _binned_sums(labels, probs, _unit_weights(probs.size), bins)
        )
    elif strategy == "quantile":
        # Tied predictions can merge quantiles; constant predictions leave a single bin.
        edges = np.unique(np.quantile(probs, np.linspace(0.0, 1.0, bins + 1)))
        index = np.clip(np.searchsorted(edges, probs, side="right") - 1, 0,
                        max(edges.size - 2, 0))
        edges = edges if edges.size > 1 else np.repeat(edges, 2)
        count = np.bincount(index, minlength=edges.size - 1).astype(float)
        sum_p = np.bincount(index, weights=probs, minlength=edges.size - 1)
        sum_y = np.bincount(index, weights=labels.astype(float), minlength=edges.size - 1)
    else:
        raise ValueError(f"strategy must be 'quantile' or 'uniform', got {strategy!r}.")
    filled = count > 0
    low, high = _wilson_interval(sum_y[filled], count[filled])
    return ReliabilityCurve(
        mean_predicted=sum_p[filled] / count[filled],
        fraction_positive=sum_y[filled] / count[filled],
        count=count[filled].astype(np.int64),
        ci_low=low,
        ci_high=high,
    )


def _calibration_in_the_large(log_odds: np.ndarray, y: np.ndarray) -> float:
    """Intercept ``a`` of ``logit P(y=1) = a + logit(p)`` (slope fixed at 1, i.e. an offset).

    The score equation sum(y - sigmoid(a + lp)) = 0 is monotone in ``a``; with |lp| <= L,
    ``logit(prevalence) -/+ (L + 1)`` brackets its unique root.
    """
    centre = logit(y.mean())
    half_width = np.abs(log_odds).max() + 1.0
    return float(
        brentq(
            lambda a: np.sum(y - expit(a + log_odds)),
            centre - half_width,
            centre + half_width,
            xtol=1e-12,
        )
    )


def calibration_slope_intercept(y: ArrayLike, p: ArrayLike) -> tuple[float, float]:
    """TRIPOD calibration summary: (calibration slope, calibration-in-the-large).

    The slope is the coefficient of ``logit(p)`` in a logistic regression of ``y`` on it
    (ideal 1; below 1 means overfitted, too-extreme predictions). The intercept is estimated
    with ``logit(p)`` as an offset (ideal 0; positive means risks are underestimated on
    average), following Van Calster et al. (2016) and Steyerberg (2019).
    """
    labels, probs = check_labels_and_probabilities(y, p)
    _require_both_classes(labels, "y")
    log_odds = _clipped_logit(probs)
    slope, _ = _fit_logistic(log_odds, labels)
    return slope, _calibration_in_the_large(log_odds, labels)
