"""Figures are returned (never shown), readable, colour-consistent and embeddable."""

from __future__ import annotations

import base64

import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_hex
from matplotlib.figure import Figure

from medora.evaluate import (
    bootstrap_indices,
    decision_curve,
    figure_to_base64_png,
    plot_decision_curve,
    plot_importance,
    plot_precision_recall,
    plot_reliability,
    plot_roc,
    plot_subgroups,
    subgroup_table,
)

PNG_PREFIX = "data:image/png;base64,"


@pytest.fixture
def curves(binary_data) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    y, p = binary_data
    return {"model": (y, p), "baseline": (y, np.full(y.size, y.mean()))}


def _line_colour(fig: Figure, label_start: str) -> str:
    """Colour of the line (or error-bar series) whose legend label starts with ``label_start``."""
    axes = fig.axes[0]
    lines = [line for line in axes.get_lines() if line.get_label().startswith(label_start)]
    lines += [c.lines[0] for c in axes.containers if c.get_label().startswith(label_start)]
    (line,) = lines
    return to_hex(line.get_color())


def _assert_embeddable(fig: Figure) -> None:
    uri = figure_to_base64_png(fig)
    assert uri.startswith(PNG_PREFIX)
    assert base64.b64decode(uri[len(PNG_PREFIX) :]).startswith(b"\x89PNG")


@pytest.mark.parametrize("plot", [plot_roc, plot_precision_recall, plot_reliability])
def test_curve_plots(plot, curves) -> None:
    fig = plot(curves)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert ax.get_title()
    assert ax.get_ylabel()
    assert any("baseline" in text.get_text() for text in ax.get_legend().get_texts())
    _assert_embeddable(fig)


def test_roc_legend_reports_auroc(curves) -> None:
    labels = [text.get_text() for text in plot_roc(curves).axes[0].get_legend().get_texts()]
    assert any(label.startswith("model (AUROC 0.") for label in labels)


def test_model_colours_are_consistent_across_figures(binary_data, curves) -> None:
    y, _ = binary_data
    predictions = {name: p for name, (_, p) in curves.items()}
    figures = [plot_roc(curves), plot_reliability(curves)]
    figures.append(plot_decision_curve(decision_curve(y, predictions)))
    for name in curves:
        assert len({_line_colour(fig, name) for fig in figures}) == 1


def test_reliability_has_histogram_panel(curves) -> None:
    fig = plot_reliability(curves)
    assert len(fig.axes) == 2
    assert fig.axes[1].get_xlabel() == "Predicted probability"


def test_decision_curve_plot(binary_data) -> None:
    y, p = binary_data
    fig = plot_decision_curve(decision_curve(y, {"model": p}))
    labels = [text.get_text() for text in fig.axes[0].get_legend().get_texts()]
    assert labels == ["model", "treat all", "treat none"]
    _assert_embeddable(fig)
    with pytest.raises(ValueError, match="missing columns"):
        plot_decision_curve(pd.DataFrame({"threshold": [0.1]}))


def test_importance_shows_top_15_largest_on_top() -> None:
    importance = pd.Series(np.arange(-5, 15, dtype=float), index=[f"f{i}" for i in range(20)])
    fig = plot_importance(importance, title="Permutation importance")
    ax = fig.axes[0]
    assert ax.get_title() == "Permutation importance"
    assert len(ax.patches) == 15
    assert ax.get_yticklabels()[-1].get_text() == "f19"
    _assert_embeddable(fig)


def test_subgroup_plot(binary_data) -> None:
    y, p = binary_data
    groups = np.where(np.arange(y.size) % 3 == 0, "A", "B")
    indices = bootstrap_indices(y, n_resamples=50, seed=0)
    report = subgroup_table(y, p, groups, 0.3, indices, attribute="sex")
    fig = plot_subgroups(report, metric="tpr")
    assert "True positive rate by sex" in fig.axes[0].get_title()
    _assert_embeddable(fig)
    with pytest.raises(ValueError, match="metric"):
        plot_subgroups(report, metric="accuracy")


def test_base64_closes_pyplot_figures() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure()
    assert figure_to_base64_png(fig).startswith(PNG_PREFIX)
    assert not plt.fignum_exists(fig.number)
