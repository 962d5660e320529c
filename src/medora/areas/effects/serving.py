"""A treatment effect as the service predicts it: one patient's covariates, validated against
the serving model's own schema, give the estimated effect (treated minus control) in the
outcome's unit with the model's interval (none for some models); ``threshold`` is the effect a
recommendation must exceed, ``flagged`` means "outside overlap" (no arm is recommended), and
``details`` hold the propensity, the overlap bounds and the recommended arm or the reason for
none."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import pandas as pd

from medora.areas.effects.data import EffectDataset
from medora.areas.effects.predictor import EffectPredictor, read_covariates
from medora.areas.effects.tasks import EffectTask
from medora.core.errors import InputValidationError
from medora.data.packaged import DatasetUnavailableError
from medora.serve.contract import (
    Catalogue,
    NamedInputs,
    Outcome,
    Page,
    Prepared,
    Score,
    TaskServing,
)
from medora.serve.inputs import RISK_DECIMALS, input_frame
from medora.serve.schemas import Feature

if TYPE_CHECKING:
    from medora.serve.db import Prediction
    from medora.serve.schemas import PredictionInfo

#: Nominal coverage of the effect models' intervals (mean +/- t(0.975) spread, or EconML's 95%).
EFFECT_INTERVAL_COVERAGE = 0.95


@functools.cache
def effect_dataset(task: EffectTask) -> EffectDataset | None:
    """An effect task's dataset, read once per process for what it says of the outcome and
    the covariates; None when the package that ships it is not installed."""
    try:
        return task.load()
    except DatasetUnavailableError:
        return None


def effect_unit(task: EffectTask) -> str:
    dataset = effect_dataset(task)
    if dataset is None:
        return "outcome units"
    return f"{dataset.outcome_unit} ({dataset.treated_label} minus {dataset.control_label})"


@functools.cache
def effect_inputs(task: EffectTask) -> list[Feature]:
    """An effect task's covariates, as its dataset has them (every one is required); none
    when the dataset's package is not installed."""
    dataset = effect_dataset(task)
    if dataset is None:
        return []
    inputs = []
    for name, values in dataset.covariates.items():
        description = f"baseline covariate of {dataset.name} (see the model card)"
        if isinstance(values.dtype, pd.CategoricalDtype):
            inputs.append(Feature(name=str(name), description=description, kind="categorical",
                                  unit="", expected=f"one of {list(values.cat.categories)}",
                                  required=True))
            continue
        binary = set(values.dropna().unique()) <= {0, 1}
        inputs.append(Feature(name=str(name), description=description,
                              kind="binary" if binary else "continuous", unit="",
                              expected="0 or 1" if binary else
                              f"a number (training patients: {values.min():g} to "
                              f"{values.max():g})", required=True))
    return inputs


def effect_input(predictor: EffectPredictor, inputs: NamedInputs) -> pd.DataFrame:
    """One patient's covariates, typed as the effect model was trained on them; every
    covariate is required and an unknown input is an error."""
    names = list(predictor.schema)
    unknown = [f"{name}: unknown input; the model takes {names}"
               for name in sorted(set(inputs) - set(names))]
    try:
        covariates = read_covariates(input_frame(names, inputs), predictor.schema, "inputs",
                                     file_lines=False)
    except InputValidationError as error:
        raise InputValidationError("inputs", [*error.problems, *unknown]) from None
    if unknown:
        raise InputValidationError("inputs", unknown)
    return covariates


def stored_covariates(covariates: pd.DataFrame) -> dict[str, float | str]:
    """Numbers as numbers, categories by their label."""
    return {name: float(values.iloc[0]) if values.dtype.kind == "f" else str(values.iloc[0])
            for name, values in covariates.items()}


class EffectServing(TaskServing):
    model_type = EffectPredictor
    flag_labels = ("outside overlap", "in overlap")
    page_template = "web/effect.html"
    task: EffectTask

    @property
    def outcome(self) -> Outcome:
        """An effect is a difference of outcomes, which a reviewer may know better than the
        model, outside the training data's range included: any finite value is accepted."""
        return Outcome("effect", effect_unit(self.task), EFFECT_INTERVAL_COVERAGE, None)

    def catalogue(self) -> Catalogue:
        return Catalogue(None, "flagged outside overlap: a propensity outside the serving "
                               "model's overlap region (Crump et al. 2009 trimming and the "
                               "arms' common support), where no arm is recommended",
                         effect_inputs(self.task))

    def prepare(self, model: EffectPredictor, inputs: object) -> Prepared:
        """Validated against ``model``'s covariates: they are its own, so a new serving
        version may take others."""
        covariates = effect_input(model, inputs)  # type: ignore[arg-type]  # named inputs
        return Prepared(stored_covariates(covariates), covariates)

    def score(self, model: EffectPredictor, prepared: Prepared) -> Score:
        """The effect with its interval, the recommended arm or the reason for none, flagged
        outside overlap."""
        covariates = prepared.model_input
        prediction, propensity, check, (recommendation,) = model.assess(
            self.task.encode(covariates), self.task.propensity_design(covariates))
        has_interval = prediction.lower is not None and prediction.upper is not None
        low, high = model.overlap.interval
        unit = model.outcome_unit
        return Score(
            risk=round(float(prediction.cate[0]), RISK_DECIMALS),
            lower=round(recommendation.ci_low, RISK_DECIMALS) if has_interval else None,
            upper=round(recommendation.ci_high, RISK_DECIMALS) if has_interval else None,
            threshold=model.threshold,
            threshold_source=(f"an arm is recommended only when the whole interval lies on one "
                              f"side of {model.threshold:g} {unit} and the patient's propensity "
                              f"is inside the training overlap [{low:.3f}, {high:.3f}] "
                              f"(trimming at {model.overlap.alpha:g}, Crump et al. 2009)"),
            flagged=not bool(check.inside[0]), explanation=[],
            details={"kind": "effect", "model": model.model.display_name,
                     "outcome": model.outcome_name, "outcome_unit": unit,
                     "higher_is_better": model.higher_is_better,
                     "treated_label": model.treated_label,
                     "control_label": model.control_label,
                     "interval": prediction.interval or "none: this model gives no "
                                                        "per-patient interval",
                     "propensity": round(float(propensity[0]), RISK_DECIMALS),
                     "propensity_method": model.propensity_method,
                     "overlap": [round(low, RISK_DECIMALS), round(high, RISK_DECIMALS)],
                     "inside_overlap": bool(check.inside[0]),
                     "recommendation": recommendation.recommended_arm,
                     "reason": recommendation.reason})

    def page(self, prediction: PredictionInfo, stored: Prediction) -> Page:
        """The recommendation, the effect and its overlap check, and the inputs as the
        catalogue describes them."""
        return Page(self.page_template, {"features": self.features})
