"""Model evaluation: metrics with paired bootstrap intervals, calibration, decision curves,
subgroup fairness and report figures for binary clinical prediction models."""

from medora.evaluate.bootstrap import (
    Estimate,
    bootstrap_indices,
    evaluate_binary,
    paired_difference,
)
from medora.evaluate.calibration import (
    PlattCalibrator,
    ReliabilityCurve,
    calibration_slope_intercept,
    reliability_curve,
)
from medora.evaluate.decision_curve import decision_curve, net_benefit, net_benefit_treat_all
from medora.evaluate.fairness import SUBGROUP_METRICS, SubgroupReport, subgroup_table
from medora.evaluate.metrics import (
    BINARY_METRICS,
    MetricSpec,
    auprc,
    auroc,
    brier,
    expected_calibration_error,
    false_positive_rate,
    selection_rate,
    sensitivity,
    specificity,
)
from medora.evaluate.plots import (
    figure_to_base64_png,
    plot_decision_curve,
    plot_importance,
    plot_precision_recall,
    plot_reliability,
    plot_roc,
    plot_subgroups,
)

__all__ = [
    "BINARY_METRICS",
    "SUBGROUP_METRICS",
    "Estimate",
    "MetricSpec",
    "PlattCalibrator",
    "ReliabilityCurve",
    "SubgroupReport",
    "auprc",
    "auroc",
    "bootstrap_indices",
    "brier",
    "calibration_slope_intercept",
    "decision_curve",
    "evaluate_binary",
    "expected_calibration_error",
    "false_positive_rate",
    "figure_to_base64_png",
    "net_benefit",
    "net_benefit_treat_all",
    "paired_difference",
    "plot_decision_curve",
    "plot_importance",
    "plot_precision_recall",
    "plot_reliability",
    "plot_roc",
    "plot_subgroups",
    "reliability_curve",
    "selection_rate",
    "sensitivity",
    "specificity",
    "subgroup_table",
]
