"""Survival and treatment-effect tasks through the service: listed with their inputs, predicted
with the survival curve or the recommended arm, stored, reviewed in their unit, and shown on the
patient page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from medora.areas.effects.metrics import OverlapRule
from medora.areas.effects.models import TARNet
from medora.areas.effects.predictor import EffectPredictor, covariate_schema
from medora.areas.effects.tasks import EffectTask
from medora.areas.survival.models import CoxPHModel
from medora.areas.survival.predictor import SurvivalPredictor, predict_survival_patients
from medora.areas.survival.tasks import SurvivalTask
from medora.core.registry import get_task
from medora.registry.store import CARD_NAME, ModelStore
from medora.serve.db import Prediction
from medora.train.trainer import TrainerConfig

from ..conftest import Service, WebUser, running_service

SURVIVAL_TASK = "oncology.gbsg2_recurrence"
EFFECT_TASK = "effect.actg175"


@pytest.fixture(scope="module")
def survival_predictor() -> SurvivalPredictor:
    """Cox PH on all 686 GBSG2 patients, ranked against them, as training registers it."""
    task = get_task(SURVIVAL_TASK)
    assert isinstance(task, SurvivalTask)
    _, x, time, event = task.load_survival()
    return SurvivalPredictor.fitted(CoxPHModel().fit(x, time, event), x,
                                    task.evaluation_times(time, event).horizons, task.time_unit)


def effect_predictor(overlap: OverlapRule) -> EffectPredictor:
    """A small TARNet on the ACTG 175 trial with its design propensity (randomised 1:1)."""
    task = get_task(EFFECT_TASK)
    assert isinstance(task, EffectTask)
    data = task.load()
    x = task.encode(data.covariates)
    trainer = TrainerConfig(max_epochs=5, patience=5, batch_size=256, progress=False)
    model = TARNet(representation_sizes=(32,), head_sizes=(16,), n_members=3, trainer=trainer,
                   seed=0).fit(x, data.treatment, data.outcome)
    return EffectPredictor(
        model=model, schema=covariate_schema(data.covariates), columns=list(x.columns),
        overlap=overlap, propensity_method="the trial's randomisation probability",
        design_propensity=data.design_propensity, propensity_model=None,
        treated_label=data.treated_label, control_label=data.control_label,
        higher_is_better=data.higher_is_better, outcome_name=data.outcome_name,
        outcome_unit=data.outcome_unit)


@pytest.fixture(scope="module")
def trial_predictor() -> EffectPredictor:
    return effect_predictor(OverlapRule(alpha=0.1, support_low=0.0, support_high=1.0))


def register(store: ModelStore, task: str, predictor: object, model_name: str) -> None:
    store.register(task, predictor, model_name=model_name, model_kind="deep", run_id="test",
                   data_fingerprint="0" * 64, metrics={}, config={},
                   documents=lambda record: {CARD_NAME: f"# {task}"})


@pytest.fixture
def personalized_service(database_url: str, tmp_path: Path,
                         survival_predictor: SurvivalPredictor,
                         trial_predictor: EffectPredictor, password_hash: str,
                         patient: dict[str, float | None]) -> Iterator[Service]:
    """The app with GBSG2 v1 (Cox PH) and ACTG 175 v1 (TARNet) approved."""
    store = ModelStore(tmp_path / "registry")
    register(store, SURVIVAL_TASK, survival_predictor, "cox_ph")
    register(store, EFFECT_TASK, trial_predictor, "tarnet")
    with running_service(database_url, store, password_hash, patient) as service:
        for task in (SURVIVAL_TASK, EFFECT_TASK):
            assert service.request("POST", f"/models/{task}/versions/1/approve",
                                   json={}).status_code == 200
        yield service


def gbsg2_patient(row: int = 0) -> dict[str, float]:
    _, x, _, _ = get_task(SURVIVAL_TASK).load_survival()
    return {name: float(value) for name, value in x.iloc[row].items()}


def actg_patient(row: int = 0) -> dict[str, float | str]:
    covariates = get_task(EFFECT_TASK).load().covariates.iloc[row]
    return {name: str(int(value)) if name == "strat" else float(value)
            for name, value in covariates.items()}


def predict(service: Service, task: str, inputs: dict[str, Any], patient_id: str = "MRN-7"
            ) -> Any:
    return service.request("POST", f"/predict/{task}", "clinician",
                           json={"patient_id": patient_id, "inputs": inputs})


def stored(service: Service) -> int:
    with service.database.read() as session:
        return session.query(Prediction).count()


def test_tasks_list_survival_and_effect_tasks_with_their_inputs(service: Service) -> None:
    tasks = {task["name"]: task for task in service.request("GET", "/tasks").json()}
    survival, effect = tasks[SURVIVAL_TASK], tasks[EFFECT_TASK]
    assert (survival["modality"], survival["unit"], survival["interval_coverage"]) == (
        "survival", "probability", None)
    inputs = {item["name"]: item for item in survival["inputs"]}
    assert set(inputs) == set(gbsg2_patient()) and all(i["required"] for i in inputs.values())
    assert inputs["horTh"]["kind"] == "categorical" and "'yes'" in inputs["horTh"]["expected"]
    assert "high-risk group" in survival["threshold_source"]
    assert (effect["modality"], effect["interval_coverage"]) == ("effect", 0.95)
    assert effect["unit"] == "cells/mm^3 (zidovudine + didanosine minus zidovudine)"
    covariates = {item["name"]: item for item in effect["inputs"]}
    assert set(covariates) == set(actg_patient())
    assert covariates["strat"]["expected"] == "one of [1, 2, 3]"
    assert covariates["gender"]["kind"] == "binary"
    assert "overlap" in effect["threshold_source"]


def test_a_survival_prediction_has_the_curve_percentile_and_group(
        personalized_service: Service, survival_predictor: SurvivalPredictor,
        tmp_path: Path) -> None:
    inputs = {**gbsg2_patient(3), "horTh": "yes", "tgrade": "III"}  # labels as in the dataset
    response = predict(personalized_service, SURVIVAL_TASK, inputs)
    assert response.status_code == 201, response.text
    prediction = response.json()
    details = prediction["details"]
    assert prediction["inputs"]["horTh"] == 1.0 and prediction["inputs"]["tgrade"] == 3.0
    assert (prediction["modality"], prediction["unit"]) == ("survival", "probability")
    assert prediction["risk_lower"] is None and prediction["interval_coverage"] is None
    # The same patient through `medora predict`: the service stores what the CLI prints.
    offline = predict_survival_patients(
        get_task(SURVIVAL_TASK), pd.DataFrame({k: [str(v)] for k, v in inputs.items()}),
        store=ModelStore(personalized_service.state.settings.registry_root)).table.iloc[0]
    assert prediction["risk"] == pytest.approx(offline["event_by_646d"], abs=1e-4)
    assert details["risk_percentile"] == pytest.approx(offline["risk_percentile"], abs=0.05)
    assert details["risk_group"] == offline["risk_group"]
    assert details["survival_at_horizons"] == pytest.approx(
        [offline["survival_at_426d"], offline["survival_at_646d"], offline["survival_at_1100d"]],
        abs=1e-4)
    assert details["horizons"] == [426.0, 646.0, 1099.5] and details["horizon"] == 646.0
    assert prediction["risk"] == pytest.approx(1 - details["survival_at_horizons"][1], abs=1e-4)
    curve = np.array(details["curve"])
    assert len(curve) == len(details["curve_times"]) == 60
    assert curve[0] == 1.0 and np.all(np.diff(curve) <= 1e-12)
    assert details["reference_patients"] == 686
    assert prediction["threshold"] == pytest.approx(survival_predictor.high_risk_threshold,
                                                    abs=1e-4)
    assert prediction["flagged"] == (details["risk_group"] == "high")
    assert prediction["flagged"] == (prediction["risk"] >= prediction["threshold"])


def test_survival_groups_split_the_training_patients_in_thirds(
        survival_predictor: SurvivalPredictor) -> None:
    _, x, _, _ = get_task(SURVIVAL_TASK).load_survival()
    assessment = survival_predictor.assess(x)
    counts = pd.Series(assessment.group).value_counts()
    assert set(counts.index) == {"low", "intermediate", "high"}
    assert all(abs(count - 686 / 3) <= 2 for count in counts)
    order = np.argsort(assessment.event_probability)
    assert np.all(np.diff(assessment.percentile[order]) >= 0)
    assert assessment.percentile.max() == 100.0


def test_a_survival_patient_with_a_missing_or_wrong_input_is_refused(
        personalized_service: Service) -> None:
    inputs = gbsg2_patient()
    del inputs["pnodes"]
    missing = predict(personalized_service, SURVIVAL_TASK, {**inputs, "tgrade": "IV"})
    assert missing.status_code == 422
    problems = " ".join(item["msg"] for item in missing.json()["detail"])
    assert "pnodes" in problems and "tgrade" in problems and "'III'" in problems
    assert "line" not in problems  # not a file: no line numbers
    assert stored(personalized_service) == 0


def test_an_effect_prediction_has_the_interval_and_the_recommended_arm(
        personalized_service: Service, trial_predictor: EffectPredictor) -> None:
    inputs = actg_patient(5)
    response = predict(personalized_service, EFFECT_TASK, inputs)
    assert response.status_code == 201, response.text
    prediction = response.json()
    details = prediction["details"]
    task = get_task(EFFECT_TASK)
    covariates = task.load().covariates.iloc[[5]]
    expected, _, _, (recommendation,) = trial_predictor.assess(
        task.encode(covariates), task.propensity_design(covariates))
    assert prediction["risk"] == pytest.approx(expected.cate[0], abs=1e-4)
    assert prediction["risk_lower"] == pytest.approx(recommendation.ci_low, abs=1e-4)
    assert prediction["risk_upper"] == pytest.approx(recommendation.ci_high, abs=1e-4)
    assert prediction["interval_coverage"] == 0.95 and prediction["threshold"] == 0.0
    assert details["recommendation"] == recommendation.recommended_arm
    assert details["reason"] == recommendation.reason
    assert (details["propensity"], details["inside_overlap"]) == (0.5, True)
    assert prediction["flagged"] is False
    assert details["treated_label"] == "zidovudine + didanosine"
    assert prediction["inputs"] == inputs  # strat by its label, the others as numbers


def test_an_effect_patient_with_unknown_or_wrong_covariates_is_refused(
        personalized_service: Service) -> None:
    response = predict(personalized_service, EFFECT_TASK,
                       {**actg_patient(), "strat": "4", "age": "old", "cd4": 300})
    assert response.status_code == 422
    problems = " ".join(item["msg"] for item in response.json()["detail"])
    assert "'strat' must be one of ['1', '2', '3']" in problems
    assert "'age' must be a number" in problems and "cd4: unknown input" in problems
    assert stored(personalized_service) == 0


def test_outside_overlap_the_prediction_is_flagged_and_nothing_is_recommended(
        database_url: str, tmp_path: Path, password_hash: str,
        patient: dict[str, float | None]) -> None:
    store = ModelStore(tmp_path / "registry")
    # Training saw both arms only at propensities 0.6-0.9, so a 1:1 patient has no like.
    register(store, EFFECT_TASK, effect_predictor(OverlapRule(0.1, 0.6, 0.9)), "tarnet")
    with running_service(database_url, store, password_hash, patient) as service:
        assert service.request("POST", f"/models/{EFFECT_TASK}/versions/1/approve",
                               json={}).status_code == 200
        prediction = predict(service, EFFECT_TASK, actg_patient()).json()
    assert prediction["flagged"] is True
    assert prediction["details"]["recommendation"] is None
    assert prediction["details"]["inside_overlap"] is False
    assert "propensity 0.500 is below 0.600" in prediction["details"]["reason"]


def test_reviews_take_a_probability_for_survival_and_any_value_for_an_effect(
        personalized_service: Service) -> None:
    survival = predict(personalized_service, SURVIVAL_TASK, gbsg2_patient()).json()
    effect = predict(personalized_service, EFFECT_TASK, actg_patient()).json()

    def override(prediction: dict[str, Any], value: float) -> Any:
        return personalized_service.request(
            "POST", f"/predictions/{prediction['id']}/reviews", "clinician",
            json={"action": "override", "reason": "seen in clinic", "clinician_value": value})

    assert override(survival, 35.0).status_code == 422
    assert override(survival, 0.35).status_code == 201
    assert override(effect, -40.0).status_code == 201


def test_the_patient_page_shows_the_survival_curve_and_the_recommendation(
        personalized_service: Service) -> None:
    user = WebUser(personalized_service, "clinician")
    form = user.get(f"/worklist?task={SURVIVAL_TASK}")
    assert 'name="input:horTh"' in form.text and 'name="input:pnodes"' in form.text
    fields = {f"input:{name}": f"{value:g}" for name, value in gbsg2_patient().items()}
    sent = user.submit(f"/worklist?task={SURVIVAL_TASK}", "/worklist/predict",
                       {"task": SURVIVAL_TASK, "patient_id": "MRN-8", **fields})
    assert sent.status_code == 303, sent.text
    page = user.get(sent.headers["location"]).text
    assert '<polyline class="curve" points="' in page and "Predicted survival" in page
    assert "by 1.8 years" in page and "training patients" in page
    assert re.search(r"<tr><td>1\.8 years</td><td class=\"number\">\d+%</td></tr>", page)

    effect_form = user.get(f"/worklist?task={EFFECT_TASK}")
    assert 'name="input:strat"' in effect_form.text
    fields = {f"input:{name}": str(value) for name, value in actg_patient().items()}
    sent = user.submit(f"/worklist?task={EFFECT_TASK}", "/worklist/predict",
                       {"task": EFFECT_TASK, "patient_id": "MRN-9", **fields})
    assert sent.status_code == 303, sent.text
    page = user.get(sent.headers["location"]).text
    assert "Recommendation" in page and "Estimated effect" in page
    assert "cells/mm^3" in page and "zidovudine + didanosine minus zidovudine" in page
    assert "propensity 0.500" in page
    worklist = user.get("/worklist").text
    assert "MRN-8" in worklist and "MRN-9" in worklist
