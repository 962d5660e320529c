"""Evaluation figures for reports.

Figures are built as standalone :class:`matplotlib.figure.Figure` objects rendered by the Agg
backend, never through pyplot's global state, so they are safe in servers, tests and
notebooks alike and nothing is ever shown. Colours are keyed by a model's position in the
input mapping, so passing models in the same order gives each one the same colour in every
figure of a report.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from numpy.typing import ArrayLike
from sklearn.metrics import precision_recall_curve, roc_curve

from medora.evaluate._validation import check_positive_int
from medora.evaluate.bootstrap import Estimate
from medora.evaluate.calibration import reliability_curve
from medora.evaluate.decision_analysis import TREAT_ALL, TREAT_NONE
from medora.evaluate.fairness import SUBGROUP_METRICS, SubgroupReport
from medora.evaluate.metrics import auprc, auroc, expected_calibration_error

__all__ = [
    "figure_to_base64_png",
    "plot_decision_curve",
    "plot_importance",
    "plot_parity",
    "plot_precision_recall",
    "plot_reliability",
    "plot_roc",
    "plot_subgroups",
]

Curves = Mapping[str, tuple[ArrayLike, ArrayLike]]

_FIGSIZE = (6.0, 5.0)
_DPI = 110
_REFERENCE_STYLE = {"color": "0.5", "linestyle": "--", "linewidth": 1.0}
_MAX_FEATURES = 15


def _model_colours(names: Iterable[str]) -> dict[str, tuple[float, ...]]:
    """Colour per model, assigned by position so every figure uses the same mapping."""
    palette = colormaps["tab10"].colors
    return {name: palette[i % len(palette)] for i, name in enumerate(names)}


def _new_axes(title: str, xlabel: str, ylabel: str) -> tuple[Figure, Axes]:
    """A single-axes figure with title, labels and a light grid."""
    fig = Figure(figsize=_FIGSIZE, layout="constrained")
    ax = fig.subplots()
    _label(ax, title, xlabel, ylabel)
    return fig, ax


def _label(ax: Axes, title: str, xlabel: str, ylabel: str) -> None:
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)


def _check_curves(curves: Curves) -> None:
    if not curves:
        raise ValueError("curves must map at least one model name to a (y, p) pair.")


def plot_roc(curves: Curves) -> Figure:
    """ROC curves of one or more models, with AUROC in the legend."""
    _check_curves(curves)
    fig, ax = _new_axes(
        "ROC curve", "False positive rate (1 - specificity)", "True positive rate (sensitivity)"
    )
    colours = _model_colours(curves)
    for name, (y, p) in curves.items():
        fpr, tpr, _ = roc_curve(y, p)
        ax.plot(fpr, tpr, color=colours[name], label=f"{name} (AUROC {auroc(y, p):.3f})")
    ax.plot([0, 1], [0, 1], label="Chance", **_REFERENCE_STYLE)
    ax.set(xlim=(0, 1), ylim=(0, 1.01), aspect="equal")
    ax.legend(loc="lower right")
    return fig


def plot_precision_recall(curves: Curves) -> Figure:
    """Precision-recall curves with average precision in the legend.

    The no-skill reference is the prevalence, which (unlike ROC's diagonal) depends on the
    data, so one line is drawn per distinct prevalence.
    """
    _check_curves(curves)
    fig, ax = _new_axes("Precision-recall curve", "Recall (sensitivity)", "Precision (PPV)")
    colours = _model_colours(curves)
    for name, (y, p) in curves.items():
        precision, recall, _ = precision_recall_curve(y, p)
        ax.plot(
            recall,
            precision,
            drawstyle="steps-post",
            color=colours[name],
            label=f"{name} (AP {auprc(y, p):.3f})",
        )
    prevalences = sorted({round(float(np.mean(y)), 4) for y, _ in curves.values()})
    for i, prevalence in enumerate(prevalences):
        label = "No skill (prevalence)" if i == 0 else None
        ax.axhline(prevalence, label=label, **_REFERENCE_STYLE)
    ax.set(xlim=(0, 1), ylim=(0, 1.01))
    ax.legend(loc="upper right")
    return fig


def plot_reliability(curves: Curves, n_bins: int = 10) -> Figure:
    """Reliability diagram on deciles of predicted risk, above a histogram of predictions.

    Each point is one decile with a 95% Wilson interval on its observed rate; the histogram
    shows where predictions concentrate. The legend's ECE uses equal-width bins, its usual
    definition.
    """
    _check_curves(curves)
    n_bins = check_positive_int(n_bins, "n_bins")
    fig = Figure(figsize=(_FIGSIZE[0], _FIGSIZE[1] * 1.3), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[3, 1])
    colours = _model_colours(curves)
    highest = max(float(np.max(p)) for _, p in curves.values())
    upper = min(1.0, max(0.1, 1.1 * highest))
    edges = np.linspace(0.0, upper, 31)
    top.plot([0, 1], [0, 1], label="Perfectly calibrated", **_REFERENCE_STYLE)
    for name, (y, p) in curves.items():
        curve = reliability_curve(y, p, n_bins=n_bins, strategy="quantile")
        ece = expected_calibration_error(y, p, n_bins=n_bins)
        top.errorbar(
            curve.mean_predicted,
            curve.fraction_positive,
            yerr=np.clip([curve.fraction_positive - curve.ci_low,
                          curve.ci_high - curve.fraction_positive], 0.0, None),
            marker="o",
            capsize=2,
            color=colours[name],
            label=f"{name} (ECE {ece:.3f})",
        )
        bottom.hist(np.asarray(p), bins=edges, histtype="step", color=colours[name])
    _label(top, "Calibration by decile of predicted risk (95% CI)", "",
           "Observed fraction of positives")
    top.set(xlim=(0, upper), ylim=(0, min(1.0, 1.3 * upper)))
    top.legend(loc="upper left")
    _label(bottom, "", "Predicted probability", "Patients")
    return fig


def plot_decision_curve(curve: pd.DataFrame) -> Figure:
    """Net benefit against threshold probability, from :func:`decision_curve` output."""
    missing = {"threshold", "strategy", "net_benefit"} - set(curve.columns)
    if missing:
        raise ValueError(f"curve must be decision_curve() output; missing columns {missing}.")
    fig, ax = _new_axes("Decision curve", "Threshold probability", "Net benefit")
    strategies = list(dict.fromkeys(curve["strategy"]))
    colours = _model_colours(s for s in strategies if s not in (TREAT_ALL, TREAT_NONE))
    reference_styles = {
        TREAT_ALL: {"color": "0.4", "linestyle": "-", "linewidth": 1.0},
        TREAT_NONE: {"color": "0.0", "linestyle": ":", "linewidth": 1.0},
    }
    for strategy in strategies:
        rows = curve[curve["strategy"] == strategy]
        style = reference_styles.get(strategy) or {"color": colours[strategy]}
        ax.plot(rows["threshold"], rows["net_benefit"], label=strategy, **style)
    # Treat-all plunges at high thresholds; clip so the models' differences stay visible.
    upper = max(float(curve["net_benefit"].max()), 0.01) * 1.1
    ax.set_ylim(-0.25 * upper, upper)
    ax.legend(loc="upper right")
    return fig


def plot_importance(importance: pd.Series, title: str = "Feature importance") -> Figure:
    """Horizontal bars of the largest (by magnitude) feature importances, largest on top."""
    if importance.empty:
        raise ValueError("importance must contain at least one feature.")
    top = importance.loc[importance.abs().sort_values(ascending=False).index[:_MAX_FEATURES]]
    fig = Figure(figsize=(_FIGSIZE[0], 1.5 + 0.3 * top.size), layout="constrained")
    ax = fig.subplots()
    # barh draws its first bar at the bottom; reverse so the most important is on top.
    ax.barh(top.index.astype(str)[::-1], top.to_numpy()[::-1], color=colormaps["tab10"].colors[0])
    ax.axvline(0.0, color="0.3", linewidth=0.8)
    _label(ax, title, "Importance", "")
    return fig


def plot_subgroups(report: SubgroupReport, metric: str = "auroc") -> Figure:
    """Per-group point estimate with 95% bootstrap interval for one fairness metric."""
    if metric not in SUBGROUP_METRICS:
        raise ValueError(f"metric must be one of {list(SUBGROUP_METRICS)}, got {metric!r}.")
    estimates = report.group_estimate(metric)
    values = np.array([est.value for est in estimates])
    errors = np.abs(np.array([[est.ci_low, est.ci_high] for est in estimates]).T - values)
    positions = np.arange(len(estimates))
    fig = Figure(figsize=(_FIGSIZE[0], 1.8 + 0.45 * len(estimates)), layout="constrained")
    ax = fig.subplots()
    ax.errorbar(values, positions, xerr=errors, fmt="o", capsize=4, color="tab:blue")
    tick_labels = [
        f"{row.group} (n={row.n}{', withheld' if metric == 'auroc' and row.flagged else ''})"
        for row in report.groups.itertuples(index=False)
    ]
    ax.set_yticks(positions, tick_labels)
    ax.invert_yaxis()
    label = SUBGROUP_METRICS[metric].label
    title = f"{label} by {report.attribute}\n{_describe_difference(report.differences[metric])}"
    _label(ax, title, f"{label} (95% bootstrap CI)", report.attribute)
    return fig


def plot_parity(predictions: Curves, units: str, title: str = "Predicted against measured",
                intervals: Mapping[str, tuple[ArrayLike, ArrayLike]] | None = None) -> Figure:
    """Predicted against measured values, one colour per model, RMSE in the legend; the
    first model's conformal intervals, if given, as vertical bars."""
    _check_curves(predictions)
    fig, ax = _new_axes(title, f"Measured ({units})", f"Predicted ({units})")
    colours = _model_colours(predictions)
    low, high = np.inf, -np.inf
    for position, (name, (y, p)) in enumerate(predictions.items()):
        y, p = np.asarray(y, dtype=float), np.asarray(p, dtype=float)
        rmse = float(np.sqrt(np.mean((y - p) ** 2)))
        if position == 0 and intervals and name in intervals:
            lower, upper = (np.asarray(a, dtype=float) for a in intervals[name])
            ax.vlines(y, lower, upper, color=colours[name], alpha=0.15, linewidth=1.0)
        ax.scatter(y, p, s=12, alpha=0.7, color=colours[name], label=f"{name} (RMSE {rmse:.3f})")
        low, high = min(low, y.min(), p.min()), max(high, y.max(), p.max())
    margin = 0.05 * (high - low or 1.0)
    ax.plot([low - margin, high + margin], [low - margin, high + margin], label="Identity",
            **_REFERENCE_STYLE)
    ax.set(xlim=(low - margin, high + margin), ylim=(low - margin, high + margin),
           aspect="equal")
    ax.legend(loc="upper left", fontsize="small")
    return fig


def _describe_difference(difference: Estimate) -> str:
    """Subtitle stating the between-group difference, or why there is none."""
    if np.isnan(difference.value):
        return "difference not estimable (fewer than two groups with a value)"
    return (
        f"max - min difference {difference.value:.3f} "
        f"(95% CI {difference.ci_low:.3f} to {difference.ci_high:.3f})"
    )


def figure_to_base64_png(fig: Figure) -> str:
    """Render ``fig`` as a PNG data URI for self-contained HTML, then close it."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=_DPI)
    if fig.canvas.manager is not None:
        # Only pyplot-created figures have a manager holding a global reference; pyplot is
        # necessarily imported already then, so this import costs nothing.
        import matplotlib.pyplot as plt

        plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
