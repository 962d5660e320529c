"""Treatment-effect metrics: error against the truth, reference ATE estimators (the book's NHEFS
estimate), policy value, overlap refusal, recommendations and input validation."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from scipy import stats
from scipy.special import expit
from sklearn.linear_model import LogisticRegression

from medora.areas.effects.metrics import (
    OverlapRule,
    ate_absolute_error,
    difference_in_means,
    fit_propensity,
    ipw_ate,
    overlap_summary,
    pehe,
    policy_from_cate,
    policy_value,
    recommend,
)
from medora.areas.effects.tasks import EffectTask
from medora.core.registry import get_task


def _task(name: str) -> EffectTask:
    task = get_task(name)
    assert isinstance(task, EffectTask)
    return task


def test_pehe_and_ate_error_on_a_hand_example() -> None:
    assert pehe([1.0, 2.0, 3.0], [1.0, 1.0, 1.0]) == pytest.approx(np.sqrt(5 / 3))
    assert pehe([1.0, 1.0], [1.0, 1.0]) == 0.0
    assert ate_absolute_error(2.5, [1.0, 1.0, 1.0]) == pytest.approx(1.5)
    assert ate_absolute_error(0.0, [1.0, 3.0]) == pytest.approx(2.0)


def test_nhefs_ip_weighted_ate_reproduces_the_book() -> None:
    task = _task("effect.nhefs")
    data = task.load()
    assert data.reference is not None
    design = task.propensity_design(data.covariates).to_numpy()
    result = ipw_ate(data.outcome, data.treatment, covariates=design)
    estimate = result.estimate
    # Hernán and Robins, What If (2020), Section 12.2: 3.4 kg (95% CI 2.4 to 4.5).
    assert round(estimate.value, 1) == data.reference.value
    assert estimate.ci_low == pytest.approx(data.reference.ci_low, abs=0.05)
    assert estimate.ci_high == pytest.approx(data.reference.ci_high, abs=0.05)
    # Section 12.3: stabilised weights have mean close to 1.
    assert result.stabilised_weights.mean() == pytest.approx(1.0, abs=0.01)
    assert (estimate.n_treated, estimate.n_control) == (403, 1163)
    bootstrap = ipw_ate(data.outcome, data.treatment, covariates=design, interval="bootstrap",
                        n_resamples=200, seed=0).estimate
    assert bootstrap.value == estimate.value
    assert data.reference.ci_low - 0.3 < bootstrap.ci_low < estimate.value
    assert estimate.value < bootstrap.ci_high < data.reference.ci_high + 0.3


def test_fit_propensity_matches_an_unpenalised_logistic_regression() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(500, 3)) * [1.0, 10.0, 100.0]
    a = rng.binomial(1, expit(x @ [0.8, -0.05, 0.004]))
    reference = LogisticRegression(C=np.inf, max_iter=10_000, tol=1e-12).fit(x / x.std(axis=0), a)
    np.testing.assert_allclose(fit_propensity(x, a),
                               reference.predict_proba(x / x.std(axis=0))[:, 1], atol=1e-5)


def test_separated_arms_are_reported_as_no_overlap() -> None:
    x = np.arange(20.0)
    with pytest.raises(ValueError, match="separate treated from control"):
        fit_propensity(x, (x >= 10).astype(int))
    with pytest.raises(ValueError, match="constant"):
        fit_propensity(np.ones((10, 1)), np.tile([0, 1], 5))
    collinear = np.column_stack([x, 2 * x])
    with pytest.raises(ValueError, match="singular"):
        fit_propensity(collinear, np.tile([0, 1], 10))


def test_actg175_difference_in_means_with_welch_interval() -> None:
    data = _task("effect.actg175").load()
    estimate = difference_in_means(data.outcome, data.treatment)
    treated, control = data.outcome[data.treatment == 1], data.outcome[data.treatment == 0]
    welch = stats.ttest_ind(treated, control, equal_var=False).confidence_interval()
    assert estimate.value == pytest.approx(treated.mean() - control.mean())
    assert (estimate.ci_low, estimate.ci_high) == pytest.approx((welch.low, welch.high))
    # Adding didanosine raised CD4 by about 70 cells/mm^3 more than zidovudine alone.
    assert 50 < estimate.ci_low < estimate.value < estimate.ci_high < 95
    # In a trial, IP weighting by the design probability gives the same point estimate.
    design = ipw_ate(data.outcome, data.treatment,
                     propensity=np.full(data.n, data.design_propensity))
    assert design.estimate.value == pytest.approx(estimate.value)


def _heterogeneous(n: int = 4000, seed: int = 0
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """x ~ N(0, 1), confounded treatment P(A=1|x) = expit(x / 2) and effect tau(x) = x: the
    treatment helps where x > 0 and harms where x < 0. The oracle policy's value is
    E[max(x, 0)] = 0.399; treat-all and treat-none are both worth E[x] = 0."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    propensity = expit(x / 2)
    a = rng.binomial(1, propensity)
    y = x * a + rng.normal(scale=0.5, size=n)
    return x, a, y, propensity, x  # the last one is the true effect


@pytest.mark.parametrize("doubly_robust", [False, True])
def test_oracle_policy_beats_treat_all_and_treat_none(doubly_robust: bool) -> None:
    x, a, y, propensity, tau = _heterogeneous()
    oracle = policy_from_cate(tau, higher_is_better=True)
    models = {"mu0": np.zeros_like(x), "mu1": x} if doubly_robust else {}
    value = policy_value(y, a, oracle, propensity, higher_is_better=True, n_resamples=300,
                         seed=1, **models)
    assert value.policy.value == pytest.approx(0.399, abs=0.05)
    assert value.treat_all.value == pytest.approx(0.0, abs=0.08)
    assert value.treat_none.value == pytest.approx(0.0, abs=0.08)
    assert value.gain_vs_treat_all.ci_low > 0 and value.gain_vs_treat_none.ci_low > 0
    assert value.treated_fraction == pytest.approx(0.5, abs=0.03)
    assert ("doubly robust" in value.method) == doubly_robust
    assert value.to_dict()["higher_is_better"] is True


def test_policy_value_is_direction_aware() -> None:
    _, a, y, propensity, tau = _heterogeneous()
    # The same world with the outcome's sign flipped: lower is now better, the effect is -x,
    # and the best policy still treats where x > 0.
    policy = policy_from_cate(-tau, higher_is_better=False)
    np.testing.assert_array_equal(policy, policy_from_cate(tau, higher_is_better=True))
    value = policy_value(-y, a, policy, propensity, higher_is_better=False, n_resamples=300)
    assert value.policy.value == pytest.approx(-0.399, abs=0.05)
    assert value.gain_vs_treat_all.value > 0 and value.gain_vs_treat_none.ci_low > 0
    # The worst policy (treat only the harmed) loses to both.
    worst = policy_value(-y, a, 1 - policy, propensity, higher_is_better=False,
                         n_resamples=300)
    assert worst.gain_vs_treat_all.ci_high < 0 and worst.gain_vs_treat_none.ci_high < 0


def test_policy_threshold_is_a_minimum_benefit() -> None:
    cate = np.array([-2.0, -0.5, 0.5, 2.0])
    np.testing.assert_array_equal(policy_from_cate(cate, True, threshold=1.0), [0, 0, 0, 1])
    np.testing.assert_array_equal(policy_from_cate(cate, False, threshold=1.0), [1, 0, 0, 0])


def test_overlap_rule_marks_the_right_patients_with_reasons() -> None:
    # Treated seen at 0.30-0.95, control at 0.05-0.60: both arms seen only within [0.3, 0.6].
    rule = OverlapRule.fit([0.3, 0.5, 0.95, 0.05, 0.2, 0.6], [1, 1, 1, 0, 0, 0], alpha=0.1)
    assert (rule.support_low, rule.support_high) == (0.3, 0.6)
    assert rule.interval == (0.3, 0.6)
    check = rule.check([0.05, 0.2, 0.3, 0.45, 0.6, 0.7, 0.95])
    np.testing.assert_array_equal(check.inside, [False, False, True, True, True, False, False])
    assert "below 0.1" in check.reasons[0] and "Crump" in check.reasons[0]
    assert "no comparable treated patients" in check.reasons[1]
    assert check.reasons[2:5] == ("", "", "")
    assert "no comparable untreated patients" in check.reasons[5]
    assert "above 0.9" in check.reasons[6] and "almost always treated" in check.reasons[6]
    assert check.fraction_outside == pytest.approx(4 / 7)


def test_a_trial_with_known_propensity_is_inside_overlap() -> None:
    rule = OverlapRule.fit(np.full(10, 0.5), np.tile([0, 1], 5))
    assert rule.check(np.full(3, 0.5)).inside.all()


def test_overlap_summary_per_arm() -> None:
    rng = np.random.default_rng(0)
    propensity = rng.uniform(0.02, 0.98, size=1000)
    a = rng.binomial(1, propensity)
    summary = overlap_summary(propensity, a)
    treated, control = summary["treated"], summary["control"]
    assert isinstance(treated, dict) and isinstance(control, dict)
    assert treated["n"] + control["n"] == 1000
    assert treated["min"] <= treated["q05"] <= treated["q50"] <= treated["q95"] <= treated["max"]
    assert control["q50"] < treated["q50"]
    # 0.16 / 0.96 of a uniform spread on [0.02, 0.98] lies outside [0.1, 0.9].
    assert summary["fraction_outside"] == pytest.approx(0.167, abs=0.03)
    assert "Crump" in summary["rule"]["reference"]  # type: ignore[index]


def test_recommendations() -> None:
    labels = {"treated_label": "zidovudine + didanosine", "control_label": "zidovudine"}
    better = recommend(60.0, 20.0, 100.0, higher_is_better=True, **labels)
    assert better.recommended_arm == "zidovudine + didanosine"
    worse = recommend(-60.0, -100.0, -20.0, higher_is_better=True, **labels)
    assert worse.recommended_arm == "zidovudine"
    unsure = recommend(10.0, -30.0, 50.0, higher_is_better=True, **labels)
    assert unsure.recommended_arm is None and "do not tell the two arms apart" in unsure.reason
    # Lower is better: a negative effect is a benefit.
    assert recommend(-3.0, -5.0, -1.0, higher_is_better=False,
                     **labels).recommended_arm == "zidovudine + didanosine"
    # A benefit smaller than the threshold is not worth treating for.
    small = recommend(2.0, 1.0, 3.0, higher_is_better=True, threshold=5.0, **labels)
    assert small.recommended_arm == "zidovudine"
    refused = recommend(60.0, 20.0, 100.0, higher_is_better=True,
                        overlap_reason="propensity 0.970 is above 0.9", **labels)
    assert refused.recommended_arm is None
    assert refused.reason == "outside overlap: propensity 0.970 is above 0.9"
    assert refused.to_dict()["recommended_arm"] is None


@pytest.mark.parametrize(("call", "message"), [
    (lambda: pehe([1.0, 2.0], [1.0]), "has 2 values, expected 1"),
    (lambda: pehe([np.nan], [1.0]), "missing or infinite"),
    (lambda: ate_absolute_error(float("nan"), [1.0]), "finite number"),
    (lambda: difference_in_means([1.0, 2.0, 3.0], [0, 1, 2]), "coded 0 .control. / 1"),
    (lambda: difference_in_means([1.0, 2.0], [1, 1]), "single arm"),
    (lambda: difference_in_means([1.0, 2.0, 3.0], [0, 1, 1]), "at least 2 patients"),
    (lambda: ipw_ate([1.0, 2.0], [0, 1]), "exactly one of covariates"),
    (lambda: ipw_ate([1.0, 2.0], [0, 1], propensity=[0.0, 0.5]), "strictly between 0 and 1"),
    (lambda: ipw_ate([1.0, 2.0], [0, 1], propensity=[0.5, 0.5], interval="exact"),
     "'robust' or 'bootstrap'"),
    (lambda: policy_value([1.0, 2.0], [0, 1], [1, 1], [0.5, 0.5], True, mu0=[0.0, 0.0]),
     "both mu0 and mu1"),
    (lambda: policy_value([1.0, 2.0], [0, 1], [1, 1], [0.5, 0.5], True, n_resamples=0),
     "positive integer"),
    (lambda: policy_from_cate([1.0], True, threshold=-1.0), ">= 0"),
    (lambda: OverlapRule.fit([0.2, 0.4], [0, 1], alpha=0.5), r"\[0, 0.5\)"),
    (lambda: recommend(1.0, 2.0, 3.0, higher_is_better=True, treated_label="a",
                       control_label="b"), "ci_low <= effect <= ci_high"),
])
def test_invalid_inputs_name_the_problem(call: Callable[[], object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()
