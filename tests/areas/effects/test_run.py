"""The effect run end to end on small slices of real data: every model trained and evaluated,
report, metrics and card written, the candidate registered with its overlap rule, and the
registered model's predictions refusing to recommend outside overlap."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from medora.areas.effects.data import EffectDataset
from medora.areas.effects.predictor import NO_RECOMMENDATION, EffectPredictor, predict_effects
from medora.areas.effects.run import DEEP_EFFECT_MODELS, EFFECT_BASELINES, train_effect_task
from medora.areas.effects.tasks import EffectTask
from medora.core.registry import get_task
from medora.registry.store import ModelStore
from medora.train.run import RunConfig


def sliced(name: str, n: int) -> EffectTask:
    """The task ``name`` on a random ``n``-patient slice of its data, so a quick run takes
    seconds."""
    full = get_task(name)
    assert isinstance(full, EffectTask)

    def load(**instance: int) -> EffectDataset:
        data = full.load(**instance)
        rows = np.sort(np.random.default_rng(0).choice(data.n, n, replace=False))
        return replace(data, covariates=data.covariates.iloc[rows].reset_index(drop=True),
                       treatment=data.treatment[rows], outcome=data.outcome[rows],
                       y0=None if data.y0 is None else data.y0[rows],
                       y1=None if data.y1 is None else data.y1[rows])

    return replace(full, name=f"test.{name}_small", loader=load)


def test_acic_run_writes_record_and_registers(tmp_path: Path) -> None:
    task = sliced("effect.acic2016", 400)
    store = ModelStore(tmp_path / "registry")
    run = train_effect_task(task, RunConfig(quick=True, out_dir=tmp_path / "run",
                                            progress=False), store=store)

    assert run.primary_model in DEEP_EFFECT_MODELS
    assert set(run.results) == {*DEEP_EFFECT_MODELS, *EFFECT_BASELINES}
    document = json.loads((tmp_path / "run" / "metrics.json").read_text())
    for name, metrics in document["models"].items():
        assert {"ate", "pehe", "ate_error", "policy_value", "policy_gain_vs_treat_all",
                "policy_gain_vs_treat_none"} <= set(metrics), name
        low, high = metrics["pehe"]["ci"]
        assert low <= metrics["pehe"]["value"] <= high
    assert set(document["comparisons"]) == {f"{run.primary_model}_vs_{other}"
                                            for other in run.results if other != run.primary_model}
    assert document["intervals"]["t_learner"]["method"] == "none"
    assert set(document["fitted_choices"]) == set(DEEP_EFFECT_MODELS)  # the baselines choose none
    for choices in document["fitted_choices"].values():
        losses = choices["first_member_validation_loss_by_piecewise_bins"]
        assert set(losses) == {"0", "8", "16"}
        assert str(choices["piecewise_bins"]) == min(losses, key=losses.__getitem__)
    assert document["overlap"]["training"]["rule"]["alpha"] == 0.1
    assert document["policy_evaluation"]["method"].startswith("doubly robust")
    assert document["references"]["truth_test"]["method"].startswith("mean of the true")
    assert "PEHE" in run.verdict and "Personalised policy" in run.verdict

    report = (tmp_path / "run" / "report.html").read_text()
    assert "Propensity histograms by arm" in report and "data:image/png;base64," in report
    assert "What the intervals mean" in report and "Crump" in report
    assert report.count("<code>piecewise_bins</code> = ") == len(DEEP_EFFECT_MODELS)
    card = (tmp_path / "run" / "card.md").read_text()
    assert f"# Model card: {task.name} v1" in card and "quick smoke setting" in card
    assert "gets no recommendation" in card and "| PEHE |" in card
    bins = run.primary.fitted_choices["piecewise_bins"]
    assert f"| Chosen on the validation patients | `piecewise_bins`: {bins}; " in card

    record = store.get(task.name)
    assert record.version == 1 and record.model_name == run.primary_model
    predictor = store.load(record)
    assert isinstance(predictor, EffectPredictor)
    assert predictor.overlap == run.primary.predictor.overlap


def test_predictions_refuse_outside_overlap(tmp_path: Path) -> None:
    task = sliced("effect.acic2016", 400)
    store = ModelStore(tmp_path / "registry")
    train_effect_task(task, RunConfig(quick=True, out_dir=tmp_path / "run", progress=False,
                                      register=True), store=store)
    data = task.load()
    raw = data.covariates.astype(str)
    predictions = predict_effects(task, raw, store=store).table
    outside = predictions[~predictions["inside_overlap"]]
    assert len(outside) > 0  # ACIC treats 18%: many patients have a propensity below 0.1
    assert (outside["recommendation"] == NO_RECOMMENDATION).all()
    assert outside["reason"].str.startswith("outside overlap: propensity").all()
    inside = predictions[predictions["inside_overlap"]]
    assert not inside["reason"].str.startswith("outside overlap").any()
    assert (predictions["effect_lower"] <= predictions["effect"]).all()


def test_randomised_trial_uses_design_propensity(tmp_path: Path) -> None:
    task = sliced("effect.actg175", 300)
    run = train_effect_task(task, RunConfig(quick=True, out_dir=tmp_path / "run",
                                            progress=False, register=False))
    assert run.version is None and not (tmp_path / "registry").exists()
    assert run.propensity_method.startswith("design probability 0.5")
    assert run.policy_population["method"].startswith("self-normalised inverse probability")
    assert run.overlap["test_fraction_outside"] == 0.0
    assert "difference in means over all 300 patients" in run.verdict
    assert "pehe" not in run.primary.metrics and run.comparisons == {}


def test_run_config_is_checked() -> None:
    task = get_task("effect.nhefs")
    assert isinstance(task, EffectTask)
    with pytest.raises(ValueError, match="unknown effect model 'mlp'"):
        train_effect_task(task, RunConfig(model="mlp", progress=False))
    with pytest.raises(ValueError, match="leave split unset"):
        train_effect_task(task, RunConfig(split="scaffold", progress=False))
