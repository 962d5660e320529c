"""Subgroup tables: fairlearn point values, paired bootstrap intervals, disparities."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import MetricFrame

from medora.evaluate import (
    SUBGROUP_METRICS,
    auroc,
    bootstrap_indices,
    sensitivity,
    subgroup_table,
)

THRESHOLD = 0.5


@pytest.fixture(scope="module")
def two_groups() -> tuple[np.ndarray, np.ndarray, pd.Series]:
    """Group "perfect" is perfectly separated; group "random" gets coin-flip scores."""
    rng = np.random.default_rng(0)
    n = 400
    y = rng.binomial(1, 0.4, size=2 * n)
    perfect = np.where(y[:n] == 1, rng.uniform(0.6, 1.0, n), rng.uniform(0.0, 0.4, n))
    p = np.r_[perfect, rng.uniform(0.0, 1.0, n)]
    return y, p, pd.Series(["perfect"] * n + ["random"] * n, name="site")


@pytest.fixture(scope="module")
def report(two_groups):
    y, p, groups = two_groups
    indices = bootstrap_indices(y, n_resamples=200, seed=0)
    return subgroup_table(y, p, groups, THRESHOLD, indices, attribute="site")


def test_random_versus_perfect_group_auroc(report) -> None:
    table = report.groups.set_index("group")
    assert table.loc["perfect", "auroc"] == 1.0
    assert table.loc["random", "auroc"] == pytest.approx(0.5, abs=0.07)
    difference = report.differences["auroc"]
    assert difference.value == pytest.approx(0.5, abs=0.07)
    assert difference.ci_low <= difference.value <= difference.ci_high


def test_group_values_match_metrics_on_each_subset(two_groups, report) -> None:
    y, p, groups = two_groups
    for row in report.groups.itertuples(index=False):
        members = (groups == row.group).to_numpy()
        assert row.n == members.sum()
        assert row.prevalence == pytest.approx(y[members].mean())
        assert row.auroc == pytest.approx(auroc(y[members], p[members]))
        assert row.tpr == pytest.approx(sensitivity(y[members], p[members], THRESHOLD))
        assert row.auroc_ci_low <= row.auroc <= row.auroc_ci_high
        assert row.tpr_ci_low <= row.tpr <= row.tpr_ci_high


def test_difference_matches_fairlearn(two_groups, report) -> None:
    y, p, groups = two_groups
    frame = MetricFrame(
        metrics={name: spec.bind(THRESHOLD) for name, spec in SUBGROUP_METRICS.items()},
        y_true=y,
        y_pred=p,
        sensitive_features=groups,
    )
    for name, expected in frame.difference().items():
        assert report.differences[name].value == pytest.approx(expected)


def test_table_columns(report) -> None:
    metric_columns = [
        f"{name}{suffix}" for name in SUBGROUP_METRICS for suffix in ("", "_ci_low", "_ci_high")
    ]
    assert list(report.groups.columns) == ["group", "n", "prevalence", "flagged", *metric_columns]
    assert report.attribute == "site"


def test_small_and_single_class_groups_are_flagged() -> None:
    rng = np.random.default_rng(1)
    y = np.r_[rng.binomial(1, 0.5, 200), [0, 1, 0, 1, 1], np.zeros(30, int)]
    p = rng.uniform(0, 1, y.size)
    groups = np.array(["large"] * 200 + ["tiny"] * 5 + ["negatives"] * 30)
    indices = bootstrap_indices(y, n_resamples=50, seed=0)
    report = subgroup_table(y, p, groups, THRESHOLD, indices, attribute="ward")
    table = report.groups.set_index("group")
    assert table["flagged"].to_dict() == {"large": False, "negatives": True, "tiny": True}
    flagged = table.loc[["negatives", "tiny"], ["auroc", "auroc_ci_low", "auroc_ci_high"]]
    assert flagged.isna().all().all()
    assert np.isfinite(table.loc["tiny", "tpr"])
    # Only one group has a defined AUROC, so there is no between-group difference.
    assert np.isnan(report.differences["auroc"].value)
    assert np.isfinite(report.differences["selection_rate"].value)


def test_to_dict_is_strict_json(report) -> None:
    payload = report.to_dict()
    json.dumps(payload, allow_nan=False)
    assert payload["attribute"] == "site"
    assert [group["group"] for group in payload["groups"]] == ["perfect", "random"]
    assert set(payload["groups"][0]["metrics"]) == set(SUBGROUP_METRICS)
    assert set(payload["differences"]) == set(SUBGROUP_METRICS)


def test_invalid_groups_raise(two_groups) -> None:
    y, p, groups = two_groups
    indices = bootstrap_indices(y, n_resamples=5, seed=0)
    with pytest.raises(ValueError, match="one label per patient"):
        subgroup_table(y, p, groups[:-1], THRESHOLD, indices, attribute="site")
    with pytest.raises(ValueError, match="missing"):
        subgroup_table(y, p, groups.where(groups.index > 0), THRESHOLD, indices, "site")
