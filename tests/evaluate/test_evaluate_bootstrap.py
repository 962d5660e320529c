"""Bootstrap resampling, percentile intervals and paired model comparisons."""

from __future__ import annotations

import json
import math
import time

import numpy as np
import pytest

from medora.evaluate import (
    BINARY_METRICS,
    Estimate,
    auroc,
    bootstrap_indices,
    cluster_bootstrap_weights,
    evaluate_binary,
    paired_difference,
)
from medora.evaluate.bootstrap import resample_weights

THRESHOLD = 0.3


def test_indices_are_deterministic_given_seed(binary_data) -> None:
    y, _ = binary_data
    first = bootstrap_indices(y, n_resamples=20, seed=7)
    assert first.shape == (20, y.size)
    np.testing.assert_array_equal(first, bootstrap_indices(y, n_resamples=20, seed=7))
    assert not np.array_equal(first, bootstrap_indices(y, n_resamples=20, seed=8))


def test_stratified_resamples_keep_both_classes_at_observed_counts() -> None:
    y = np.r_[np.ones(3, int), np.zeros(97, int)]
    indices = bootstrap_indices(y, n_resamples=500, seed=0)
    np.testing.assert_array_equal(y[indices].sum(axis=1), np.full(500, 3))


def test_unstratified_resamples_can_lose_a_class() -> None:
    y = np.r_[np.ones(3, int), np.zeros(97, int)]
    indices = bootstrap_indices(y, n_resamples=500, seed=0, stratified=False)
    assert indices.min() >= 0
    assert indices.max() < y.size
    assert (y[indices].sum(axis=1) == 0).any()


def test_resample_weights_count_multiplicities() -> None:
    weights = resample_weights(np.array([[0, 0, 2], [1, 2, 2]]), n=3)
    np.testing.assert_array_equal(weights, [[2, 0, 1], [0, 1, 2]])


@pytest.mark.parametrize("indices", [np.array([0, 1]), np.array([[0, 3]])])
def test_invalid_indices_raise(indices) -> None:
    with pytest.raises(ValueError, match="indices"):
        resample_weights(indices, n=3)


@pytest.mark.parametrize("weights", [np.array([[1.0, 2.0]]), np.array([[1.0, -1.0, 0.0]])])
def test_invalid_multiplicities_raise(weights) -> None:
    with pytest.raises(ValueError, match="multiplicity matrix must have 3 non-negative"):
        resample_weights(weights, n=3)


# Five patients: 0 and 3 with three samples each, the others one; 0 and 2 have a positive.
PATIENTS = np.array([0, 0, 0, 1, 2, 3, 3, 3, 4])
OUTCOMES = np.array([0, 1, 0, 0, 1, 0, 0, 0, 0])


def test_cluster_bootstrap_moves_a_patients_samples_together() -> None:
    weights = cluster_bootstrap_weights(OUTCOMES, PATIENTS, n_resamples=300, seed=4)
    assert weights.shape == (300, PATIENTS.size)
    for patient in np.unique(PATIENTS):
        own = weights[:, patient == PATIENTS]
        np.testing.assert_array_equal(own, np.repeat(own[:, :1], own.shape[1], axis=1))
    # Stratified: two patients with a positive, three without, drawn at those numbers.
    first_sample = [int(np.flatnonzero(p == PATIENTS)[0]) for p in range(5)]
    np.testing.assert_array_equal(weights[:, first_sample][:, [0, 2]].sum(axis=1), 2)
    np.testing.assert_array_equal(weights[:, first_sample][:, [1, 3, 4]].sum(axis=1), 3)
    # Every resample holds a positive sample, and the number of samples varies.
    assert (weights @ OUTCOMES > 0).all()
    assert len(np.unique(weights.sum(axis=1))) > 1
    np.testing.assert_array_equal(
        weights, cluster_bootstrap_weights(OUTCOMES, PATIENTS, n_resamples=300, seed=4))


def test_cluster_bootstrap_is_the_sample_bootstrap_with_one_sample_per_patient(
        binary_data) -> None:
    y, p = binary_data
    weights = cluster_bootstrap_weights(y, np.arange(y.size), n_resamples=400, seed=1)
    np.testing.assert_array_equal(weights.sum(axis=1), y.size)
    intervals = evaluate_binary(y, p, THRESHOLD, weights, metrics=["auroc"])["auroc"]
    assert intervals.value == pytest.approx(auroc(y, p))
    assert intervals.ci_low < intervals.value < intervals.ci_high


def test_cluster_bootstrap_widens_intervals_of_correlated_samples() -> None:
    # Each patient's score and outcome repeated ten times: resampling the copies one by one
    # treats them as ten times the evidence.
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 60)
    p = np.clip(0.5 + 0.25 * (y - 0.5) + rng.normal(0, 0.2, 60), 0, 1)
    patients, y10, p10 = np.repeat(np.arange(60), 10), np.repeat(y, 10), np.repeat(p, 10)
    by_sample = evaluate_binary(y10, p10, THRESHOLD, bootstrap_indices(y10, 400, seed=2),
                                metrics=["auroc"])["auroc"]
    by_patient = evaluate_binary(y10, p10, THRESHOLD,
                                 cluster_bootstrap_weights(y10, patients, 400, seed=2),
                                 metrics=["auroc"])["auroc"]
    assert by_patient.ci_high - by_patient.ci_low > 2 * (by_sample.ci_high - by_sample.ci_low)


def test_cluster_bootstrap_needs_one_cluster_per_sample() -> None:
    with pytest.raises(ValueError, match="one cluster per sample"):
        cluster_bootstrap_weights(OUTCOMES, PATIENTS[:-1], n_resamples=10, seed=0)


def test_invalid_resample_count_raises(binary_data) -> None:
    with pytest.raises(ValueError, match="n_resamples"):
        bootstrap_indices(binary_data[0], n_resamples=0, seed=0)


def test_evaluate_binary_point_estimates_and_intervals(binary_data) -> None:
    y, p = binary_data
    indices = bootstrap_indices(y, n_resamples=300, seed=0)
    results = evaluate_binary(y, p, THRESHOLD, indices)
    assert list(results) == list(BINARY_METRICS)
    for name, estimate in results.items():
        assert estimate.value == pytest.approx(BINARY_METRICS[name].bind(THRESHOLD)(y, p))
        assert estimate.ci_low <= estimate.value <= estimate.ci_high
        assert estimate.ci_low < estimate.ci_high


def test_evaluate_binary_subset_in_requested_order(binary_data) -> None:
    y, p = binary_data
    indices = bootstrap_indices(y, n_resamples=10, seed=0)
    assert list(evaluate_binary(y, p, THRESHOLD, indices, ["brier", "auroc"])) == [
        "brier",
        "auroc",
    ]
    with pytest.raises(ValueError, match="Unknown metric"):
        evaluate_binary(y, p, THRESHOLD, indices, ["accuracy"])


def test_interval_narrows_with_sample_size(make_binary_data) -> None:
    widths = []
    for n in (200, 2000):
        y, p = make_binary_data(n=n, seed=1)
        indices = bootstrap_indices(y, n_resamples=300, seed=0)
        estimate = evaluate_binary(y, p, THRESHOLD, indices, ["auroc"])["auroc"]
        widths.append(estimate.ci_high - estimate.ci_low)
    assert widths[1] < 0.5 * widths[0]


def test_paired_difference_of_model_with_itself_is_exactly_zero(binary_data) -> None:
    y, p = binary_data
    indices = bootstrap_indices(y, n_resamples=200, seed=0)
    for name in BINARY_METRICS:
        assert paired_difference(name, y, p, p, THRESHOLD, indices) == Estimate(0.0, 0.0, 0.0)


def test_paired_difference_detects_better_model(binary_data) -> None:
    y, p = binary_data
    noisy = np.clip(p + np.random.default_rng(1).normal(0, 0.3, size=p.size), 0, 1)
    indices = bootstrap_indices(y, n_resamples=300, seed=0)
    difference = paired_difference("auroc", y, p, noisy, THRESHOLD, indices)
    assert difference.value == pytest.approx(auroc(y, p) - auroc(y, noisy))
    assert 0 < difference.ci_low <= difference.value <= difference.ci_high


def test_estimate_to_dict_rounds_and_maps_nan_to_none() -> None:
    estimate = Estimate(0.123456, math.nan, 0.98765)
    assert estimate.to_dict() == {"value": 0.1235, "ci": [None, 0.9877]}
    json.dumps(estimate.to_dict(), allow_nan=False)


def test_all_nan_replicates_give_nan_interval() -> None:
    estimate = Estimate.from_replicates(0.5, np.full(10, np.nan))
    assert math.isnan(estimate.ci_low)
    assert math.isnan(estimate.ci_high)


def test_full_bootstrap_is_vectorised(make_binary_data) -> None:
    # 1,000 resamples x 1,000 patients x all metrics x 3 models: well under a second when
    # vectorised; the generous bound only catches a regression to per-resample loops.
    y, p = make_binary_data(n=1000, seed=0)
    indices = bootstrap_indices(y, n_resamples=1000, seed=0)
    start = time.perf_counter()
    for shift in (0.0, 0.05, 0.1):
        evaluate_binary(y, np.clip(p + shift, 0, 1), THRESHOLD, indices)
    assert time.perf_counter() - start < 10.0
