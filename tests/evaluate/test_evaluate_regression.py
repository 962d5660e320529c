"""Regression metrics agree with scikit-learn; paired differences resample jointly."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

from medora.evaluate.regression import (
    evaluate_regression,
    paired_regression_difference,
    regression_bootstrap_indices,
)


@pytest.fixture
def data() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    y = rng.normal(size=300)
    return y, y + rng.normal(0, 0.3, 300), y + rng.normal(0, 0.6, 300)


def test_point_estimates_match_sklearn(data) -> None:
    y, good, _ = data
    indices = regression_bootstrap_indices(len(y), 200, seed=0)
    result = evaluate_regression(y, good, indices)
    assert result["rmse"].value == pytest.approx(np.sqrt(mean_squared_error(y, good)))
    assert result["mae"].value == pytest.approx(mean_absolute_error(y, good))
    assert result["r2"].value == pytest.approx(r2_score(y, good))
    assert result["rmse"].ci_low < result["rmse"].value < result["rmse"].ci_high


def test_paired_difference_favours_the_better_model(data) -> None:
    y, good, bad = data
    indices = regression_bootstrap_indices(len(y), 500, seed=0)
    difference = paired_regression_difference("rmse", y, good, bad, indices)
    assert difference.ci_high < 0
    with pytest.raises(ValueError, match="unknown regression metric"):
        paired_regression_difference("auroc", y, good, bad, indices)


def test_bad_inputs_are_refused() -> None:
    indices = regression_bootstrap_indices(3, 5, seed=0)
    with pytest.raises(ValueError, match="same length"):
        evaluate_regression([1.0, 2.0, 3.0], [1.0, 2.0], indices)
    with pytest.raises(ValueError, match="finite"):
        evaluate_regression([1.0, 2.0, np.nan], [1.0, 2.0, 3.0], indices)
