"""Model cards following the model-card (Mitchell et al. 2019) and TRIPOD+AI (Collins et al.
2024) reporting items, rendered from a Run so every number in them traces to its data."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from jinja2 import BaseLoader, ChoiceLoader, Environment, PackageLoader, StrictUndefined

from medora.core.registry import areas
from medora.evaluate.bootstrap import format_estimate
from medora.evaluate.fairness import SUBGROUP_METRICS
from medora.evaluate.metrics import BINARY_METRICS
from medora.evaluate.regression import METRIC_LABELS as REGRESSION_LABELS

if TYPE_CHECKING:
    from medora.registry.store import ModelVersion


METRIC_LABELS = {**{name: spec.label
                    for name, spec in {**BINARY_METRICS, **SUBGROUP_METRICS}.items()},
                 **REGRESSION_LABELS}


@functools.cache
def template_loader() -> BaseLoader:
    """medora's shared templates (the binary-risk report and card, the web pages), then each
    installed area's own, so an area's template can extend a shared one by name."""
    return ChoiceLoader([PackageLoader("medora", "templates"),
                         *(PackageLoader(area.template_package, "templates")
                           for area in areas() if area.template_package)])


def template_environment(autoescape: bool) -> Environment:
    environment = Environment(loader=template_loader(),
                              autoescape=autoescape, undefined=StrictUndefined,
                              trim_blocks=True, lstrip_blocks=True)
    environment.filters["estimate"] = format_estimate
    environment.globals["metric_label"] = lambda name: METRIC_LABELS[name]
    return environment


def render_card(run: Any, version: ModelVersion | None, template: str = "card.md") -> str:
    """The model card of ``run``'s candidate model as Markdown (``template``: card.md, the
    binary-risk card, or an area's own, such as card_molecule.md). The template sees the run,
    its task, the registered version and, where the run compares models, its candidate as
    ``primary``."""
    context = {"run": run, "task": run.task, "version": version}
    if hasattr(run, "primary"):  # a RunRecord: the candidate among the compared models
        context["primary"] = run.primary
    return template_environment(autoescape=False).get_template(template).render(**context)
