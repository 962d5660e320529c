"""Treatment-effect evaluation: error against a known truth, reference ATE estimators, the value
of a personalised treatment policy, overlap diagnostics and per-patient recommendations.

Conventions: ``treatment`` is 0/1 (1 = the treated arm), an effect is treated minus control on
the outcome's scale, and ``higher_is_better`` says which sign of the outcome is good, so that
"gain" and "benefit" are always positive when the treated arm (or the policy) is better.
Every interval is a two-sided 95% interval.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

from medora.evaluate._validation import check_positive_int
from medora.evaluate.bootstrap import ALPHA, Estimate, percentile_interval, resample_weights

__all__ = [
    "CRUMP_ALPHA",
    "EffectEstimate",
    "IPWResult",
    "OverlapCheck",
    "OverlapRule",
    "PolicyValue",
    "Recommendation",
    "ate_absolute_error",
    "difference_in_means",
    "fit_propensity",
    "ipw_ate",
    "overlap_summary",
    "pehe",
    "policy_from_cate",
    "policy_value",
    "recommend",
]

#: Propensity trimming bound of Crump, Hotz, Imbens and Mitnik (2009): keep 0.1 <= e(x) <= 0.9.
CRUMP_ALPHA = 0.1
_CRUMP_CITATION = ("Crump RK, Hotz VJ, Imbens GW, Mitnik OA. Dealing with limited overlap in "
                   "estimation of average treatment effects. Biometrika 2009;96(1):187-199")
_Z = float(stats.norm.ppf(1 - ALPHA / 2))


# -- Validation --------------------------------------------------------------------------------

def _vector(values: ArrayLike, name: str, n: int | None = None) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array (one value per patient), got "
                         f"shape {array.shape}")
    if n is not None and array.size != n:
        raise ValueError(f"{name} has {array.size} values, expected {n}: pass one value per "
                         "patient, in the same order as the outcome")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} holds {int((~np.isfinite(array)).sum())} missing or infinite "
                         "value(s); drop or impute those patients first")
    return array


def _treatment(values: ArrayLike, n: int | None, require_both_arms: bool = True) -> np.ndarray:
    array = _vector(values, "treatment", n)
    if not np.isin(array, (0.0, 1.0)).all():
        raise ValueError("treatment must be coded 0 (control) / 1 (treated), found "
                         f"{np.setdiff1d(np.unique(array), [0.0, 1.0])[:5].tolist()}")
    if require_both_arms and len(np.unique(array)) < 2:
        raise ValueError("treatment has a single arm; an effect needs treated and control "
                         "patients")
    return array


def _propensity(values: ArrayLike, n: int, name: str = "propensity") -> np.ndarray:
    array = _vector(values, name, n)
    if array.min() <= 0.0 or array.max() >= 1.0:
        raise ValueError(f"{name} must lie strictly between 0 and 1 (an inverse weight of 1/0 "
                         f"is undefined), got range [{array.min():g}, {array.max():g}]; clip "
                         "it or exclude patients outside overlap (OverlapRule)")
    return array


def _design(covariates: ArrayLike, n: int) -> np.ndarray:
    matrix = np.asarray(covariates, dtype=np.float64)
    if matrix.ndim == 1:
        matrix = matrix[:, None]
    if matrix.ndim != 2 or matrix.shape[0] != n:
        raise ValueError(f"covariates must be a 2-D array with one row per patient ({n}), got "
                         f"shape {matrix.shape}")
    if not np.isfinite(matrix).all():
        raise ValueError("covariates hold missing or infinite values; encode categoricals and "
                         "impute or drop missing values before fitting a propensity model")
    return matrix


# -- Error against the truth (semi-synthetic data) ---------------------------------------------

def pehe(estimated_cate: ArrayLike, true_cate: ArrayLike) -> float:
    """Precision in estimation of heterogeneous effects: the root mean squared difference
    between estimated and true conditional effects, in the outcome's unit (Hill JL. Bayesian
    nonparametric modeling for causal inference. J Comput Graph Stat 2011;20(1):217-240)."""
    truth = _vector(true_cate, "true_cate")
    estimate = _vector(estimated_cate, "estimated_cate", truth.size)
    return float(np.sqrt(np.mean((estimate - truth) ** 2)))


def ate_absolute_error(estimated_ate: float, true_cate: ArrayLike) -> float:
    """|estimated ATE - true sample ATE|, the true ATE being the mean of the true effects."""
    if not math.isfinite(float(estimated_ate)):
        raise ValueError(f"estimated_ate must be a finite number, got {estimated_ate!r}")
    return abs(float(estimated_ate) - float(_vector(true_cate, "true_cate").mean()))


# -- Average effect estimators -----------------------------------------------------------------

@dataclass(frozen=True)
class EffectEstimate:
    """An average effect (treated minus control) with its 95% interval and how it was made."""

    value: float
    ci_low: float
    ci_high: float
    method: str
    n_treated: int
    n_control: int

    def to_dict(self) -> dict[str, object]:
        return {"value": round(self.value, 4), "ci": [round(self.ci_low, 4),
                                                      round(self.ci_high, 4)],
                "method": self.method, "n_treated": self.n_treated,
                "n_control": self.n_control}


def difference_in_means(outcome: ArrayLike, treatment: ArrayLike) -> EffectEstimate:
    """ATE of a randomised trial: mean outcome of the treated minus that of the controls, with a
    Welch t interval (arms of unequal variance and size). Unbiased only when treatment was
    randomised; on observational data it mixes the effect with confounding."""
    y = _vector(outcome, "outcome")
    a = _treatment(treatment, y.size)
    treated, control = y[a == 1], y[a == 0]
    if min(treated.size, control.size) < 2:
        raise ValueError("each arm needs at least 2 patients for a variance, got "
                         f"{treated.size} treated and {control.size} control")
    var_t, var_c = treated.var(ddof=1) / treated.size, control.var(ddof=1) / control.size
    se = math.sqrt(var_t + var_c)
    # Welch-Satterthwaite degrees of freedom.
    df = (var_t + var_c) ** 2 / (var_t ** 2 / (treated.size - 1)
                                 + var_c ** 2 / (control.size - 1))
    value = float(treated.mean() - control.mean())
    half = float(stats.t.ppf(1 - ALPHA / 2, df)) * se
    return EffectEstimate(value, value - half, value + half, "difference in means, Welch t "
                          "interval", int(treated.size), int(control.size))


def fit_propensity(covariates: ArrayLike, treatment: ArrayLike, max_iter: int = 50,
                   tol: float = 1e-10) -> np.ndarray:
    """P(treated | covariates) from an unpenalised logistic regression with an intercept, fitted
    by Newton-Raphson (the maximum-likelihood fit a GLM routine gives).

    ``covariates`` must already be numeric: encode categoricals and add any squared or
    interaction terms first. Columns are standardised internally, which leaves the fitted
    probabilities unchanged but keeps squared terms (weight^2 ~ 10^4) well conditioned.
    Raises if the fit does not converge, which happens when the covariates (nearly) separate
    the arms: then there is no overlap to estimate an effect from.
    """
    a = _treatment(treatment, None)
    x = _design(covariates, a.size)
    spread = x.std(axis=0)
    if (spread == 0).any():
        raise ValueError(f"covariate column(s) {np.flatnonzero(spread == 0).tolist()} are "
                         "constant; drop them (the intercept is added here)")
    design = np.column_stack([np.ones(a.size), (x - x.mean(axis=0)) / spread])
    if np.linalg.matrix_rank(design) < design.shape[1]:
        raise ValueError("the propensity model's design is singular: some covariates are linear "
                         "combinations of others (e.g. every level of a one-hot category); "
                         "drop the redundant columns")
    beta = np.zeros(design.shape[1])
    for _ in range(check_positive_int(max_iter, "max_iter")):
        p = 1.0 / (1.0 + np.exp(-design @ beta))
        hessian = design.T @ (design * (p * (1 - p))[:, None])
        try:
            step = np.linalg.solve(hessian, design.T @ (a - p))
        except np.linalg.LinAlgError:
            break  # the design has full rank, so the weights p(1 - p) vanished: separation
        beta += step
        if np.max(np.abs(step)) < tol:
            p = 1.0 / (1.0 + np.exp(-design @ beta))
            if p.min() < 1e-8 or p.max() > 1 - 1e-8:
                break  # converged to (quasi-)separation: reported below
            return p
    raise ValueError("the propensity model did not converge: the covariates (nearly) separate "
                     "treated from control patients, so some patients have no comparable "
                     "patients in the other arm; remove the separating covariates or restrict "
                     "the population (see OverlapRule)")


@dataclass(frozen=True)
class IPWResult:
    """An IP-weighted ATE with the propensities and stabilised weights behind it; the mean
    stabilised weight should be close to 1 (Hernán and Robins, Section 12.3), and a mean far
    from 1 signals a misspecified propensity model or near-violations of positivity."""

    estimate: EffectEstimate
    propensity: np.ndarray
    stabilised_weights: np.ndarray

    @property
    def effective_sample_size(self) -> float:
        """Kish's effective sample size of the weights: (sum w)^2 / sum w^2."""
        w = self.stabilised_weights
        return float(w.sum() ** 2 / (w ** 2).sum())


def _ipw_difference(y: np.ndarray, a: np.ndarray, e: np.ndarray) -> tuple[float, float]:
    """Difference of the IP-weighted (Hájek) arm means and its robust standard error.

    Equals the treatment coefficient of a weighted least-squares regression of y on a, and the
    standard error equals its sandwich (HC0) error, which is what the book's GEE fit reports.
    Stabilising multiplies each arm's weights by a constant, which cancels in both.
    """
    w = np.where(a == 1, a.mean() / e, (1 - a.mean()) / (1 - e))
    variance = 0.0
    means = []
    for arm in (1.0, 0.0):
        wa, ya = w[a == arm], y[a == arm]
        mean = float(np.sum(wa * ya) / wa.sum())
        variance += float(np.sum(wa ** 2 * (ya - mean) ** 2) / wa.sum() ** 2)
        means.append(mean)
    return means[0] - means[1], math.sqrt(variance)


def ipw_ate(outcome: ArrayLike, treatment: ArrayLike, covariates: ArrayLike | None = None,
            propensity: ArrayLike | None = None,
            interval: Literal["robust", "bootstrap"] = "robust", n_resamples: int = 1000,
            seed: int = 0) -> IPWResult:
    """ATE by inverse probability weighting with stabilised weights ``P(A=a) / P(A=a | L)``.

    Give either ``covariates`` (numeric design: encoding and squared terms are the caller's
    model choice; a logistic propensity model is fitted by :func:`fit_propensity`) or a known
    ``propensity`` (a trial's randomisation probability, or one fitted elsewhere).

    ``interval="robust"``: normal interval from the sandwich standard error, treating the
    weights as known, as Hernán and Robins do (conservative for the ATE). ``"bootstrap"``:
    percentile interval over ``n_resamples`` resamples of patients, refitting the propensity
    model in each when ``covariates`` were given, so its uncertainty is included.
    """
    y = _vector(outcome, "outcome")
    a = _treatment(treatment, y.size)
    if (covariates is None) == (propensity is None):
        raise ValueError("give exactly one of covariates (to fit a propensity model) or "
                         "propensity (known or fitted elsewhere)")
    x = _design(covariates, y.size) if covariates is not None else None
    e = fit_propensity(x, a) if x is not None else _propensity(propensity, y.size)
    value, se = _ipw_difference(y, a, e)
    if interval == "robust":
        low, high = value - _Z * se, value + _Z * se
    elif interval == "bootstrap":
        rng = np.random.default_rng(seed)
        replicates = np.full(check_positive_int(n_resamples, "n_resamples"), np.nan)
        for r in range(replicates.size):
            rows = rng.integers(0, y.size, size=y.size)
            if len(np.unique(a[rows])) < 2:
                continue  # a resample with one arm has no effect; left undefined (nan)
            e_r = fit_propensity(x[rows], a[rows]) if x is not None else e[rows]
            replicates[r] = _ipw_difference(y[rows], a[rows], e_r)[0]
        low, high = (float(v) for v in percentile_interval(replicates))
    else:
        raise ValueError(f"interval must be 'robust' or 'bootstrap', got {interval!r}")
    weights = np.where(a == 1, a.mean() / e, (1 - a.mean()) / (1 - e))
    source = "logistic propensity model" if x is not None else "given propensity"
    method = (f"IP weighting, stabilised weights ({source}), "
              f"{'robust (sandwich)' if interval == 'robust' else 'bootstrap percentile'} "
              "95% interval")
    estimate = EffectEstimate(value, float(low), float(high), method, int(a.sum()),
                              int(a.size - a.sum()))
    return IPWResult(estimate=estimate, propensity=e, stabilised_weights=weights)


# -- Policy value ------------------------------------------------------------------------------

def policy_from_cate(cate: ArrayLike, higher_is_better: bool, threshold: float = 0.0
                     ) -> np.ndarray:
    """Treat (1) where the estimated benefit exceeds ``threshold``, else not (0).

    The benefit is the effect when higher outcomes are better and minus the effect when lower
    ones are, so ``threshold`` is the smallest benefit worth treating for (in the outcome's
    unit; 0 treats whenever the estimate favours treatment).
    """
    effect = _vector(cate, "cate")
    if not math.isfinite(threshold) or threshold < 0:
        raise ValueError(f"threshold is the smallest benefit worth treating for and must be a "
                         f"finite number >= 0, got {threshold!r}")
    benefit = effect if higher_is_better else -effect
    return (benefit > threshold).astype(int)


@dataclass(frozen=True)
class PolicyValue:
    """Expected outcome if everyone followed the policy, treat-all and treat-none, and the
    policy's gain over each (positive = the policy is better, whichever the outcome's
    direction), all with paired bootstrap 95% intervals."""

    policy: Estimate
    treat_all: Estimate
    treat_none: Estimate
    gain_vs_treat_all: Estimate
    gain_vs_treat_none: Estimate
    treated_fraction: float
    higher_is_better: bool
    method: str

    def to_dict(self) -> dict[str, object]:
        return {"policy": self.policy.to_dict(), "treat_all": self.treat_all.to_dict(),
                "treat_none": self.treat_none.to_dict(),
                "gain_vs_treat_all": self.gain_vs_treat_all.to_dict(),
                "gain_vs_treat_none": self.gain_vs_treat_none.to_dict(),
                "treated_fraction": round(self.treated_fraction, 4),
                "higher_is_better": self.higher_is_better, "method": self.method}


def policy_value(outcome: ArrayLike, treatment: ArrayLike, policy: ArrayLike,
                 propensity: ArrayLike, higher_is_better: bool,
                 mu0: ArrayLike | None = None, mu1: ArrayLike | None = None,
                 n_resamples: int = 1000, seed: int = 0) -> PolicyValue:
    """Value of a treatment policy estimated on held-out patients.

    Without outcome models: self-normalised inverse probability weighting, the mean outcome of
    the patients whose actual treatment agrees with the policy, each weighted by 1 / P(their
    treatment | x). With ``mu0``/``mu1`` (predicted outcomes without/with treatment, from
    models fitted on other data): the doubly robust (AIPW) estimate, consistent if either the
    propensity or the outcome models are right. ``propensity`` is the design probability in a
    trial. Intervals resample patients; the propensity and outcome models are held fixed, as
    they were fitted on separate training data.
    """
    y = _vector(outcome, "outcome")
    a = _treatment(treatment, y.size)
    pi = _treatment(policy, y.size, require_both_arms=False)
    e = _propensity(propensity, y.size)
    if (mu0 is None) != (mu1 is None):
        raise ValueError("give both mu0 and mu1 (doubly robust) or neither (IPW)")
    # Per-patient terms for the three policies (rows: policy, treat-all, treat-none), so every
    # value is one weighted mean and the bootstrap reuses one resample for all three (paired).
    policies = np.vstack([pi, np.ones_like(pi), np.zeros_like(pi)])
    if mu0 is not None and mu1 is not None:
        m0, m1 = _vector(mu0, "mu0", y.size), _vector(mu1, "mu1", y.size)
        psi1 = m1 + a / e * (y - m1)
        psi0 = m0 + (1 - a) / (1 - e) * (y - m0)
        numerators = policies * psi1 + (1 - policies) * psi0
        denominators = np.ones_like(numerators)
        method = "doubly robust (AIPW)"
    else:
        follows = (a == policies).astype(float)
        inverse = np.where(a == 1, 1 / e, 1 / (1 - e))
        numerators, denominators = follows * inverse * y, follows * inverse
        method = "self-normalised inverse probability weighting"
    counts = np.vstack([np.ones(y.size), resample_weights(
        np.random.default_rng(seed).integers(
            0, y.size, size=(check_positive_int(n_resamples, "n_resamples"), y.size)),
        y.size)])
    with np.errstate(invalid="ignore", divide="ignore"):
        # A resample with nobody following a policy leaves its value undefined (nan).
        values = (counts @ numerators.T) / (counts @ denominators.T)  # (1 + R, 3)
    sign = 1.0 if higher_is_better else -1.0

    def estimate(column: np.ndarray) -> Estimate:
        return Estimate.from_replicates(float(column[0]), column[1:])

    return PolicyValue(
        policy=estimate(values[:, 0]), treat_all=estimate(values[:, 1]),
        treat_none=estimate(values[:, 2]),
        gain_vs_treat_all=estimate(sign * (values[:, 0] - values[:, 1])),
        gain_vs_treat_none=estimate(sign * (values[:, 0] - values[:, 2])),
        treated_fraction=float(pi.mean()), higher_is_better=higher_is_better,
        method=f"{method}, paired bootstrap 95% interval ({n_resamples} resamples)",
    )


# -- Overlap -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class OverlapCheck:
    """Which patients are inside overlap, and for each one outside, why (empty string inside)."""

    inside: np.ndarray
    reasons: tuple[str, ...]

    @property
    def fraction_outside(self) -> float:
        return float(1.0 - self.inside.mean())


@dataclass(frozen=True)
class OverlapRule:
    """Where effects may be estimated and recommended: propensity inside both
    ``[alpha, 1 - alpha]`` and the common support of the two arms seen in training.

    The first bound is the trimming rule of Crump et al. (2009), who show that dropping
    patients with propensity outside [0.1, 0.9] approximates the most precisely estimable
    population; the second (the smallest propensity at which both arms were seen to the largest)
    refuses patients whose like were only ever seen in one arm, whatever alpha is. Fit it once
    on the training propensities and store it with the model, so prediction applies the same
    bounds to new patients.
    """

    alpha: float
    support_low: float
    support_high: float

    @classmethod
    def fit(cls, propensity: ArrayLike, treatment: ArrayLike, alpha: float = CRUMP_ALPHA
            ) -> OverlapRule:
        e = _vector(propensity, "propensity")
        a = _treatment(treatment, e.size)
        if not 0.0 <= alpha < 0.5:
            raise ValueError(f"alpha must be in [0, 0.5) (the kept interval is [alpha, "
                             f"1 - alpha]), got {alpha!r}")
        treated, control = e[a == 1], e[a == 0]
        return cls(alpha=float(alpha), support_low=float(max(treated.min(), control.min())),
                   support_high=float(min(treated.max(), control.max())))

    @property
    def interval(self) -> tuple[float, float]:
        """The propensities inside overlap: the intersection of both rules."""
        return max(self.alpha, self.support_low), min(1.0 - self.alpha, self.support_high)

    def check(self, propensity: ArrayLike) -> OverlapCheck:
        """Mark each patient inside or outside overlap, stating the rule that excluded them."""
        e = _vector(propensity, "propensity")
        reasons = []
        for value in e:
            if value < self.alpha:
                reasons.append(f"propensity {value:.3f} is below {self.alpha:g}: patients like "
                               "this were almost never treated (outside the trimming interval "
                               f"[{self.alpha:g}, {1 - self.alpha:g}], Crump et al. 2009)")
            elif value > 1 - self.alpha:
                reasons.append(f"propensity {value:.3f} is above {1 - self.alpha:g}: patients "
                               "like this were almost always treated (outside the trimming "
                               f"interval [{self.alpha:g}, {1 - self.alpha:g}], Crump et al. "
                               "2009)")
            elif value < self.support_low:
                reasons.append(f"propensity {value:.3f} is below {self.support_low:.3f}, the "
                               "lowest at which both arms were seen in training: no comparable "
                               "treated patients")
            elif value > self.support_high:
                reasons.append(f"propensity {value:.3f} is above {self.support_high:.3f}, the "
                               "highest at which both arms were seen in training: no comparable "
                               "untreated patients")
            else:
                reasons.append("")
        inside = np.array([reason == "" for reason in reasons], dtype=bool)
        return OverlapCheck(inside=inside, reasons=tuple(reasons))

    def to_dict(self) -> dict[str, object]:
        low, high = self.interval
        return {"alpha": self.alpha, "support": [round(self.support_low, 4),
                                                 round(self.support_high, 4)],
                "interval": [round(low, 4), round(high, 4)], "reference": _CRUMP_CITATION}


_QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)


def overlap_summary(propensity: ArrayLike, treatment: ArrayLike, alpha: float = CRUMP_ALPHA
                    ) -> dict[str, object]:
    """Propensity distribution per arm (n, min, quantiles, max), the overlap rule fitted on
    these patients and the fraction of each arm outside it; JSON-ready."""
    e = _vector(propensity, "propensity")
    a = _treatment(treatment, e.size)
    rule = OverlapRule.fit(e, a, alpha)
    outside = ~rule.check(e).inside
    summary: dict[str, object] = {"rule": rule.to_dict(),
                                  "fraction_outside": round(float(outside.mean()), 4)}
    for label, arm in (("treated", 1.0), ("control", 0.0)):
        values = e[a == arm]
        summary[label] = {
            "n": int(values.size), "min": round(float(values.min()), 4),
            **{f"q{round(q * 100):02d}": round(float(np.quantile(values, q)), 4)
               for q in _QUANTILES},
            "max": round(float(values.max()), 4),
            "fraction_outside": round(float(outside[a == arm].mean()), 4),
        }
    return summary


# -- Per-patient recommendation ----------------------------------------------------------------

@dataclass(frozen=True)
class Recommendation:
    """One patient's estimated effect (treated minus control) with its 95% interval, and the
    recommended arm, or ``None`` (no recommendation) with the reason."""

    effect: float
    ci_low: float
    ci_high: float
    recommended_arm: str | None
    reason: str

    def to_dict(self) -> dict[str, object]:
        return {"effect": round(self.effect, 4), "ci": [round(self.ci_low, 4),
                                                        round(self.ci_high, 4)],
                "recommended_arm": self.recommended_arm, "reason": self.reason}


def recommend(effect: float, ci_low: float, ci_high: float, *, higher_is_better: bool,
              treated_label: str, control_label: str, overlap_reason: str = "",
              threshold: float = 0.0) -> Recommendation:
    """Recommend an arm only when the whole interval is on one side of ``threshold``.

    The benefit of treatment is the effect (or minus it when lower outcomes are better).
    Treated is recommended when the interval's whole benefit exceeds ``threshold`` (the
    smallest benefit worth treating for), control when it is wholly below it, and nothing
    when the interval straddles it or the patient is outside overlap (``overlap_reason`` from
    :meth:`OverlapRule.check`, which is then the stated reason).
    """
    values = (float(effect), float(ci_low), float(ci_high))
    if not all(math.isfinite(v) for v in values) or not values[1] <= values[0] <= values[2]:
        raise ValueError(f"need finite ci_low <= effect <= ci_high, got {values}")
    if not math.isfinite(threshold) or threshold < 0:
        raise ValueError(f"threshold must be a finite number >= 0, got {threshold!r}")
    effect, low, high = values
    if overlap_reason:
        return Recommendation(effect, low, high, None, f"outside overlap: {overlap_reason}")
    benefit_low, benefit_high = (low, high) if higher_is_better else (-high, -low)
    direction = "higher" if higher_is_better else "lower"
    interval = f"95% interval of the effect [{low:.3g}, {high:.3g}]"
    if benefit_low > threshold:
        return Recommendation(effect, low, high, treated_label,
                              f"{interval}: {treated_label} gives a {direction} outcome by more "
                              f"than {threshold:g}")
    if benefit_high < threshold:
        return Recommendation(effect, low, high, control_label,
                              f"{interval}: the benefit of {treated_label} is below "
                              f"{threshold:g} across the interval")
    return Recommendation(effect, low, high, None,
                          f"{interval} includes a benefit of {threshold:g}: the data do not "
                          "tell the two arms apart for this patient")
