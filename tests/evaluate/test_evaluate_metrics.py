"""Metrics agree with scikit-learn, handle degenerate samples, and validate their inputs."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    recall_score,
    roc_auc_score,
)

from medora.evaluate import (
    BINARY_METRICS,
    auprc,
    auroc,
    brier,
    expected_calibration_error,
    false_positive_rate,
    selection_rate,
    sensitivity,
    specificity,
)
from medora.evaluate.bootstrap import bootstrap_indices, resample_weights

THRESHOLD = 0.3


@pytest.mark.parametrize("decimals", [2, 12], ids=["ties", "no-ties"])
@pytest.mark.parametrize(
    ("ours", "reference"),
    [(auroc, roc_auc_score), (auprc, average_precision_score), (brier, brier_score_loss)],
    ids=["auroc", "auprc", "brier"],
)
def test_threshold_free_metrics_match_sklearn(
    make_binary_data, ours, reference, decimals: int
) -> None:
    y, p = make_binary_data(n=400, seed=1)
    p = np.round(p + np.random.default_rng(2).uniform(0, 1e-3, size=p.size), decimals)
    assert ours(y, p) == pytest.approx(reference(y, p), abs=1e-12)


def test_threshold_metrics_match_sklearn(binary_data) -> None:
    y, p = binary_data
    predicted = (p >= THRESHOLD).astype(int)
    assert sensitivity(y, p, THRESHOLD) == pytest.approx(recall_score(y, predicted), abs=1e-12)
    expected_specificity = recall_score(y, predicted, pos_label=0)
    assert specificity(y, p, THRESHOLD) == pytest.approx(expected_specificity, abs=1e-12)
    assert false_positive_rate(y, p, THRESHOLD) == pytest.approx(1 - expected_specificity)
    assert selection_rate(y, p, THRESHOLD) == pytest.approx(predicted.mean())


def test_threshold_is_inclusive() -> None:
    assert sensitivity([1, 1], [0.5, 0.49], threshold=0.5) == 0.5


def test_ece_hand_computed() -> None:
    # One patient per bin: |0.05 - 0| + |0.15 - 1| + |0.85 - 0| + |0.95 - 1|, averaged.
    y, p = [0, 1, 0, 1], [0.05, 0.15, 0.85, 0.95]
    assert expected_calibration_error(y, p) == pytest.approx(0.45, abs=1e-12)


def test_ece_small_when_calibrated_and_large_when_shifted() -> None:
    rng = np.random.default_rng(3)
    p = rng.uniform(0, 1, size=100_000)
    y = rng.binomial(1, p)
    assert expected_calibration_error(y, p) < 0.01
    assert expected_calibration_error(y, np.clip(p + 0.2, 0, 1)) > 0.15


@pytest.mark.filterwarnings("error")
def test_undefined_metrics_return_nan_without_warning() -> None:
    negatives, positives, p = np.zeros(5, int), np.ones(5, int), np.linspace(0.1, 0.9, 5)
    assert np.isnan(auroc(negatives, p))
    assert np.isnan(auroc(positives, p))
    assert np.isnan(auprc(negatives, p))
    assert np.isnan(sensitivity(negatives, p, THRESHOLD))
    assert np.isnan(specificity(positives, p, THRESHOLD))
    assert np.isfinite(brier(negatives, p))


@pytest.mark.parametrize(
    ("y", "p", "message"),
    [
        ([0, 2], [0.1, 0.2], "0/1"),
        ([0, 1], [0.1], "one entry per label"),
        ([0, 1], [0.1, 1.2], r"\[0, 1\]"),
        ([0, 1], [0.1, np.nan], r"\[0, 1\]"),
        ([], [], "non-empty"),
        ([[0, 1]], [[0.1, 0.2]], "1-D"),
    ],
)
def test_invalid_inputs_raise(y, p, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        auroc(y, p)


@pytest.mark.parametrize("threshold", [-0.1, 1.5, np.nan])
def test_invalid_threshold_raises(threshold: float) -> None:
    with pytest.raises(ValueError, match="threshold"):
        sensitivity([0, 1], [0.2, 0.8], threshold)


def test_invalid_n_bins_raises() -> None:
    with pytest.raises(ValueError, match="n_bins"):
        expected_calibration_error([0, 1], [0.2, 0.8], n_bins=0)


def test_registry_describes_every_metric() -> None:
    assert list(BINARY_METRICS) == ["auroc", "auprc", "brier", "ece", "sensitivity", "specificity"]
    assert BINARY_METRICS["auroc"].label == "AUROC"
    assert BINARY_METRICS["brier"].label == "Brier score"
    assert BINARY_METRICS["sensitivity"].label == "Sensitivity @ threshold"
    assert not BINARY_METRICS["brier"].higher_is_better
    assert {name for name, s in BINARY_METRICS.items() if s.needs_threshold} == {
        "sensitivity",
        "specificity",
    }
    assert all(spec.name == name for name, spec in BINARY_METRICS.items())


@pytest.mark.parametrize("name", list(BINARY_METRICS))
def test_vectorised_resamples_equal_scalar_metric_on_resampled_data(binary_data, name) -> None:
    y, p = binary_data
    spec = BINARY_METRICS[name]
    indices = bootstrap_indices(y, n_resamples=5, seed=4, stratified=False)
    batched = spec.on_weights(
        y.astype(float), p, resample_weights(indices, y.size), threshold=THRESHOLD
    )
    for rows, value in zip(indices, batched, strict=True):
        assert value == pytest.approx(spec.bind(THRESHOLD)(y[rows], p[rows]), abs=1e-12)


def test_vectorised_auroc_equals_sklearn_on_each_resample(binary_data) -> None:
    y, p = binary_data
    indices = bootstrap_indices(y, n_resamples=5, seed=5)
    batched = BINARY_METRICS["auroc"].on_weights(
        y.astype(float), p, resample_weights(indices, y.size), threshold=THRESHOLD
    )
    expected = [roc_auc_score(y[rows], p[rows]) for rows in indices]
    np.testing.assert_allclose(batched, expected, rtol=0, atol=1e-12)
