"""Platt recalibration, reliability curves and TRIPOD calibration summaries."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from scipy.special import expit, logit
from sklearn.calibration import calibration_curve
from sklearn.exceptions import NotFittedError

from medora.evaluate import PlattCalibrator, calibration_slope_intercept, reliability_curve


def miscalibrated_sample(
    n: int, slope: float, intercept: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Predictions ``p`` whose true risk is ``sigmoid(slope * logit(p) + intercept)``."""
    rng = np.random.default_rng(seed)
    p = expit(rng.normal(-0.5, 1.2, size=n))
    return p, rng.binomial(1, expit(slope * logit(p) + intercept))


@pytest.fixture(scope="module")
def fitted() -> PlattCalibrator:
    p, y = miscalibrated_sample(n=10_000, slope=2.0, intercept=0.5, seed=0)
    return PlattCalibrator().fit(p, y, n_resamples=50, seed=0)


def test_platt_recovers_known_miscalibration(fitted: PlattCalibrator) -> None:
    assert fitted.slope_ == pytest.approx(2.0, abs=0.15)
    assert fitted.intercept_ == pytest.approx(0.5, abs=0.1)
    assert fitted.bootstrap_params_.shape == (50, 2)


def test_transform_applies_fitted_logistic_map(fitted: PlattCalibrator) -> None:
    p = np.linspace(0.05, 0.95, 7)
    expected = expit(fitted.slope_ * logit(p) + fitted.intercept_)
    np.testing.assert_allclose(fitted.transform(p), expected)


def test_interval_contains_point_and_has_width(fitted: PlattCalibrator) -> None:
    p = np.linspace(0.01, 0.99, 25)
    low, high = fitted.transform_interval(p)
    calibrated = fitted.transform(p)
    assert np.all(low <= calibrated)
    assert np.all(calibrated <= high)
    assert np.all(high - low > 0)
    narrow_low, narrow_high = fitted.transform_interval(p, alpha=0.5)
    assert np.all(high - low >= narrow_high - narrow_low)


def test_fit_is_deterministic_and_picklable(fitted: PlattCalibrator) -> None:
    p, y = miscalibrated_sample(n=10_000, slope=2.0, intercept=0.5, seed=0)
    refit = PlattCalibrator().fit(p, y, n_resamples=50, seed=0)
    np.testing.assert_array_equal(refit.bootstrap_params_, fitted.bootstrap_params_)
    restored = pickle.loads(pickle.dumps(fitted))
    grid = np.linspace(0, 1, 11)
    np.testing.assert_array_equal(restored.transform(grid), fitted.transform(grid))


def test_single_class_validation_set_raises() -> None:
    with pytest.raises(ValueError, match="both classes"):
        PlattCalibrator().fit([0.2, 0.4, 0.6], [0, 0, 0])


def test_unfitted_calibrator_raises() -> None:
    with pytest.raises(NotFittedError):
        PlattCalibrator().transform([0.5])


def test_slope_and_calibration_in_the_large() -> None:
    p, y = miscalibrated_sample(n=20_000, slope=1.0, intercept=0.0, seed=1)
    slope, intercept = calibration_slope_intercept(y, p)
    assert slope == pytest.approx(1.0, abs=0.06)
    assert intercept == pytest.approx(0.0, abs=0.05)

    p, y = miscalibrated_sample(n=20_000, slope=1.0, intercept=0.5, seed=2)
    slope, intercept = calibration_slope_intercept(y, p)
    assert slope == pytest.approx(1.0, abs=0.06)
    assert intercept == pytest.approx(0.5, abs=0.05)


def test_reliability_curve_matches_sklearn_uniform_bins() -> None:
    p, y = miscalibrated_sample(n=2_000, slope=1.5, intercept=0.0, seed=3)
    curve = reliability_curve(y, p, n_bins=10, strategy="uniform")
    fraction_positive, mean_predicted = calibration_curve(y, p, n_bins=10, strategy="uniform")
    np.testing.assert_allclose(curve.mean_predicted, mean_predicted)
    np.testing.assert_allclose(curve.fraction_positive, fraction_positive)
    assert curve.count.sum() == y.size


def test_reliability_curve_drops_empty_bins() -> None:
    curve = reliability_curve([0, 1, 0, 1], [0.05, 0.07, 0.31, 0.33], n_bins=10,
                              strategy="uniform")
    np.testing.assert_allclose(curve.mean_predicted, [0.06, 0.32])
    np.testing.assert_allclose(curve.fraction_positive, [0.5, 0.5])
    np.testing.assert_array_equal(curve.count, [2, 2])


def test_quantile_bins_hold_equal_numbers_and_wilson_intervals_cover() -> None:
    p, y = miscalibrated_sample(n=2_000, slope=1.0, intercept=0.0, seed=5)
    curve = reliability_curve(y, p, n_bins=10, strategy="quantile")
    np.testing.assert_array_equal(curve.count, np.full(10, 200))
    fraction_positive, _ = calibration_curve(y, p, n_bins=10, strategy="quantile")
    np.testing.assert_allclose(curve.fraction_positive, fraction_positive)
    assert np.all((curve.ci_low <= curve.fraction_positive)
                  & (curve.fraction_positive <= curve.ci_high))
    # calibrated by construction: most deciles' intervals contain their mean prediction
    covered = (curve.ci_low <= curve.mean_predicted) & (curve.mean_predicted <= curve.ci_high)
    assert covered.sum() >= 8


def test_unknown_binning_strategy_is_rejected() -> None:
    with pytest.raises(ValueError, match="'quantile' or 'uniform'"):
        reliability_curve([0, 1], [0.2, 0.8], strategy="kmeans")
