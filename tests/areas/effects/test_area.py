"""The effect area as the core sees it, without a running service: the row of `medora tasks`,
the models and the one split of `medora train`, and one patient served (the outcome, the inputs,
their validation, the score and its stored details), and artifacts pickled before the effect
modules moved into the area. tests/serve/test_personalized_serving.py
runs the same path through the API and the web pages."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from medora.areas.effects import EffectArea
from medora.areas.effects.baselines import TLearner
from medora.areas.effects.metrics import OverlapRule
from medora.areas.effects.predictor import EffectPredictor, covariate_schema
from medora.areas.effects.schemas import EffectDetails
from medora.areas.effects.tasks import ACTG175
from medora.core.area import AreaUsageError
from medora.core.errors import InputValidationError
from medora.serve.contract import ServedModelError
from medora.train.run import RunConfig

from ...conftest import load_as_pickled_before_the_move

AREA = EffectArea()


@pytest.fixture(scope="module")
def predictor() -> EffectPredictor:
    """A quick T-learner on ACTG 175 (no per-patient interval), with the trial's design
    propensity and an overlap rule that keeps it inside."""
    data = ACTG175.load()
    x = ACTG175.encode(data.covariates)
    model = TLearner(seed=0, max_iter=20).fit(x, data.treatment, data.outcome)
    return EffectPredictor(
        model=model, schema=covariate_schema(data.covariates), columns=list(x.columns),
        overlap=OverlapRule(alpha=0.1, support_low=0.0, support_high=1.0),
        propensity_method="the trial's randomisation probability",
        design_propensity=data.design_propensity, propensity_model=None,
        treated_label=data.treated_label, control_label=data.control_label,
        higher_is_better=data.higher_is_better, outcome_name=data.outcome_name,
        outcome_unit=data.outcome_unit)


def patient() -> dict[str, float | str | None]:
    row = ACTG175.load().covariates.iloc[0]
    return {name: float(value) for name, value in row.items()}


def test_the_tasks_row_the_models_and_the_one_split() -> None:
    assert {task.name for task in AREA.tasks()} == {"effect.actg175", "effect.nhefs",
                                                    "effect.acic2016"}
    row = AREA.describe(ACTG175)
    assert row.data.startswith("ACTG 175 randomised trial") and row.n == "1054"
    assert row.summary == "mean 54.45 treated, -17.07 control (cells/mm^3; randomised)"
    assert "causal_forest" in AREA.model_names(ACTG175)
    with pytest.raises(AreaUsageError, match=r"^effect\.actg175 offers the split\(s\) its "
                                             r"stratified random split, not 'scaffold'$"):
        AREA.train(ACTG175, RunConfig(split="scaffold"))


def test_the_outcome_and_inputs_come_from_the_dataset() -> None:
    serving = AREA.serving(ACTG175)
    outcome = serving.outcome
    assert (outcome.modality, outcome.interval_coverage, outcome.value_range) == (
        "effect", 0.95, None)
    assert outcome.unit == "cells/mm^3 (zidovudine + didanosine minus zidovudine)"
    catalogue = serving.catalogue()
    assert catalogue.threshold is None and "overlap" in catalogue.threshold_source
    inputs = {feature.name: feature for feature in catalogue.inputs}
    assert list(inputs) == list(ACTG175.load().covariates.columns)
    assert all(feature.required for feature in inputs.values())
    assert [inputs[name].kind for name in ("gender", "age", "strat")] == [
        "binary", "continuous", "categorical"]


def test_a_patient_is_validated_against_the_model_and_scored(
        predictor: EffectPredictor) -> None:
    serving = AREA.serving(ACTG175)
    serving.check_model(predictor)
    with pytest.raises(ServedModelError, match="not the EffectPredictor"):
        serving.check_model(object())
    inputs = patient()
    broken = {**inputs, "age": "old", "smoker": 1.0}
    del broken["wtkg"]
    with pytest.raises(InputValidationError) as refused:
        serving.prepare(predictor, broken)
    assert [problem.split(" ")[:2] for problem in refused.value.problems] == [
        ["column", "'age'"], ["column", "'wtkg'"], ["smoker:", "unknown"]]

    prepared = serving.prepare(predictor, inputs)
    assert prepared.stored == {**inputs, "strat": "3"}  # a categorical, stored by its label
    score = serving.score(predictor, prepared)
    assert score.lower is None and score.upper is None and not score.flagged
    details = EffectDetails.model_validate(score.details)
    assert details.recommendation is None and "no per-patient interval" in details.reason
    assert details.propensity == 0.5 and details.inside_overlap


def test_outside_overlap_the_patient_is_flagged(predictor: EffectPredictor) -> None:
    serving = AREA.serving(ACTG175)
    narrow = replace(predictor, overlap=OverlapRule(alpha=0.1, support_low=0.6,
                                                    support_high=0.9))
    score = serving.score(narrow, serving.prepare(narrow, patient()))
    assert score.flagged and score.details is not None
    assert score.details["reason"].startswith("outside overlap")
    assert serving.flag_labels == ("outside overlap", "in overlap")


# The modules an effect artifact named before 0.2, and where their classes live now.
_OLD_NAMES = {"medora.areas.effects.predictor": "medora.predict_effects",
              "medora.areas.effects.baselines": "medora.models.effect_baselines",
              "medora.areas.effects.metrics": "medora.evaluate.effects",
              "medora.areas.effects.models": "medora.models.effects"}


def test_an_artifact_pickled_before_the_move_loads_and_predicts(
        predictor: EffectPredictor, tmp_path: Path) -> None:
    loaded = load_as_pickled_before_the_move(predictor, _OLD_NAMES,
                                             tmp_path / "model.joblib")
    # The very classes of the area, not copies executed under the old names.
    assert type(loaded) is EffectPredictor and type(loaded.model) is TLearner
    assert type(loaded.overlap) is OverlapRule
    covariates = ACTG175.load().covariates.head(20)
    encoded, design = ACTG175.encode(covariates), ACTG175.propensity_design(covariates)
    assert np.array_equal(loaded.assess(encoded, design)[0].cate,
                          predictor.assess(encoded, design)[0].cate)


def test_a_file_with_a_header_and_no_patients_is_refused_by_name() -> None:
    from medora.areas.effects.predictor import read_covariates
    from medora.core.errors import InputValidationError
    from medora.data.tabular import NO_ROWS

    with pytest.raises(InputValidationError, match=NO_ROWS):
        read_covariates(pd.DataFrame(columns=["age", "wtkg"], dtype=str),
                        {"age": None, "wtkg": None}, "patients.csv")
