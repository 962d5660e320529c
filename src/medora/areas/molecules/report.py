"""The molecule run's report: the comparison, the parity plot with the candidate's conformal
intervals, and the applicability domain."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from medora.evaluate.plots import figure_to_base64_png, plot_parity
from medora.evaluate.report import write_page

if TYPE_CHECKING:
    from medora.areas.molecules.run import MoleculeRun


def render_molecule_report(run: MoleculeRun) -> str:
    from medora.registry.card import template_environment

    predictions = {r.display_name: (run.y_test, r.test_prediction) for r in run.results.values()}
    primary = run.primary
    parity = plot_parity(predictions, run.task.units,
                         intervals={primary.display_name: (primary.test_lower,
                                                           primary.test_upper)})
    return (
        template_environment(autoescape=True)
        .get_template("report_molecule.html")
        .render(run=run, task=run.task, primary=primary,
                figures={"parity": figure_to_base64_png(parity)})
    )


def write_molecule_report(run: MoleculeRun, path: Path) -> Path:
    return write_page(render_molecule_report(run), path)
