"""The piecewise-linear encoder against hand-computed bins: quantile edges, linear
extrapolation at both ends, indicators passed through, tied quantiles merged."""

from __future__ import annotations

import numpy as np
import pytest

from medora.models.preprocessing import PiecewiseLinearEncoder


def test_bins_match_hand_computed_values() -> None:
    # Training values 0..4 with 2 bins: edges at the 0, 50 and 100% quantiles, 0, 2 and 4.
    training = np.array([[0.0], [1.0], [2.0], [3.0], [4.0]])
    encoder = PiecewiseLinearEncoder(n_bins=2).fit(training)
    np.testing.assert_array_equal(encoder.edges_[0], [0.0, 2.0, 4.0])
    encoded = encoder.transform(np.array([[1.0], [3.0], [-2.0], [6.0]]))
    np.testing.assert_allclose(encoded, [
        [1.0, 0.5, 0.0],   # the value, then half of the first bin
        [3.0, 1.0, 0.5],   # the first bin full, half of the second
        [-2.0, -1.0, 0.0],  # below the training range: the first bin extends left
        [6.0, 1.0, 2.0],   # above it: the last bin extends right
    ])
    assert encoded.shape == (4, 3)


def test_indicators_pass_through_and_tied_quantiles_merge() -> None:
    rng = np.random.default_rng(0)
    indicator = rng.integers(0, 2, 100).astype(float)
    mostly_zero = np.where(np.arange(100) < 80, 0.0, np.arange(100) - 79.0)  # 0 up to the 80th
    encoder = PiecewiseLinearEncoder(n_bins=10).fit(np.column_stack([indicator, mostly_zero]))
    assert encoder.edges_[0] is None
    edges = encoder.edges_[1]
    assert edges is not None and len(edges) == len(np.unique(edges)) < 11  # ties merged
    encoded = encoder.transform(np.column_stack([indicator, mostly_zero]))
    assert encoded.shape == (100, 1 + 1 + len(edges) - 1)
    np.testing.assert_array_equal(encoded[:, 0], indicator)
    # The bins sum, with the lower edge, back to the value inside the training range.
    np.testing.assert_allclose(edges[0] + encoded[:, 2:] @ np.diff(edges), mostly_zero)


def test_bad_use_names_the_problem() -> None:
    with pytest.raises(ValueError, match="at least 2"):
        PiecewiseLinearEncoder(n_bins=1)
    with pytest.raises(RuntimeError, match="fit the encoder"):
        PiecewiseLinearEncoder().transform(np.zeros((2, 2)))
    encoder = PiecewiseLinearEncoder().fit(np.arange(20.0).reshape(10, 2))
    with pytest.raises(ValueError, match="expected 2 features"):
        encoder.transform(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="non-empty 2-D"):
        PiecewiseLinearEncoder().fit(np.zeros(5))
