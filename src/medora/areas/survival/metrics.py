"""Survival metrics with right censoring: concordance, time-dependent AUC, Brier scores,
Kaplan-Meier, the log-rank test and the summary of repeated cross-validation.

Conventions shared by every function here:

- ``time`` is the follow-up (event or censoring time, >= 0) and ``event`` a boolean array,
  True where the event was observed and False where the patient was censored.
- ``risk`` is a risk score: higher means an earlier event is expected (a Cox linear predictor,
  a cumulative hazard, 1 - S(t)). Survival-time predictions must be negated first.
- Risk scores tie only when they are equal as floats; a tie counts one half.
- Functions that weight by the inverse probability of censoring (IPCW) take the training
  data (``train_time``, ``train_event``): the censoring distribution G(t) = P(C > t) is their
  Kaplan-Meier estimate with the roles of event and censoring swapped. Where an event and a
  censoring share a time, the event is taken to come first (the patient was still uncensored
  when the event happened), so events leave the censoring risk set before the censorings at
  that time are counted. G is right-continuous and is read at the time itself, G(T_i).
  Weights are needed only where G > 0 and within the training follow-up; elsewhere the
  censoring distribution is unknown and the functions refuse rather than extrapolate.

References: Harrell FE, Califf RM, Pryor DB, Lee KL, Rosati RA. Evaluating the yield of
medical tests. JAMA 1982;247:2543-2546. Uno H, Cai T, Pencina MJ, D'Agostino RB, Wei LJ. On
the C-statistics for evaluating overall adequacy of risk prediction procedures with censored
survival data. Stat Med 2011;30:1105-1117. Uno H, Cai T, Tian L, Wei LJ. Evaluating prediction
rules for t-year survivors with censored regression models. JASA 2007;102:527-537. Hung H,
Chiang CT. Estimation methods for time-dependent AUC models with survival data. Can J Stat
2010;38:8-26. Graf E, Schmoor C, Sauerbrei W, Schumacher M. Assessment and comparison of
prognostic classification schemes for survival data. Stat Med 1999;18:2529-2545. Kaplan EL,
Meier P. JASA 1958;53:457-481. Mantel N. Cancer Chemother Rep 1966;50:163-170. Nadeau C,
Bengio Y. Inference for the generalization error. Mach Learn 2003;52:239-281. Bouckaert RR,
Frank E. Evaluating the replicability of significance tests for comparing learning
algorithms. PAKDD 2004.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

__all__ = [
    "KaplanMeier",
    "LogRankResult",
    "RepeatedCVEstimate",
    "TimeDependentAUC",
    "check_survival",
    "cumulative_dynamic_auc",
    "harrell_c_index",
    "integrated_brier_score",
    "kaplan_meier",
    "logrank_test",
    "summarise_repeated_cv",
    "survival_brier_score",
    "uno_c_index",
]

# Pairs compared per block in the concordance kernels: bounds memory (about 8 bytes per pair
# per temporary) while keeping the work vectorised.
_PAIR_BLOCK = 2_000_000


# -- validation ---------------------------------------------------------------------------------


def check_survival(time: ArrayLike, event: ArrayLike, prefix: str = ""
                    ) -> tuple[np.ndarray, np.ndarray]:
    """1-D, equal-length, finite non-negative times and a boolean event indicator (shared with
    the survival models, which take the same target)."""
    times = np.asarray(time)
    events = np.asarray(event)
    if times.ndim != 1 or times.size == 0:
        raise ValueError(f"{prefix}time must be a non-empty 1-D array of follow-up times, got "
                         f"shape {times.shape}")
    if times.dtype.kind not in "iuf":
        raise ValueError(f"{prefix}time must be numeric, got dtype {times.dtype}")
    times = times.astype(np.float64)
    if not np.isfinite(times).all() or (times < 0).any():
        raise ValueError(f"{prefix}time must hold finite, non-negative follow-up times; remove "
                         "or correct negative, infinite or missing times")
    if events.dtype != bool:
        raise ValueError(f"{prefix}event must be a boolean array (True = event observed, False "
                         f"= censored), got dtype {events.dtype}; convert it with e.g. "
                         "`event == 1` after checking which code means the event")
    if events.shape != times.shape:
        raise ValueError(f"{prefix}time and {prefix}event must have one entry per patient, got "
                         f"{times.shape} and {events.shape}")
    return times, events


def _check_scores(values: ArrayLike, n: int, name: str, n_columns: int | None = None
                  ) -> np.ndarray:
    """Finite predictions, one row per patient: 1-D, or (n, n_columns) when that is given and
    the input is 2-D."""
    array = np.asarray(values, dtype=np.float64)
    allowed = (1,) if n_columns is None else (1, 2)
    if array.ndim not in allowed or array.shape[0] != n or (
            array.ndim == 2 and array.shape[1] != n_columns):
        expected = f"({n},)" if n_columns is None else f"({n},) or ({n}, {n_columns})"
        raise ValueError(f"{name} must have shape {expected}: one row per patient"
                         f"{'' if n_columns is None else ' (and one column per time)'}, got "
                         f"{array.shape}")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} must be finite; a model that returns nan or inf for some "
                         "patient cannot be scored")
    return array


def _check_times(times: ArrayLike, time: np.ndarray) -> np.ndarray:
    """Evaluation times: strictly increasing and before the last test time (from there on
    nobody is left at risk). Times before the first test time are allowed: the Brier score is
    defined there, and the AUC refuses a time with no events by it."""
    points = np.atleast_1d(np.asarray(times, dtype=np.float64))
    if points.ndim != 1 or points.size == 0 or not np.isfinite(points).all():
        raise ValueError(f"times must be a non-empty 1-D array of finite times, got "
                         f"{points.shape}")
    if (np.diff(points) <= 0).any():
        raise ValueError("times must be strictly increasing, so that each column of the "
                         "predictions belongs to one time; sort them (and the columns)")
    if points[0] < 0 or points[-1] >= time.max():
        raise ValueError(f"times must lie in [0, {time.max():g}), before the last follow-up "
                         f"time of the evaluated patients (from there on nobody is left at "
                         f"risk), got {points[0]:g} to {points[-1]:g}")
    return points


# -- Kaplan-Meier -------------------------------------------------------------------------------


@dataclass(frozen=True)
class KaplanMeier:
    """Kaplan-Meier estimate at each distinct observed time (events and censorings).

    ``std_error`` is Greenwood's standard error of S(t). The interval is Greenwood's variance
    carried through the log(-log) transform (Kalbfleisch and Prentice), which keeps it inside
    [0, 1] and covers better than the plain S +- z SE in small samples; it is (1, 1) before the
    first event and (0, 0) once S reaches 0.
    """

    time: np.ndarray
    n_at_risk: np.ndarray
    n_events: np.ndarray
    n_censored: np.ndarray
    survival: np.ndarray
    std_error: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    confidence: float

    def survival_at(self, times: ArrayLike) -> np.ndarray:
        """S(t) at arbitrary times (a right-continuous step function; 1 before the first
        time). Past the last observed time S is only known where it has reached 0."""
        points = np.asarray(times, dtype=np.float64)
        if self.survival[-1] > 0 and (points > self.time[-1]).any():
            raise ValueError(f"the Kaplan-Meier estimate is undefined after the last observed "
                             f"time {self.time[-1]:g}; ask for times up to it")
        return _step(self.time, self.survival, points)


def _step(knots: np.ndarray, values: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Right-continuous step function equal to values[k] on [knots[k], knots[k+1]) and 1
    before knots[0]."""
    index = np.searchsorted(knots, points, side="right") - 1
    return np.where(index >= 0, values[np.maximum(index, 0)], 1.0)


def _counts(time: np.ndarray, event: np.ndarray
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Distinct times with the number at risk just before, the events and the censorings."""
    unique, inverse = np.unique(time, return_inverse=True)
    n_events = np.bincount(inverse, weights=event, minlength=unique.size).astype(np.int64)
    n_total = np.bincount(inverse, minlength=unique.size)
    # At risk at u: everybody whose time is >= u, i.e. all minus those who left before u.
    n_at_risk = time.size - np.concatenate([[0], np.cumsum(n_total)[:-1]])
    return unique, n_at_risk, n_events, n_total - n_events


def kaplan_meier(time: ArrayLike, event: ArrayLike, confidence: float = 0.95) -> KaplanMeier:
    """Kaplan-Meier survival curve with Greenwood standard errors and log(-log) intervals."""
    times, events = check_survival(time, event)
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    unique, at_risk, deaths, censored = _counts(times, events)
    survival = np.cumprod(1.0 - deaths / at_risk)
    # Greenwood: Var S = S^2 sum d / (n (n - d)); the term is infinite once everyone at risk
    # has had the event, where S = 0 and the interval is (0, 0) anyway.
    with np.errstate(divide="ignore", invalid="ignore"):
        greenwood = np.cumsum(np.where(deaths > 0, deaths / (at_risk * (at_risk - deaths)), 0.0))
        std_error = survival * np.sqrt(greenwood)
        z = stats.norm.ppf(0.5 + confidence / 2)
        log_survival = np.log(survival)
        spread = z * np.sqrt(greenwood) / np.abs(log_survival)
        inside = (survival > 0) & (survival < 1)
        ci_low = np.where(inside, survival ** np.exp(spread), survival)
        ci_high = np.where(inside, survival ** np.exp(-spread), survival)
    std_error = np.where(survival > 0, std_error, 0.0)
    return KaplanMeier(time=unique, n_at_risk=at_risk, n_events=deaths, n_censored=censored,
                       survival=survival, std_error=std_error, ci_low=ci_low, ci_high=ci_high,
                       confidence=confidence)


def _censoring_survival(train_time: ArrayLike, train_event: ArrayLike
                        ) -> tuple[np.ndarray, np.ndarray]:
    """Kaplan-Meier estimate of G(t) = P(C > t) from training data: knots and values."""
    times, events = check_survival(train_time, train_event, prefix="train_")
    unique, at_risk, deaths, censored = _counts(times, events)
    # Events at a time precede its censorings, so they are no longer at risk of censoring.
    at_risk_of_censoring = at_risk - deaths
    factor = np.ones(unique.size)
    np.divide(at_risk_of_censoring - censored, at_risk_of_censoring, out=factor,
              where=at_risk_of_censoring > 0)
    return unique, np.cumprod(factor)


def _censoring_at(censoring: tuple[np.ndarray, np.ndarray], points: np.ndarray,
                  what: str) -> np.ndarray:
    """G at ``points``; refuses where it is 0 or unknown (past the training follow-up)."""
    knots, values = censoring
    if points.size == 0:
        return np.ones(0)
    late = points > knots[-1]
    if late.any() and values[-1] > 0:
        raise ValueError(f"{what} reach {points.max():g}, past the training follow-up "
                         f"({knots[-1]:g}), where the censoring distribution is unknown; "
                         "evaluate at earlier times (or pass a smaller tau)")
    g = _step(knots, values, points)
    if (g <= 0).any():
        first = points[g <= 0].min()
        raise ValueError(f"the censoring distribution estimated from the training data is 0 "
                         f"at {first:g} (everyone left was censored), so the inverse "
                         f"probability of censoring weights are infinite there; evaluate "
                         f"before {first:g} (or pass a smaller tau)")
    return g


# -- concordance --------------------------------------------------------------------------------


def _concordance(time: np.ndarray, event: np.ndarray, risk: np.ndarray, weight: np.ndarray
                 ) -> tuple[float, float, int]:
    """Weighted concordance sums over comparable pairs (i, j).

    A pair is comparable when i had the event and j was still event-free after T_i: T_j > T_i,
    or T_j = T_i with j censored (censored at the time of i's event means j was known to be
    event-free at that instant). Two events at the same time tell nothing about order. The
    pair is concordant when risk_i > risk_j and counts one half on a tie in risk. Each pair
    carries the weight of its case i. Returns (weighted concordant, weighted comparable,
    number of comparable pairs).
    """
    cases = np.flatnonzero(event & (weight > 0))
    rows = max(1, _PAIR_BLOCK // time.size)
    numerator = denominator = 0.0
    pairs = 0
    for start in range(0, cases.size, rows):
        i = cases[start:start + rows]
        t_i, r_i = time[i, None], risk[i, None]
        comparable = (time > t_i) | ((time == t_i) & ~event)
        score = (risk < r_i) + 0.5 * (risk == r_i)
        per_case = np.where(comparable, score, 0.0).sum(axis=1)
        count = comparable.sum(axis=1)
        numerator += float(weight[i] @ per_case)
        denominator += float(weight[i] @ count)
        pairs += int(count.sum())
    return numerator, denominator, pairs


def _no_pairs(event: np.ndarray, extra: str = "") -> ValueError:
    if not event.any():
        return ValueError("no comparable pairs: every patient is censored, so no event time "
                          "can be ordered against another; the concordance is undefined "
                          "(evaluate on data with at least one observed event)")
    return ValueError("no comparable pairs: no patient with an event has anyone still "
                      f"event-free after their event time{extra}; the concordance is undefined "
                      "(evaluate on more patients or longer follow-up)")


def harrell_c_index(time: ArrayLike, event: ArrayLike, risk: ArrayLike) -> float:
    """Harrell's concordance index (Harrell 1982).

    The share of comparable pairs that the risk score orders correctly: over pairs where
    patient i had the event first (see the module notes on ties in time), the fraction with
    risk_i > risk_j, ties in risk counting one half. 0.5 is chance, 1 perfect. Depends on the
    censoring distribution when follow-up is heavily censored; see :func:`uno_c_index`.
    """
    times, events = check_survival(time, event)
    scores = _check_scores(risk, times.size, "risk")
    numerator, denominator, pairs = _concordance(times, events, scores,
                                                 np.ones(times.size))
    if pairs == 0:
        raise _no_pairs(events)
    return numerator / denominator


def uno_c_index(time: ArrayLike, event: ArrayLike, risk: ArrayLike, *,
                train_time: ArrayLike, train_event: ArrayLike,
                tau: float | None = None) -> float:
    """Uno's IPCW concordance index truncated at ``tau`` (Uno et al. 2011).

    Each comparable pair (i, j) with T_i < tau is weighted by 1 / G(T_i)^2, where G is the
    Kaplan-Meier estimate of the censoring distribution on the training data; the result
    then estimates P(risk_i > risk_j | T_i < T_j, T_i < tau) free of the censoring pattern.
    ``tau=None`` uses every event. Choose tau where G is still well above 0 (e.g. the
    evaluation horizon): weights explode where few patients remain uncensored.
    """
    times, events = check_survival(time, event)
    scores = _check_scores(risk, times.size, "risk")
    censoring = _censoring_survival(train_time, train_event)
    if tau is not None and not (math.isfinite(tau) and tau > 0):
        raise ValueError(f"tau must be a positive finite time, got {tau!r}")
    used = events if tau is None else events & (times < tau)
    weight = np.zeros(times.size)
    weight[used] = _censoring_at(censoring, times[used], "event times") ** -2.0
    numerator, denominator, pairs = _concordance(times, events, scores, weight)
    if pairs == 0:
        raise _no_pairs(events, "" if tau is None else f" among events before tau={tau:g}")
    return numerator / denominator


# -- time-dependent AUC and Brier score ---------------------------------------------------------


@dataclass(frozen=True)
class TimeDependentAUC:
    """Cumulative/dynamic AUC at each time and its summary over the times."""

    times: np.ndarray
    auc: np.ndarray
    mean_auc: float


def cumulative_dynamic_auc(time: ArrayLike, event: ArrayLike, risk: ArrayLike,
                           times: ArrayLike, *, train_time: ArrayLike,
                           train_event: ArrayLike) -> TimeDependentAUC:
    """Cumulative/dynamic time-dependent AUC with IPCW (Uno et al. 2007; Hung and Chiang 2010).

    At time t, cases are the patients with an event by t (T_i <= t), controls those still
    event-free after t (T_j > t). AUC(t) = sum_i sum_j w_i [I(risk_i > risk_j) + 0.5
    I(risk_i = risk_j)] / (sum_i w_i * number of controls), with case weights w_i = 1 / G(T_i)
    making up for the cases lost to censoring before t. ``risk`` is one score per patient, or
    one column per time (e.g. 1 - S(t | x)). ``mean_auc`` averages AUC(t) weighted by the drop
    of the Kaplan-Meier curve of the evaluated patients at each time, normalised by
    1 - S(t_last); with one time it is AUC(t).
    """
    test_time, test_event = check_survival(time, event)
    points = _check_times(times, test_time)
    scores = _check_scores(risk, test_time.size, "risk", n_columns=points.size)
    if scores.ndim == 1:
        scores = np.repeat(scores[:, None], points.size, axis=1)
    censoring = _censoring_survival(train_time, train_event)
    cases_by_end = test_event & (test_time <= points[-1])
    case_weight = np.zeros(test_time.size)
    case_weight[cases_by_end] = 1.0 / _censoring_at(censoring, test_time[cases_by_end],
                                                    "event times before the last time")
    auc = np.empty(points.size)
    for k, t in enumerate(points):
        cases = test_event & (test_time <= t)
        controls = np.sort(scores[test_time > t, k])
        if not cases.any():
            raise ValueError(f"no events by time {t:g}: AUC({t:g}) is undefined; choose times "
                             "after the first event")
        case_scores = scores[cases, k]
        below = np.searchsorted(controls, case_scores, side="left")
        tied = np.searchsorted(controls, case_scores, side="right") - below
        w = case_weight[cases]
        auc[k] = float(w @ (below + 0.5 * tied)) / (w.sum() * controls.size)
    if points.size == 1:
        return TimeDependentAUC(points, auc, float(auc[0]))
    survival = kaplan_meier(test_time, test_event).survival_at(points)
    drops = -np.diff(np.concatenate([[1.0], survival]))
    return TimeDependentAUC(points, auc, float(auc @ drops / (1.0 - survival[-1])))


def survival_brier_score(time: ArrayLike, event: ArrayLike, survival: ArrayLike,
                         times: ArrayLike, *, train_time: ArrayLike,
                         train_event: ArrayLike) -> np.ndarray:
    """IPCW Brier score of predicted survival probabilities at each time (Graf et al. 1999).

    ``survival[i, k]`` is the predicted S(times[k] | x_i). BS(t) = mean_i [S_i(t)^2 I(T_i <= t,
    event_i) / G(T_i) + (1 - S_i(t))^2 I(T_i > t) / G(t)]: patients with an event by t should
    have been predicted dead, those event-free after t alive, and those censored before t
    contribute through the weights of the others. 0 is perfect; 0.25 is what predicting 0.5
    for everyone scores.
    """
    test_time, test_event = check_survival(time, event)
    points = _check_times(times, test_time)
    predicted = np.asarray(survival, dtype=np.float64)
    if predicted.shape != (test_time.size, points.size):
        raise ValueError(f"survival must have shape ({test_time.size}, {points.size}): one row "
                         f"per patient, one column per time, got {predicted.shape}")
    if not np.isfinite(predicted).all() or predicted.min() < 0 or predicted.max() > 1:
        raise ValueError("survival must hold predicted survival probabilities in [0, 1]")
    censoring = _censoring_survival(train_time, train_event)
    g_at_times = _censoring_at(censoring, points, "times")
    cases_by_end = test_event & (test_time <= points[-1])
    g_at_cases = np.ones(test_time.size)
    g_at_cases[cases_by_end] = _censoring_at(censoring, test_time[cases_by_end],
                                             "event times before the last time")
    cases = (test_event[:, None] & (test_time[:, None] <= points)) / g_at_cases[:, None]
    controls = (test_time[:, None] > points) / g_at_times
    return np.mean(predicted ** 2 * cases + (1.0 - predicted) ** 2 * controls, axis=0)


def integrated_brier_score(time: ArrayLike, event: ArrayLike, survival: ArrayLike,
                           times: ArrayLike, *, train_time: ArrayLike,
                           train_event: ArrayLike) -> float:
    """The Brier score averaged over [times[0], times[-1]] (Graf et al. 1999): the trapezoid
    integral of :func:`survival_brier_score` over ``times``, divided by the span. Use a fine
    grid (tens of points) inside the follow-up."""
    points = np.atleast_1d(np.asarray(times, dtype=np.float64))
    if points.size < 2:
        raise ValueError(f"the integrated Brier score needs at least two times, got "
                         f"{points.size}; pass a grid over the follow-up")
    scores = survival_brier_score(time, event, survival, points, train_time=train_time,
                                  train_event=train_event)
    area = float(np.sum((scores[1:] + scores[:-1]) / 2 * np.diff(points)))
    return area / float(points[-1] - points[0])


# -- log-rank test ------------------------------------------------------------------------------


@dataclass(frozen=True)
class LogRankResult:
    """Log-rank test of equal survival across groups: chi-square statistic with
    (groups - 1) degrees of freedom, its p-value, and observed and expected events per group
    (in the order of ``groups``)."""

    statistic: float
    degrees_of_freedom: int
    p_value: float
    groups: tuple[Hashable, ...]
    observed: np.ndarray
    expected: np.ndarray


def logrank_test(time: ArrayLike, event: ArrayLike, groups: ArrayLike | Sequence[Hashable]
                 ) -> LogRankResult:
    """Log-rank (Mantel 1966) test that two or more groups share one survival curve.

    At each distinct event time t_j with n_j at risk and d_j events, group g expects
    E_gj = d_j n_gj / n_j events; U = sum_j (O_gj - E_gj) has covariance V_gh = sum_j d_j
    (n_j - d_j) / (n_j - 1) (n_gj / n_j) (delta_gh - n_hj / n_j). The statistic is U' V^-1 U
    over all groups but the last (U sums to 0), chi-square with groups - 1 degrees of freedom
    under the null.
    """
    times, events = check_survival(time, event)
    labels = np.asarray(groups)
    if labels.shape != times.shape:
        raise ValueError(f"groups must hold one label per patient ({times.size}), got shape "
                         f"{labels.shape}")
    names, membership = np.unique(labels, return_inverse=True)
    if names.size < 2:
        raise ValueError(f"the log-rank test compares two or more groups; all patients are in "
                         f"group {names[0]!r}")
    if not events.any():
        raise ValueError("the log-rank test needs at least one observed event; all patients "
                         "are censored")
    event_times = np.unique(times[events])
    at_risk = np.empty((names.size, event_times.size))
    deaths = np.empty((names.size, event_times.size))
    for g in range(names.size):
        member_times = np.sort(times[membership == g])
        at_risk[g] = member_times.size - np.searchsorted(member_times, event_times, "left")
        member_events = np.sort(times[(membership == g) & events])
        deaths[g] = (np.searchsorted(member_events, event_times, "right")
                     - np.searchsorted(member_events, event_times, "left"))
    empty = [str(names[g]) for g in range(names.size) if not at_risk[g].any()]
    if empty:
        raise ValueError(f"group(s) {empty} have nobody at risk at any event time (all left "
                         "before the first event), so the log-rank test cannot compare them; "
                         "drop or merge those groups")
    n = at_risk.sum(axis=0)
    d = deaths.sum(axis=0)
    share = at_risk / n
    expected = (share * d).sum(axis=1)
    observed = deaths.sum(axis=1)
    # Hypergeometric variance factor d (n - d) / (n - 1); 0 when a single patient is at risk.
    factor = np.divide(d * (n - d), n - 1, out=np.zeros_like(n), where=n > 1)
    covariance = (np.einsum("j,gj->g", factor, share)[:, None] * np.eye(names.size)
                  - np.einsum("j,gj,hj->gh", factor, share, share))
    difference = (observed - expected)[:-1]
    reduced = covariance[:-1, :-1]
    try:
        statistic = float(difference @ np.linalg.solve(reduced, difference))
    except np.linalg.LinAlgError:
        raise ValueError("the log-rank covariance is singular (a group never shares an event "
                         "time's risk set with the others); merge sparse groups") from None
    df = names.size - 1
    return LogRankResult(statistic=statistic, degrees_of_freedom=df,
                         p_value=float(stats.chi2.sf(statistic, df)),
                         groups=tuple(names.tolist()), observed=observed, expected=expected)


# -- repeated cross-validation ------------------------------------------------------------------


@dataclass(frozen=True)
class RepeatedCVEstimate:
    """Mean of a metric over the folds of repeated K-fold cross-validation with a confidence
    interval from the corrected resampled t statistic (see :func:`summarise_repeated_cv`)."""

    value: float
    ci_low: float
    ci_high: float
    fold_sd: float
    n_repeats: int
    n_splits: int
    confidence: float

    def to_dict(self) -> dict[str, object]:
        """JSON-ready, with the ``value`` / ``ci`` keys of the bootstrap estimates."""
        return {"value": round(self.value, 4),
                "ci": [round(self.ci_low, 4), round(self.ci_high, 4)],
                "fold_sd": round(self.fold_sd, 4), "n_repeats": self.n_repeats,
                "n_splits": self.n_splits,
                "interval": f"{self.confidence:.0%} corrected resampled t (Nadeau-Bengio)"}


def summarise_repeated_cv(values: ArrayLike, confidence: float = 0.95) -> RepeatedCVEstimate:
    """Mean of per-fold metric values and its confidence interval.

    ``values`` has shape (n_repeats, n_splits): one metric value per test fold. The interval
    is mean +- t_{J-1} sqrt((1/J + n_test/n_train) s^2), J = n_repeats * n_splits, s^2 the
    variance of the J values and n_test/n_train = 1/(n_splits - 1) for K-fold (Nadeau and
    Bengio 2003, as applied to repeated K-fold by Bouckaert and Frank 2004). Why not the plain
    standard error s/sqrt(J): folds of one repeat share most of their training patients and
    repeats reuse the same patients, so the J values are far from independent and s/sqrt(J)
    shrinks without bound as repeats are added; the correction term keeps the width honest
    for a cohort of fixed size. Why not a percentile range of the folds: that describes how
    much one fold varies, not how well the mean is known.
    """
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 2 or array.shape[1] < 2 or array.size < 3:
        raise ValueError(f"values must have shape (n_repeats, n_splits) with n_splits >= 2 and "
                         f"at least 3 folds in all, got {array.shape}; pass one row per repeat")
    if not np.isfinite(array).all():
        raise ValueError("values must be finite; a fold whose metric is undefined (e.g. no "
                         "comparable pairs) should be fixed by stratifying the folds on the "
                         "event, not dropped")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    n_repeats, n_splits = array.shape
    folds = array.size
    mean = float(array.mean())
    sd = float(array.std(ddof=1))
    half_width = float(stats.t.ppf(0.5 + confidence / 2, folds - 1)
                       * math.sqrt((1 / folds + 1 / (n_splits - 1)) * sd ** 2))
    return RepeatedCVEstimate(value=mean, ci_low=mean - half_width, ci_high=mean + half_width,
                              fold_sd=sd, n_repeats=n_repeats, n_splits=n_splits,
                              confidence=confidence)
