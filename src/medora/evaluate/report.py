"""The run report: one self-contained HTML page (plots embedded) a person can read offline; here
the binary-risk report every area that predicts a risk renders, and the atomic write."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from medora.evaluate.plots import (
    figure_to_base64_png,
    plot_decision_curve,
    plot_importance,
    plot_precision_recall,
    plot_reliability,
    plot_roc,
    plot_subgroups,
)

if TYPE_CHECKING:
    from medora.train.run import Run


def report_figures(run: Run) -> dict[str, object]:
    """Every figure of the report as a data URI, keyed by where the template puts it."""
    curves = {r.display_name: (run.y_test, r.test_probability) for r in run.results.values()}
    labelled_curve = run.decision_curve.replace(
        {"strategy": {r.name: r.display_name for r in run.results.values()}}
    )
    return {
        "roc": figure_to_base64_png(plot_roc(curves)),
        "precision_recall": figure_to_base64_png(plot_precision_recall(curves)),
        "reliability": figure_to_base64_png(plot_reliability(curves)),
        "decision_curve": figure_to_base64_png(plot_decision_curve(labelled_curve)),
        "importance": {
            r.name: figure_to_base64_png(
                plot_importance(r.importance, f"{r.display_name}: {r.explanation_method}")
            )
            for r in run.results.values()
        },
        "subgroups": {
            attribute.name: figure_to_base64_png(
                plot_subgroups(run.primary.subgroups[attribute.name], metric="auroc")
            )
            for attribute in run.task.sensitive_attributes
        },
    }


def render_report(run: Run, template: str = "report.html") -> str:
    """The report of a binary risk run (``template``: report.html or a template extending
    it, such as report_ehr.html)."""
    from medora.registry.card import template_environment

    return (
        template_environment(autoescape=True)
        .get_template(template)
        .render(run=run, task=run.task, primary=run.primary, figures=report_figures(run))
    )


def write_page(text: str, path: Path) -> Path:
    temporary = path.with_suffix(".html.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)
    return path


def write_report(run: Run, path: Path, template: str = "report.html") -> Path:
    return write_page(render_report(run, template), path)
