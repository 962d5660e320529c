"""Shared synthetic data for the evaluation tests (fixed seeds, small and fast)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from scipy.special import expit

BinaryData = tuple[np.ndarray, np.ndarray]


def _make_binary_data(n: int, seed: int, signal: float = 1.5) -> BinaryData:
    """Outcomes and informative probabilities; rounding creates the ties real scores have."""
    rng = np.random.default_rng(seed)
    y = rng.binomial(1, 0.3, size=n)
    p = expit(signal * (y - 0.5) + rng.normal(0.0, 1.0, size=n) - 0.8)
    return y, np.round(p, 2)


@pytest.fixture
def make_binary_data() -> Callable[..., BinaryData]:
    """Factory ``(n, seed, signal=1.5) -> (y, p)`` for tests that need several data sets."""
    return _make_binary_data


@pytest.fixture
def binary_data() -> BinaryData:
    return _make_binary_data(n=500, seed=0)
