"""Split-conformal intervals keep their promised coverage on data with known noise."""

from __future__ import annotations

import numpy as np
import pytest

from medora.evaluate.conformal import SplitConformal, empirical_coverage


def test_coverage_on_known_gaussian_noise() -> None:
    rng = np.random.default_rng(0)
    x_cal, x_test = rng.uniform(0, 1, 2000), rng.uniform(0, 1, 20000)
    sigma = lambda x: 0.2 + x  # noqa: E731 - heteroscedastic noise, known
    y_cal = x_cal + rng.normal(0, sigma(x_cal))
    y_test = x_test + rng.normal(0, sigma(x_test))
    conformal = SplitConformal(coverage=0.9).fit(y_cal, x_cal, sigma(x_cal))
    lower, upper = conformal.interval(x_test, sigma(x_test))
    assert empirical_coverage(y_test, lower, upper) == pytest.approx(0.9, abs=0.015)
    # wider where the noise is larger
    assert (upper - lower)[x_test > 0.9].mean() > 1.5 * (upper - lower)[x_test < 0.1].mean()


def test_constant_width_without_a_spread() -> None:
    rng = np.random.default_rng(1)
    y = rng.normal(size=5000)
    conformal = SplitConformal(coverage=0.8).fit(y, np.zeros(5000), np.zeros(5000))
    lower, upper = conformal.interval(np.zeros(3), np.zeros(3))
    assert np.allclose(upper - lower, (upper - lower)[0])
    assert empirical_coverage(rng.normal(size=20000), *conformal.interval(
        np.zeros(20000), np.zeros(20000))) == pytest.approx(0.8, abs=0.02)


def test_too_few_calibration_samples_are_refused() -> None:
    with pytest.raises(ValueError, match="cannot certify 90% coverage; at least 9"):
        SplitConformal(coverage=0.9).fit(np.zeros(5), np.zeros(5), np.ones(5))
    with pytest.raises(ValueError, match="coverage must be in"):
        SplitConformal(coverage=1.0)
    with pytest.raises(RuntimeError, match="fit the conformal"):
        SplitConformal().interval([0.0], [1.0])
