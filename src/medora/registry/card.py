"""Model cards following the model-card (Mitchell et al. 2019) and TRIPOD+AI (Collins et al.
2024) reporting items, rendered from a Run so every number in them traces to its data."""

from __future__ import annotations

from typing import TYPE_CHECKING

from jinja2 import Environment, PackageLoader, StrictUndefined

from medora.evaluate.bootstrap import Estimate
from medora.evaluate.fairness import SUBGROUP_METRICS
from medora.evaluate.metrics import BINARY_METRICS
from medora.evaluate.regression import METRIC_LABELS as REGRESSION_LABELS

if TYPE_CHECKING:
    from medora.registry.store import ModelVersion
    from medora.train.molecule_run import MoleculeRun
    from medora.train.run import Run


METRIC_LABELS = {**{name: spec.label
                    for name, spec in {**BINARY_METRICS, **SUBGROUP_METRICS}.items()},
                 **REGRESSION_LABELS}


def format_estimate(estimate: Estimate, digits: int = 3) -> str:
    """``0.722 (0.681 to 0.760)``, or ``n/a`` when undefined.

    "to" rather than a dash keeps intervals of differences readable: ``-0.008 (-0.022 to
    0.006)``.
    """
    if estimate.value != estimate.value:  # nan: undefined on this data
        return "n/a"
    return (f"{estimate.value:.{digits}f} ({estimate.ci_low:.{digits}f} to "
            f"{estimate.ci_high:.{digits}f})")


def template_environment(autoescape: bool) -> Environment:
    environment = Environment(loader=PackageLoader("medora", "templates"),
                              autoescape=autoescape, undefined=StrictUndefined,
                              trim_blocks=True, lstrip_blocks=True)
    environment.filters["estimate"] = format_estimate
    environment.globals["metric_label"] = lambda name: METRIC_LABELS[name]
    return environment


def render_card(run: Run, version: ModelVersion | None, template: str = "card.md") -> str:
    """The model card of ``run``'s candidate model as Markdown (``template``: card.md or a
    template extending it, such as card_ehr.md)."""
    return template_environment(autoescape=False).get_template(template).render(
        run=run, task=run.task, version=version, primary=run.primary)


def render_molecule_card(run: MoleculeRun, version: ModelVersion | None) -> str:
    """The model card of a molecule task's candidate model as Markdown."""
    return template_environment(autoescape=False).get_template("card_molecule.md").render(
        run=run, task=run.task, version=version, primary=run.primary)
