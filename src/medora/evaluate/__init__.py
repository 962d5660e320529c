"""Model evaluation shared by the areas: metrics with paired bootstrap intervals, calibration,
decision curves, subgroup fairness, conformal prediction, regression metrics and report
figures. Survival and treatment-effect metrics live in their areas
(:mod:`medora.areas.survival.metrics`, :mod:`medora.areas.effects.metrics`)."""

from medora.core.lazy import lazy_exports

_EXPORTS = {
    "BINARY_METRICS": "metrics",
    "Estimate": "bootstrap",
    "MetricSpec": "metrics",
    "PlattCalibrator": "calibration",
    "ReliabilityCurve": "calibration",
    "SUBGROUP_METRICS": "fairness",
    "SubgroupReport": "fairness",
    "auprc": "metrics",
    "auroc": "metrics",
    "bootstrap_indices": "bootstrap",
    "brier": "metrics",
    "calibration_slope_intercept": "calibration",
    "cluster_bootstrap_weights": "bootstrap",
    "decision_curve": "decision_analysis",
    "evaluate_binary": "bootstrap",
    "expected_calibration_error": "metrics",
    "false_positive_rate": "metrics",
    "figure_to_base64_png": "plots",
    "net_benefit": "decision_analysis",
    "net_benefit_treat_all": "decision_analysis",
    "paired_difference": "bootstrap",
    "plot_decision_curve": "plots",
    "plot_importance": "plots",
    "plot_precision_recall": "plots",
    "plot_reliability": "plots",
    "plot_roc": "plots",
    "plot_subgroups": "plots",
    "reliability_curve": "calibration",
    "selection_rate": "metrics",
    "sensitivity": "metrics",
    "specificity": "metrics",
    "subgroup_table": "fairness",
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
__all__ = sorted(_EXPORTS)
