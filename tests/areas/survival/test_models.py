"""Survival models: the losses against hand computation, DeepSurv and logistic hazard on
simulated proportional-hazards data, the surface every model shares, and the licence boundary
(medora's core never imports scikit-survival)."""

from __future__ import annotations

import math
import subprocess
import sys
from importlib.util import find_spec

import numpy as np
import pandas as pd
import pytest
import torch

from medora.areas.survival.metrics import harrell_c_index
from medora.areas.survival.models import (
    CoxPHModel,
    DeepSurv,
    LogisticHazard,
    breslow_cumulative_hazard,
    cox_partial_likelihood_loss,
    logistic_hazard_loss,
)
from medora.train.trainer import TrainerConfig

needs_sksurv = pytest.mark.skipif(find_spec("sksurv") is None,
                                  reason="scikit-survival (gpl-baselines extra) not installed")


def _t(*values: float) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float64)


def test_cox_loss_with_tied_times_matches_breslow_by_hand() -> None:
    h = _t(0.5, -0.2, 1.0, 0.0)
    time, event = _t(2.0, 1.0, 1.0, 3.0), _t(1, 1, 0, 1)
    # Events at t=1 (patient 1; patient 2 censored at the same time stays in the risk set),
    # t=2 (patient 0) and t=3 (patient 3).
    e = [math.exp(v) for v in (0.5, -0.2, 1.0, 0.0)]
    by_hand = -((-0.2 - math.log(sum(e))) + (0.5 - math.log(e[0] + e[3]))
                + (0.0 - math.log(e[3]))) / 3
    assert float(cox_partial_likelihood_loss(h, time, event)) == pytest.approx(by_hand)
    # Two events tied at t=1: each one's risk set holds both (Breslow).
    tied = cox_partial_likelihood_loss(h, time, _t(1, 1, 1, 1))
    both = -((-0.2 - math.log(sum(e))) + (1.0 - math.log(sum(e))) + (0.5 - math.log(e[0] + e[3]))
             + (0.0 - math.log(e[3]))) / 4
    assert float(tied) == pytest.approx(both)


def test_cox_loss_single_event_and_all_censored() -> None:
    h = _t(0.3, -0.1, 0.7).requires_grad_(True)
    single = cox_partial_likelihood_loss(h, _t(1.0, 2.0, 3.0), _t(0, 1, 0))
    e = np.exp([-0.1, 0.7])
    assert float(single.detach()) == pytest.approx(-(-0.1 - math.log(e.sum())))
    censored = cox_partial_likelihood_loss(h, _t(1.0, 2.0, 3.0), _t(0, 0, 0))
    censored.backward()
    assert float(censored.detach()) == 0.0 and torch.equal(h.grad, torch.zeros(3))


def test_cox_loss_averages_ensemble_members() -> None:
    time, event = _t(1.0, 2.0, 3.0), _t(1, 1, 0)
    members = torch.stack([_t(0.1, 0.2, 0.3), _t(-1.0, 0.5, 0.0)])
    each = [cox_partial_likelihood_loss(m, time, event) for m in members]
    assert float(cox_partial_likelihood_loss(members, time, event)) == pytest.approx(
        float(sum(each) / 2))


def test_logistic_hazard_loss_by_hand() -> None:
    logits = _t(0.0, 1.0, -1.0).expand(3, 3)  # three patients, three intervals

    def s(z: float) -> float:
        return 1 / (1 + math.exp(-z))
    # Patient 0: event in interval 1; patient 1: censored in interval 2; patient 2: censored
    # in interval 0 (contributes nothing).
    loss = logistic_hazard_loss(logits, _t(1, 2, 0), _t(1, 0, 0))
    p0 = -math.log(1 - s(0.0)) - math.log(s(1.0))
    p1 = -math.log(1 - s(0.0)) - math.log(1 - s(1.0))
    assert float(loss) == pytest.approx((p0 + p1 + 0.0) / 3)


def test_zero_weight_removes_a_patient_from_each_members_loss() -> None:
    """Case weights, one row per member: a member with weight 0 on a patient scores as if
    the patient were absent (from its own term and from every risk set), so the members of a
    cross-fitted ensemble each see their own patients in one batch."""
    h = _t(0.5, -0.2, 1.0, 0.0, 0.3)
    time, event = _t(2.0, 1.0, 1.0, 3.0, 2.5), _t(1, 1, 0, 1, 1)
    weight = torch.tensor([[1, 1, 1, 1, 0], [0, 1, 1, 1, 1]], dtype=torch.float64)
    weighted = cox_partial_likelihood_loss(h.expand(2, 5), time, event, weight)
    kept = [weight[m].bool() for m in range(2)]
    each = [cox_partial_likelihood_loss(h[k], time[k], event[k]) for k in kept]
    assert float(weighted) == pytest.approx(float(sum(each) / 2))

    logits = torch.linspace(-1.0, 1.0, 15, dtype=torch.float64).view(5, 3)
    interval = _t(1, 2, 0, 2, 1)
    weighted = logistic_hazard_loss(logits.expand(2, 5, 3), interval, event, weight)
    each = [logistic_hazard_loss(logits[k], interval[k], event[k]) for k in kept]
    assert float(weighted) == pytest.approx(float(sum(each) / 2))


def test_cox_loss_member_whose_risk_sets_are_all_weightless_has_a_finite_gradient() -> None:
    h = _t(0.1, 0.2, 0.3).expand(2, 3).clone().requires_grad_(True)
    # Member 1 keeps only the first patient: the later risk sets hold nobody it weighs.
    weight = _t(1, 1, 1, 1, 0, 0).view(2, 3)
    loss = cox_partial_likelihood_loss(h, _t(1.0, 2.0, 3.0), _t(1, 1, 1), weight)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(h.grad).all()


def test_breslow_baseline_by_hand() -> None:
    times, hazard = breslow_cumulative_hazard(np.zeros(4), np.array([1.0, 2.0, 2.0, 3.0]),
                                              np.array([True, True, False, False]))
    assert times.tolist() == [1.0, 2.0]
    assert hazard == pytest.approx([1 / 4, 1 / 4 + 1 / 3])


def simulated(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """Proportional hazards with a non-linear log-risk, exponential baseline, uniform
    censoring: about 60% events."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4))
    log_risk = x[:, 0] + 0.8 * x[:, 1] ** 2 - 0.5 * x[:, 2]
    event_time = rng.exponential(1 / (0.1 * np.exp(log_risk)))
    censor = rng.uniform(0, 30, size=n)
    return (pd.DataFrame(x, columns=list("abcd")), np.minimum(event_time, censor),
            event_time <= censor, log_risk)


def quick_trainer() -> TrainerConfig:
    return TrainerConfig(max_epochs=300, patience=30, batch_size=4096, learning_rate=1e-2,
                         progress=False)


@pytest.fixture(scope="module")
def data() -> tuple:
    return simulated(600, 0), simulated(400, 1)


def test_deepsurv_recovers_the_true_risk_ordering(data) -> None:
    (x, time, event, _), (x_test, t_test, e_test, true_risk) = data
    model = DeepSurv(hidden_sizes=(32,), n_members=2, trainer=quick_trainer(), seed=0)
    model.fit(x, time, event)
    best = harrell_c_index(t_test, e_test, true_risk)
    assert harrell_c_index(t_test, e_test, model.predict_risk(x_test)) > best - 0.05
    # The linear Cox model cannot represent the squared term.
    cox = CoxPHModel().fit(x, time, event)
    assert harrell_c_index(t_test, e_test, cox.predict_risk(x_test)) < best - 0.05


def test_deep_members_are_cross_fitted_and_choose_their_weight_decay(data) -> None:
    (x, time, event, _), (x_test, t_test, e_test, _) = data
    model = DeepSurv(n_members=3, trainer=quick_trainer(), seed=0, weight_decays=(0.01, 300.0))
    model.fit(x.iloc[:400], time[:400], event[:400], x_val=x.iloc[400:],
              time_val=time[400:], event_val=event[400:])
    assert [row["weight_decay"] for row in model.search_] == [0.01, 300.0]
    losses = [row["validation_loss"] for row in model.search_]
    # A decay of 300 holds every weight near zero: no better than a constant risk.
    assert model.weight_decay_ == 0.01 and losses[0] < losses[1]
    assert model.network_.n_members == 3
    assert harrell_c_index(t_test, e_test, model.predict_risk(x_test)) > 0.7
    with pytest.raises(ValueError, match="at least 2"):
        DeepSurv(n_members=1)


@pytest.mark.parametrize("make", [
    lambda: DeepSurv(n_members=2, trainer=quick_trainer(), seed=3),
    lambda: LogisticHazard(n_members=2, trainer=quick_trainer(), seed=3),
    lambda: CoxPHModel(),
], ids=["deepsurv", "logistic_hazard", "cox_ph"])
def test_survival_curves_are_monotone_probabilities_and_reproducible(data, make) -> None:
    (x, time, event, _), (x_test, t_test, e_test, _) = data
    times = np.linspace(0.0, 25.0, 30)
    first = make().fit(x, time, event)
    curves = first.predict_survival(x_test, times)
    assert curves.shape == (len(x_test), times.size)
    assert (curves >= 0).all() and (curves <= 1).all()
    assert (np.diff(curves, axis=1) <= 1e-12).all()
    assert harrell_c_index(t_test, e_test, first.predict_risk(x_test)) > 0.6
    again = make().fit(x, time, event)
    np.testing.assert_array_equal(again.predict_risk(x_test), first.predict_risk(x_test))


def test_surface_refuses_bad_targets(data) -> None:
    (x, time, event, _), _ = data
    with pytest.raises(ValueError, match="boolean"):
        CoxPHModel().fit(x, time, event.astype(int))
    with pytest.raises(ValueError, match="no event"):
        CoxPHModel().fit(x, time, np.zeros(len(x), dtype=bool))
    with pytest.raises(ValueError, match="together"):
        CoxPHModel().fit(x, time, event, x_val=x)
    with pytest.raises(ValueError, match="strictly increasing"):
        CoxPHModel().fit(x, time, event).predict_survival(x, [2.0, 1.0])


@needs_sksurv
@pytest.mark.parametrize("name", ["coxnet", "random_survival_forest", "gradient_boosted_cox"])
def test_gpl_baselines_share_the_surface(data, name) -> None:
    from medora.areas.survival.factory import build_survival_model

    (x, time, event, _), (x_test, t_test, e_test, _) = data
    model = build_survival_model(name, seed=0, quick=True).fit(x, time, event)
    curves = model.predict_survival(x_test, np.linspace(0.0, 25.0, 10))
    assert (np.diff(curves, axis=1) <= 1e-12).all() and curves.max() <= 1
    assert harrell_c_index(t_test, e_test, model.predict_risk(x_test)) > 0.6


def test_gpl_baseline_says_when_scikit_survival_is_missing(data, monkeypatch) -> None:
    from medora.areas.survival import gpl as survival_gpl

    monkeypatch.setattr(survival_gpl, "sksurv_available", lambda: False)
    (x, time, event, _), _ = data
    with pytest.raises(survival_gpl.GPLBaselineUnavailableError, match="gpl-baselines"):
        survival_gpl.RandomSurvivalForestModel().fit(x, time, event)


def test_core_does_not_import_scikit_survival() -> None:
    code = ("import sys, medora.models, medora.areas.survival.run, medora.cli.app; "
            "from medora.areas.survival.factory import build_survival_model; "
            "build_survival_model('coxnet'); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'sksurv'))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "[]"
