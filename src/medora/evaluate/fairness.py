"""Subgroup performance and between-group disparities with bootstrap intervals.

Per-group point values come from fairlearn's :class:`~fairlearn.metrics.MetricFrame`. Their
uncertainty reuses the test set's bootstrap resamples: within each resample, a group's
metric is computed on that resample's members of the group, so group estimates and the
between-group difference are all paired with the overall (and other models') estimates.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from fairlearn.metrics import MetricFrame, count
from numpy.typing import ArrayLike

from medora.evaluate._validation import check_labels_and_probabilities, check_threshold
from medora.evaluate.bootstrap import Estimate, resample_weights
from medora.evaluate.metrics import (
    BINARY_METRICS,
    MetricSpec,
    _weighted_false_positive_rate,
    _weighted_selection_rate,
    false_positive_rate,
    selection_rate,
)

__all__ = ["MIN_GROUP_SIZE", "SUBGROUP_METRICS", "SubgroupReport", "subgroup_table"]

#: Below this many patients a group's AUROC is too unstable to report.
MIN_GROUP_SIZE = 10

SUBGROUP_METRICS: dict[str, MetricSpec] = {
    "auroc": BINARY_METRICS["auroc"],
    "tpr": replace(BINARY_METRICS["sensitivity"], name="tpr", label="True positive rate"),
    "fpr": MetricSpec(
        "fpr",
        "False positive rate",
        false_positive_rate,
        higher_is_better=False,
        needs_threshold=True,
        weighted_fn=_weighted_false_positive_rate,
    ),
    "selection_rate": MetricSpec(
        "selection_rate",
        "Selection rate",
        selection_rate,
        higher_is_better=None,
        needs_threshold=True,
        weighted_fn=_weighted_selection_rate,
    ),
}


@dataclass(frozen=True)
class SubgroupReport:
    """Per-group metrics for one sensitive attribute, and between-group differences.

    Attributes:
        attribute: Name of the sensitive attribute, e.g. ``"sex"``.
        groups: One row per group with columns ``group``, ``n``, ``prevalence``, ``flagged``
            (AUROC withheld: fewer than ``MIN_GROUP_SIZE`` patients or a single class) and,
            for each metric in :data:`SUBGROUP_METRICS`, ``<metric>``, ``<metric>_ci_low``
            and ``<metric>_ci_high``.
        differences: Metric name -> max minus min over groups, with a bootstrap interval.
    """

    attribute: str
    groups: pd.DataFrame
    differences: dict[str, Estimate]

    def group_estimate(self, metric: str) -> list[Estimate]:
        """Per-group estimates of ``metric``, in the row order of :attr:`groups`."""
        columns = self.groups[[metric, f"{metric}_ci_low", f"{metric}_ci_high"]]
        return [Estimate(*map(float, row)) for row in columns.itertuples(index=False)]

    def to_dict(self) -> dict[str, object]:
        """JSON-ready summary (nan becomes None, floats rounded to 4 decimals)."""
        per_metric = {name: self.group_estimate(name) for name in SUBGROUP_METRICS}
        groups = [
            {
                "group": str(row.group),
                "n": int(row.n),
                "prevalence": round(float(row.prevalence), 4),
                "flagged": bool(row.flagged),
                "metrics": {name: per_metric[name][i].to_dict() for name in SUBGROUP_METRICS},
            }
            for i, row in enumerate(self.groups.itertuples(index=False))
        ]
        return {
            "attribute": self.attribute,
            "groups": groups,
            "differences": {name: est.to_dict() for name, est in self.differences.items()},
        }


def _check_groups(groups: pd.Series | np.ndarray, n: int) -> np.ndarray:
    """Group labels as a 1-D array with one non-missing label per patient."""
    values = np.asarray(groups)
    if values.ndim != 1 or values.size != n:
        raise ValueError(
            f"groups must be 1-D with one label per patient ({n}), got {values.shape}."
        )
    if pd.isna(values).any():
        raise ValueError("groups must not contain missing values; label them explicitly.")
    return values


def _between_group_difference(values: np.ndarray) -> np.ndarray:
    """Max minus min over the last (group) axis, ignoring undefined groups.

    Equals ``MetricFrame.difference(method="between_groups")`` whenever at least two groups
    are defined; with fewer there is nothing to compare, so the result is nan (not 0).
    """
    defined = np.isfinite(values)
    highest = np.where(defined, values, -np.inf).max(axis=-1)
    lowest = np.where(defined, values, np.inf).min(axis=-1)
    return np.where(defined.sum(axis=-1) >= 2, highest - lowest, np.nan)


def _point_values(
    y: np.ndarray, p: np.ndarray, groups: np.ndarray, threshold: float, attribute: str
) -> pd.DataFrame:
    """Per-group n, prevalence and metric values from fairlearn's MetricFrame."""
    frame = MetricFrame(
        metrics={
            "n": count,
            "prevalence": lambda y_true, _: float(np.mean(y_true)),
            **{name: spec.bind(threshold) for name, spec in SUBGROUP_METRICS.items()},
        },
        y_true=y,
        y_pred=p,
        sensitive_features=pd.Series(groups, name=attribute),
    )
    table = frame.by_group.rename_axis("group").reset_index()
    table["n"] = table["n"].astype(np.int64)
    table["flagged"] = (table["n"] < MIN_GROUP_SIZE) | table["prevalence"].isin([0.0, 1.0])
    table.loc[table["flagged"], "auroc"] = np.nan
    return table


def _replicates(
    spec: MetricSpec,
    y: np.ndarray,
    p: np.ndarray,
    groups: np.ndarray,
    table: pd.DataFrame,
    weights: np.ndarray,
    threshold: float,
) -> np.ndarray:
    """Bootstrap replicates of one metric for every group, shape ``(n_resamples, n_groups)``.

    Restricting the resample weights to a group's columns evaluates the metric on exactly
    the resampled members of that group.
    """
    columns = []
    for group, flagged in zip(table["group"], table["flagged"], strict=True):
        if spec.name == "auroc" and flagged:
            columns.append(np.full(weights.shape[0], np.nan))
            continue
        members = groups == group
        columns.append(spec.on_weights(y[members], p[members], weights[:, members], threshold))
    return np.column_stack(columns)


def subgroup_table(
    y: ArrayLike,
    p: ArrayLike,
    groups: pd.Series | np.ndarray,
    threshold: float,
    indices: ArrayLike,
    attribute: str,
) -> SubgroupReport:
    """Per-group AUROC, TPR, FPR and selection rate with bootstrap CIs, plus disparities.

    Args:
        y: Binary outcomes (0/1).
        p: Predicted probabilities of class 1.
        groups: Sensitive-attribute label of each patient.
        threshold: Decision threshold for the rate metrics (predicted positive: p >= t).
        indices: Resample matrix from :func:`~medora.evaluate.bootstrap_indices` or
            :func:`~medora.evaluate.cluster_bootstrap_weights`, the same one used for the
            overall metrics so all estimates are paired.
        attribute: Name of the sensitive attribute, used in the report.

    Returns:
        A :class:`SubgroupReport`. Groups with fewer than ``MIN_GROUP_SIZE`` patients or a
        single outcome class are flagged and get nan AUROC.
    """
    labels, probs = check_labels_and_probabilities(y, p)
    cutoff = check_threshold(threshold)
    group_values = _check_groups(groups, labels.size)
    weights = resample_weights(indices, labels.size)
    table = _point_values(labels, probs, group_values, cutoff, attribute)
    if isinstance(groups, pd.Series) and isinstance(groups.dtype, pd.CategoricalDtype):
        # Keep the attribute's own order (age bands youngest first), not alphabetical.
        present = set(table["group"])
        order = [group for group in groups.cat.categories if group in present]
        table = table.set_index("group").loc[order].reset_index()
    differences = {}
    for name, spec in SUBGROUP_METRICS.items():
        replicates = _replicates(spec, labels, probs, group_values, table, weights, cutoff)
        per_group = [
            Estimate.from_replicates(value, column)
            for value, column in zip(table[name], replicates.T, strict=True)
        ]
        table[f"{name}_ci_low"] = [est.ci_low for est in per_group]
        table[f"{name}_ci_high"] = [est.ci_high for est in per_group]
        differences[name] = Estimate.from_replicates(
            float(_between_group_difference(table[name].to_numpy())),
            _between_group_difference(replicates),
        )
    metric_columns = [
        f"{name}{suffix}" for name in SUBGROUP_METRICS for suffix in ("", "_ci_low", "_ci_high")
    ]
    return SubgroupReport(
        attribute=attribute,
        groups=table[["group", "n", "prevalence", "flagged", *metric_columns]],
        differences=differences,
    )
