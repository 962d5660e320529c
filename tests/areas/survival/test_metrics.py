"""Survival metrics: hand-computed values, cross-checks against lifelines and scikit-survival
on random censored data, and the censoring edge cases."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from scipy import stats

from medora.areas.survival.metrics import (
    cumulative_dynamic_auc,
    harrell_c_index,
    integrated_brier_score,
    kaplan_meier,
    logrank_test,
    summarise_repeated_cv,
    survival_brier_score,
    uno_c_index,
)

# A five-patient cohort used as both training and test data in the hand computations.
# Censoring Kaplan-Meier G(t) = P(C > t), events leaving the risk set before censorings:
#   t=1: 5 at risk, 1 event  -> 4 at risk of censoring, 0 censored: G = 1
#   t=2: 4 at risk, 1 censored                         : G = 1 - 1/4 = 0.75
#   t=3: 3 at risk, 1 event  -> 2 at risk, 0 censored  : G = 0.75
#   t=4: 2 at risk, 1 event  -> 1 at risk, 0 censored  : G = 0.75
#   t=5: 1 at risk, 1 censored                         : G = 0
TIME = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
EVENT = np.array([True, False, True, True, False])


def random_cohort(seed: int, n: int = 150, integer_times: bool = False,
                  rounded_risk: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exponential event and censoring times (about 40% censored) and a noisy risk score.

    Integer times create ties in time (events with events, events with censorings); rounded
    risks create ties in risk. The longest time is an event, so the censoring distribution
    stays above 0 (scikit-survival refuses otherwise).
    """
    rng = np.random.default_rng(seed)
    event_time = rng.exponential(10.0, n)
    censor_time = rng.exponential(15.0, n)
    if integer_times:
        event_time, censor_time = np.ceil(event_time), np.ceil(censor_time)
    time = np.minimum(event_time, censor_time)
    event = event_time <= censor_time
    event[np.argmax(time)] = True
    risk = -event_time + rng.normal(0.0, 5.0, n)
    if rounded_risk:
        risk = np.round(risk)
    return time, event, risk


def train_test(time: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """60/40 split with the longest time in training, so the test times stay inside the
    training follow-up."""
    longest = int(np.argmax(time))
    rest = np.random.default_rng(seed).permutation(np.setdiff1d(np.arange(time.size), longest))
    cut = int(0.6 * time.size) - 1
    return np.sort(np.r_[rest[:cut], longest]), np.sort(rest[cut:])

def sksurv_cohort(seed: int, integer_times: bool, rounded_risk: bool) -> tuple[Any, ...]:
    """A random cohort split in two, with both halves also as scikit-survival's outcomes:
    (time, event, risk, train, test, y_train, y_test)."""
    from sksurv.util import Surv

    time, event, risk = random_cohort(seed, integer_times=integer_times,
                                      rounded_risk=rounded_risk)
    train, test = train_test(time, seed)
    return (time, event, risk, train, test, Surv.from_arrays(event[train], time[train]),
            Surv.from_arrays(event[test], time[test]))



COHORTS = [(seed, integer, rounded) for seed in range(4) for integer, rounded in
           ((False, False), (True, False), (False, True), (True, True))]


# -- Harrell -------------------------------------------------------------------------------------


def test_harrell_by_hand_with_ties_in_time_and_risk() -> None:
    time = np.array([1.0, 2.0, 2.0, 2.0, 3.0, 4.0])
    event = np.array([True, True, True, False, True, False])
    risk = np.array([5.0, 3.0, 2.0, 4.0, 3.0, 1.0])
    # Comparable pairs (i had the event, j event-free after T_i), with the score of each:
    #   i=0 (t1, r5): j=1..5, all later; 5 > 3, 2, 4, 3, 1           -> 5 of 5
    #   i=1 (t2, r3): j=3 (censored at t2, r4) 0; j=4 (r3) tie 0.5;
    #                 j=5 (r1) 1; j=2 is an event at the same time: not comparable -> 1.5 of 3
    #   i=2 (t2, r2): j=3 (r4) 0; j=4 (r3) 0; j=5 (r1) 1              -> 1 of 3
    #   i=4 (t3, r3): j=5 (r1) 1                                      -> 1 of 1
    assert harrell_c_index(time, event, risk) == pytest.approx(8.5 / 12)


def test_harrell_single_event() -> None:
    # One event at t=2: comparable with the two patients followed longer; risk 3 beats 1, ties 3.
    time = np.array([1.0, 2.0, 3.0, 4.0])
    event = np.array([False, True, False, False])
    assert harrell_c_index(time, event, np.array([9.0, 3.0, 1.0, 3.0])) == pytest.approx(0.75)


def test_all_censored_has_no_comparable_pairs() -> None:
    with pytest.raises(ValueError, match="every patient is censored"):
        harrell_c_index(TIME, np.zeros(5, dtype=bool), np.arange(5.0))


def test_a_lone_event_at_the_end_has_no_comparable_pairs() -> None:
    with pytest.raises(ValueError, match="no comparable pairs"):
        harrell_c_index(TIME, np.array([False, False, False, False, True]), np.arange(5.0))


@pytest.mark.parametrize(("seed", "integer_times", "rounded_risk"), COHORTS)
def test_harrell_matches_lifelines_and_scikit_survival(seed: int, integer_times: bool,
                                                        rounded_risk: bool) -> None:
    from lifelines.utils import concordance_index

    sksurv_metrics = pytest.importorskip("sksurv.metrics")
    time, event, risk = random_cohort(seed, integer_times=integer_times,
                                      rounded_risk=rounded_risk)
    ours = harrell_c_index(time, event, risk)
    # lifelines takes predicted survival times: higher means lower risk.
    assert ours == pytest.approx(concordance_index(time, -risk, event), abs=1e-8)
    expected = sksurv_metrics.concordance_index_censored(event, time, risk)[0]
    assert ours == pytest.approx(expected, abs=1e-8)


# -- Uno -----------------------------------------------------------------------------------------


def test_uno_by_hand() -> None:
    risk = np.array([4.0, 5.0, 3.0, 1.0, 2.0])
    # Events at t=1, 3, 4 weigh 1/G(T)^2 = 1, 1/0.75^2 = 16/9, 16/9.
    #   i=0 (t1, r4): j=1..4 (r5, r3, r1, r2) -> 3 of 4, weight 1
    #   i=2 (t3, r3): j=3, 4 (r1, r2)          -> 2 of 2, weight 16/9
    #   i=3 (t4, r1): j=4 (r2)                 -> 0 of 1, weight 16/9
    both = {"train_time": TIME, "train_event": EVENT}
    assert uno_c_index(TIME, EVENT, risk, **both) == pytest.approx(
        (3 + 2 * 16 / 9) / (4 + 2 * 16 / 9 + 16 / 9))
    # tau = 3.5 drops the pairs whose case is at t=4.
    assert uno_c_index(TIME, EVENT, risk, tau=3.5, **both) == pytest.approx(
        (3 + 2 * 16 / 9) / (4 + 2 * 16 / 9))
    # Harrell on the same data, for contrast: 5 of 7.
    assert harrell_c_index(TIME, EVENT, risk) == pytest.approx(5 / 7)


@pytest.mark.parametrize(("seed", "integer_times", "rounded_risk"), COHORTS)
def test_uno_matches_scikit_survival(seed: int, integer_times: bool, rounded_risk: bool) -> None:
    sksurv_metrics = pytest.importorskip("sksurv.metrics")
    time, event, risk, train, test, y_train, y_test = sksurv_cohort(seed, integer_times,
                                                                    rounded_risk)
    for tau in (None, float(np.quantile(time[event], 0.7))):
        ours = uno_c_index(time[test], event[test], risk[test], train_time=time[train],
                           train_event=event[train], tau=tau)
        expected = sksurv_metrics.concordance_index_ipcw(y_train, y_test, risk[test], tau=tau)
        assert ours == pytest.approx(expected[0], abs=1e-8)


def test_uno_refuses_where_the_censoring_distribution_is_zero() -> None:
    # Training follow-up ends with a censoring at t=5, so G(5) = 0; a test event at 5 needs it.
    time = np.array([1.0, 2.0, 5.0, 6.0])
    event = np.array([True, True, True, False])
    with pytest.raises(ValueError, match="censoring distribution estimated from the training "
                                         "data is 0 at 5"):
        uno_c_index(time, event, np.arange(4.0), train_time=TIME, train_event=EVENT)
    # Truncating before it works.
    assert 0 <= uno_c_index(time, event, np.arange(4.0), train_time=TIME, train_event=EVENT,
                            tau=4.0) <= 1


def test_uno_refuses_past_the_training_follow_up() -> None:
    train_event = np.array([True, False, True, True, True])  # G(5) > 0: the end is an event
    with pytest.raises(ValueError, match="past the training follow-up"):
        uno_c_index(np.array([1.0, 7.0, 8.0]), np.array([True, True, False]),
                    np.arange(3.0), train_time=TIME, train_event=train_event)


# -- time-dependent AUC --------------------------------------------------------------------------


def test_cumulative_dynamic_auc_by_hand_with_a_tie() -> None:
    risk = np.array([4.0, 5.0, 2.0, 1.0, 2.0])
    # t = 3.5: cases T <= 3.5 with an event: i=0 (r4, w 1/G(1) = 1), i=2 (r2, w 1/G(3) = 4/3);
    # controls T > 3.5: i=3 (r1), i=4 (r2). i=0 beats both: 2; i=2 beats r1, ties r2: 1.5.
    result = cumulative_dynamic_auc(TIME, EVENT, risk, [3.5], train_time=TIME,
                                    train_event=EVENT)
    expected = (1 * 2 + 4 / 3 * 1.5) / ((1 + 4 / 3) * 2)
    assert result.auc == pytest.approx([expected])
    assert result.mean_auc == pytest.approx(expected)


@pytest.mark.parametrize(("seed", "integer_times", "rounded_risk"), COHORTS)
def test_cumulative_dynamic_auc_matches_scikit_survival(seed: int, integer_times: bool,
                                                         rounded_risk: bool) -> None:
    sksurv_metrics = pytest.importorskip("sksurv.metrics")
    time, event, risk, train, test, y_train, y_test = sksurv_cohort(seed, integer_times,
                                                                    rounded_risk)
    times = np.unique(np.quantile(time[test][event[test]], [0.2, 0.4, 0.6, 0.8]))
    both = {"train_time": time[train], "train_event": event[train]}
    # One score per patient, and one per patient and time (1 - S(t | x) of a toy model).
    survival = np.exp(-np.outer(np.exp(risk[test] / 5), times / 10))
    for scores in (risk[test], 1 - survival):
        ours = cumulative_dynamic_auc(time[test], event[test], scores, times, **both)
        auc, mean_auc = sksurv_metrics.cumulative_dynamic_auc(y_train, y_test, scores, times)
        np.testing.assert_allclose(ours.auc, auc, atol=1e-8)
        assert ours.mean_auc == pytest.approx(mean_auc, abs=1e-8)


def test_auc_needs_times_inside_the_follow_up_and_events_before_them() -> None:
    both = {"train_time": TIME, "train_event": EVENT}
    with pytest.raises(ValueError, match=r"times must lie in \[0, 5\)"):
        cumulative_dynamic_auc(TIME, EVENT, np.arange(5.0), [5.0], **both)
    with pytest.raises(ValueError, match="strictly increasing"):
        cumulative_dynamic_auc(TIME, EVENT, np.arange(5.0), [3.0, 2.0], **both)
    late_events = np.array([False, False, True, True, False])
    with pytest.raises(ValueError, match="no events by time 2"):
        cumulative_dynamic_auc(TIME, late_events, np.arange(5.0), [2.0, 3.5], **both)
    with pytest.raises(ValueError, match=r"no events by time 0\.5"):
        cumulative_dynamic_auc(TIME, EVENT, np.arange(5.0), [0.5, 3.5], **both)
    with pytest.raises(ValueError, match=r"shape \(5,\) or \(5, 2\)"):
        cumulative_dynamic_auc(TIME, EVENT, np.ones((5, 3)), [2.0, 3.5], **both)


# -- Brier ---------------------------------------------------------------------------------------


def test_brier_score_by_hand() -> None:
    survival = np.array([[0.2], [0.9], [0.4], [0.8], [0.7]])
    # t = 3.5, G(3.5) = 0.75:
    #   i=0 event at 1 <= t: S^2 / G(1) = 0.04 / 1
    #   i=1 censored at 2 <= t: 0 (its information reaches the others through G)
    #   i=2 event at 3 <= t: 0.16 / G(3) = 0.16 / 0.75
    #   i=3, i=4 event-free after t: (1 - S)^2 / G(t) = 0.04 / 0.75 and 0.09 / 0.75
    expected = (0.04 + 0.16 / 0.75 + 0.04 / 0.75 + 0.09 / 0.75) / 5
    scores = survival_brier_score(TIME, EVENT, survival, [3.5], train_time=TIME,
                                  train_event=EVENT)
    assert scores == pytest.approx([expected])
    # Before the first follow-up time everybody is event-free and G = 1: mean (1 - S)^2.
    early = survival_brier_score(TIME, EVENT, survival, [0.5], train_time=TIME,
                                 train_event=EVENT)
    assert early == pytest.approx([(0.64 + 0.01 + 0.36 + 0.04 + 0.09) / 5])


def test_integrated_brier_score_is_the_trapezoid_average() -> None:
    survival = np.array([[0.2, 0.1], [0.9, 0.8], [0.4, 0.3], [0.8, 0.7], [0.7, 0.6]])
    both = {"train_time": TIME, "train_event": EVENT}
    times = [1.5, 3.5]
    scores = survival_brier_score(TIME, EVENT, survival, times, **both)
    # Two points: the trapezoid over [1.5, 3.5] divided by its length is their mean.
    assert integrated_brier_score(TIME, EVENT, survival, times, **both) == pytest.approx(
        scores.mean())
    with pytest.raises(ValueError, match="at least two times"):
        integrated_brier_score(TIME, EVENT, survival[:, :1], [3.5], **both)


@pytest.mark.parametrize(("seed", "integer_times", "rounded_risk"), COHORTS)
def test_brier_scores_match_scikit_survival(seed: int, integer_times: bool,
                                            rounded_risk: bool) -> None:
    sksurv_metrics = pytest.importorskip("sksurv.metrics")
    time, event, risk, train, test, y_train, y_test = sksurv_cohort(seed, integer_times,
                                                                    rounded_risk)
    times = np.unique(np.quantile(time[test][event[test]], np.linspace(0.1, 0.8, 12)))
    survival = np.exp(-np.outer(np.exp(risk[test] / 5), times / 10))
    both = {"train_time": time[train], "train_event": event[train]}
    ours = survival_brier_score(time[test], event[test], survival, times, **both)
    np.testing.assert_allclose(ours, sksurv_metrics.brier_score(y_train, y_test, survival,
                                                                times)[1], atol=1e-8)
    assert integrated_brier_score(time[test], event[test], survival, times, **both) == (
        pytest.approx(sksurv_metrics.integrated_brier_score(y_train, y_test, survival, times),
                      abs=1e-8))


def test_brier_validates_the_predictions() -> None:
    both = {"train_time": TIME, "train_event": EVENT}
    with pytest.raises(ValueError, match=r"shape \(5, 1\)"):
        survival_brier_score(TIME, EVENT, np.full(5, 0.5), [3.5], **both)
    with pytest.raises(ValueError, match=r"probabilities in \[0, 1\]"):
        survival_brier_score(TIME, EVENT, np.full((5, 1), 1.5), [3.5], **both)


# -- Kaplan-Meier and log-rank -------------------------------------------------------------------


def test_kaplan_meier_by_hand() -> None:
    time = np.array([1.0, 2.0, 2.0, 3.0, 4.0, 5.0])
    event = np.array([False, True, False, True, False, True])
    km = kaplan_meier(time, event)
    # t=2: 5 at risk, 1 event -> 4/5; t=3: 3 at risk, 1 event -> 4/5 * 2/3; t=5: 1 of 1 -> 0.
    np.testing.assert_allclose(km.survival, [1.0, 0.8, 0.8 * 2 / 3, 0.8 * 2 / 3, 0.0])
    np.testing.assert_array_equal(km.n_at_risk, [6, 5, 3, 2, 1])
    np.testing.assert_array_equal(km.n_events, [0, 1, 1, 0, 1])
    np.testing.assert_array_equal(km.n_censored, [1, 1, 0, 1, 0])
    # Greenwood at t=2: S^2 * 1 / (5 * 4).
    assert km.std_error[1] == pytest.approx(0.8 * np.sqrt(1 / 20))
    assert km.survival_at([0.5, 2.5, 5.0, 9.0]) == pytest.approx(
        [1.0, 0.8, 0.0, 0.0])


@pytest.mark.parametrize(("seed", "integer_times"), [(0, False), (1, True), (2, True)])
def test_kaplan_meier_matches_lifelines(seed: int, integer_times: bool) -> None:
    from lifelines import KaplanMeierFitter

    time, event, _ = random_cohort(seed, integer_times=integer_times)
    km = kaplan_meier(time, event)
    fitted = KaplanMeierFitter().fit(time, event)
    np.testing.assert_allclose(km.survival,
                               fitted.survival_function_.loc[km.time].to_numpy().ravel(),
                               atol=1e-10)
    interval = fitted.confidence_interval_.loc[km.time].to_numpy()
    np.testing.assert_allclose(km.ci_low, interval[:, 0], atol=1e-10)
    np.testing.assert_allclose(km.ci_high, interval[:, 1], atol=1e-10)


def test_kaplan_meier_is_undefined_after_the_last_time_unless_it_reached_zero() -> None:
    km = kaplan_meier(TIME, EVENT)  # ends with a censoring: S(5) > 0
    with pytest.raises(ValueError, match="undefined after the last observed time 5"):
        km.survival_at([6.0])


def test_logrank_by_hand() -> None:
    # Group a: events at 1 and 3; group b: event at 2, censored at 4.
    #   t=1: 4 at risk (2 a), 1 event in a: E_a = 1/2, V = 1*3/3 * 1/2 * 1/2 = 1/4
    #   t=2: 3 at risk (1 a), 1 event in b: E_a = 1/3, V = 1*2/2 * 1/3 * 2/3 = 2/9
    #   t=3: 2 at risk (1 a), 1 event in a: E_a = 1/2, V = 1*1/1 * 1/2 * 1/2 = 1/4
    #   O_a - E_a = 2 - 4/3 = 2/3; V = 13/18; chi2 = (4/9) / (13/18) = 8/13
    result = logrank_test([1.0, 3.0, 2.0, 4.0], np.array([True, True, True, False]),
                          ["a", "a", "b", "b"])
    assert result.statistic == pytest.approx(8 / 13)
    assert result.degrees_of_freedom == 1
    assert result.p_value == pytest.approx(stats.chi2.sf(8 / 13, 1))
    assert result.groups == ("a", "b")
    np.testing.assert_allclose(result.observed, [2, 1])
    np.testing.assert_allclose(result.expected, [4 / 3, 5 / 3])


@pytest.mark.parametrize(("seed", "integer_times"), [(0, False), (1, True), (3, True)])
def test_logrank_matches_lifelines(seed: int, integer_times: bool) -> None:
    from lifelines.statistics import logrank_test as lifelines_logrank
    from lifelines.statistics import multivariate_logrank_test

    time, event, risk = random_cohort(seed, integer_times=integer_times)
    groups = np.digitize(risk, np.quantile(risk, [1 / 3, 2 / 3]))  # three risk groups
    ours = logrank_test(time, event, groups)
    theirs = multivariate_logrank_test(time, groups, event)
    assert ours.statistic == pytest.approx(theirs.test_statistic, abs=1e-8)
    assert ours.p_value == pytest.approx(theirs.p_value, abs=1e-10)
    assert ours.degrees_of_freedom == 2
    high = groups == 2
    two = logrank_test(time, event, high)
    theirs = lifelines_logrank(time[high], time[~high], event[high], event[~high])
    assert two.statistic == pytest.approx(theirs.test_statistic, abs=1e-8)
    assert two.p_value == pytest.approx(theirs.p_value, abs=1e-10)


def test_logrank_refuses_one_group_no_events_and_groups_never_at_risk() -> None:
    with pytest.raises(ValueError, match="two or more groups"):
        logrank_test(TIME, EVENT, ["a"] * 5)
    with pytest.raises(ValueError, match="all patients are censored"):
        logrank_test(TIME, np.zeros(5, dtype=bool), ["a", "b"] * 2 + ["a"])
    with pytest.raises(ValueError, match=r"\['early'\] have nobody at risk"):
        logrank_test([0.5, 2.0, 3.0, 4.0], np.array([False, True, True, False]),
                     ["early", "late", "late", "late"])


# -- validation ----------------------------------------------------------------------------------


def test_inputs_are_validated_with_the_fix() -> None:
    with pytest.raises(ValueError, match=r"event must be a boolean array .* `event == 1`"):
        harrell_c_index(TIME, EVENT.astype(int), np.arange(5.0))
    with pytest.raises(ValueError, match="non-negative"):
        harrell_c_index(-TIME, EVENT, np.arange(5.0))
    with pytest.raises(ValueError, match="one entry per patient"):
        harrell_c_index(TIME, EVENT[:4], np.arange(5.0))
    with pytest.raises(ValueError, match=r"risk must have shape \(5,\)"):
        harrell_c_index(TIME, EVENT, np.arange(4.0))
    with pytest.raises(ValueError, match="risk must be finite"):
        harrell_c_index(TIME, EVENT, np.array([1.0, np.nan, 2.0, 3.0, 4.0]))
    with pytest.raises(ValueError, match="train_event must be a boolean array"):
        uno_c_index(TIME, EVENT, np.arange(5.0), train_time=TIME, train_event=[1, 0, 1, 1, 0])
    with pytest.raises(ValueError, match="tau must be a positive finite time"):
        uno_c_index(TIME, EVENT, np.arange(5.0), train_time=TIME, train_event=EVENT, tau=-1)


# -- repeated cross-validation -------------------------------------------------------------------


def test_repeated_cv_interval_is_the_corrected_resampled_t() -> None:
    values = np.array([[0.70, 0.74, 0.68, 0.72, 0.71], [0.69, 0.75, 0.70, 0.73, 0.66]])
    estimate = summarise_repeated_cv(values)
    # J = 10 folds of 5-fold CV: n_test / n_train = 1/4; half-width t_{0.975, 9} * sqrt(
    # (1/10 + 1/4) * s^2).
    mean, sd = values.mean(), values.std(ddof=1)
    half = stats.t.ppf(0.975, 9) * np.sqrt((1 / 10 + 1 / 4) * sd ** 2)
    assert estimate.value == pytest.approx(mean)
    assert (estimate.ci_low, estimate.ci_high) == pytest.approx((mean - half, mean + half))
    assert estimate.fold_sd == pytest.approx(sd)
    # Wider than the naive interval, which treats the 10 overlapping folds as independent.
    naive = stats.t.ppf(0.975, 9) * sd / np.sqrt(10)
    assert estimate.ci_high - estimate.ci_low > 2 * naive
    assert estimate.to_dict()["ci"] == [round(mean - half, 4), round(mean + half, 4)]


def test_repeated_cv_refuses_bad_shapes_and_undefined_folds() -> None:
    with pytest.raises(ValueError, match=r"shape \(n_repeats, n_splits\)"):
        summarise_repeated_cv([0.7, 0.8, 0.75])
    with pytest.raises(ValueError, match="must be finite"):
        summarise_repeated_cv([[0.7, np.nan, 0.75]])
