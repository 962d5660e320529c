"""Classical treatment-effect baselines behind the effect-model surface: the T-, X- and
DR-learners with gradient-boosting base learners, and EconML's causal forest.

The meta-learners (Künzel, Sekhon, Bickel and Yu, PNAS 2019; Kennedy, Electron J Stat 2023)
are written here on scikit-learn estimators; they give no per-patient interval (a bootstrap
over refits would, at many times the cost), and say so. The causal forest is EconML's
``CausalForestDML`` (Athey, Tibshirani and Wager, Ann Stat 2019), whose intervals come from the
forest's own variance estimate.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, ClassVar, ParamSpec, Self, TypeVar

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from medora.areas.effects.models import EffectModel, EffectPrediction
from medora.models.base import ModelKind

#: Inverse propensity weights in the DR-learner's pseudo-outcomes use the propensity bounded
#: here (weights at most 100), so a few near-certain patients cannot dominate the final fit.
DR_PROPENSITY_BOUNDS = (0.01, 0.99)
P = ParamSpec("P")
R = TypeVar("R")


def single_threaded(method: Callable[P, R]) -> Callable[P, R]:
    """Run ``method`` with scikit-learn's OpenMP and BLAS pools at one thread. Gradient
    boosting's OpenMP threads and torch's (a second OpenMP runtime in the same process) spin
    against each other on the same cores: measured on 2 busy cores, a quick effect run took 30
    times longer with both pools at full size than with scikit-learn at one thread, which is
    no slower on the few thousand patients these tasks have."""

    @wraps(method)
    def limited(*args: P.args, **kwargs: P.kwargs) -> R:
        with threadpool_limits(limits=1):
            return method(*args, **kwargs)

    return limited


_NO_INTERVAL = "none: {name} gives a point estimate only (an interval would need a bootstrap " \
               "over refits)"


def outcome_learner(seed: int, max_iter: int) -> HistGradientBoostingRegressor:
    """The base regressor of every meta-learner: gradient boosting with shallow trees and a
    small learning rate, robust on a few hundred to a few thousand patients."""
    return HistGradientBoostingRegressor(max_iter=max_iter, learning_rate=0.05,
                                         max_leaf_nodes=15, min_samples_leaf=20,
                                         random_state=seed)


@single_threaded
def fit_propensity_model(x: pd.DataFrame | ArrayLike, treatment: ArrayLike) -> Pipeline:
    """:func:`propensity_learner` fitted on ``x`` and ``treatment``."""
    return propensity_learner().fit(x, treatment)


def propensity_learner() -> Pipeline:
    """P(treated | x): L2-penalised logistic regression on standardised covariates, which
    converges even where the unpenalised fit would not (many one-hot columns)."""
    return make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=2000))


class _Baseline(EffectModel):
    """Fits and predicts with scikit-learn single-threaded (:func:`single_threaded`)."""

    kind: ClassVar[ModelKind] = "baseline"

    @single_threaded
    def fit(self, *args: Any, **kwargs: Any) -> Self:
        return super().fit(*args, **kwargs)

    @single_threaded
    def predict_effect(self, x: pd.DataFrame | ArrayLike) -> EffectPrediction:
        return super().predict_effect(x)


class _MetaLearner(_Baseline):
    interval_method: ClassVar[str] = ""

    def __init__(self, seed: int = 0, max_iter: int = 300) -> None:
        self.seed = seed
        self.max_iter = max_iter

    def _arm_models(self, x: np.ndarray, treatment: np.ndarray, y: np.ndarray
                    ) -> tuple[HistGradientBoostingRegressor, HistGradientBoostingRegressor]:
        """One outcome model per arm, each fitted on that arm's patients."""
        control, treated = (outcome_learner(self.seed, self.max_iter)
                            .fit(x[treatment == arm], y[treatment == arm]) for arm in (0, 1))
        return control, treated

    def _point(self, cate: np.ndarray) -> EffectPrediction:
        return EffectPrediction(cate=cate, lower=None, upper=None,
                                interval=_NO_INTERVAL.format(name=self.display_name))


class TLearner(_MetaLearner):
    """T-learner: an outcome model per arm; the effect is their difference."""

    name: ClassVar[str] = "t_learner"
    display_name: ClassVar[str] = "T-learner (gradient boosting)"
    provides_outcomes: ClassVar[bool] = True

    def _fit(self, x: np.ndarray, treatment: np.ndarray, y: np.ndarray,
             validation: tuple[np.ndarray, np.ndarray, np.ndarray] | None) -> None:
        self.mu0_, self.mu1_ = self._arm_models(x, treatment, y)

    @single_threaded
    def predict_outcomes(self, x: pd.DataFrame | ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        inputs = self._inputs(x)
        return self.mu0_.predict(inputs), self.mu1_.predict(inputs)

    def _predict_effect(self, x: np.ndarray) -> EffectPrediction:
        return self._point(self.mu1_.predict(x) - self.mu0_.predict(x))


class XLearner(_MetaLearner):
    """X-learner (Künzel et al. 2019): each arm's outcome model imputes the other arm's
    missing outcome, an effect model is fitted per arm on the imputed effects, and the two are
    blended by the propensity: tau(x) = e(x) tau0(x) + (1 - e(x)) tau1(x), which leans on the
    effect model learned from the larger arm where that arm dominates."""

    name: ClassVar[str] = "x_learner"
    display_name: ClassVar[str] = "X-learner (gradient boosting)"
    provides_outcomes: ClassVar[bool] = True
    provides_propensity: ClassVar[bool] = True

    def _fit(self, x: np.ndarray, treatment: np.ndarray, y: np.ndarray,
             validation: tuple[np.ndarray, np.ndarray, np.ndarray] | None) -> None:
        self.mu0_, self.mu1_ = self._arm_models(x, treatment, y)
        treated, control = treatment == 1, treatment == 0
        imputed_treated = y[treated] - self.mu0_.predict(x[treated])
        imputed_control = self.mu1_.predict(x[control]) - y[control]
        self.tau1_ = outcome_learner(self.seed, self.max_iter).fit(x[treated], imputed_treated)
        self.tau0_ = outcome_learner(self.seed, self.max_iter).fit(x[control], imputed_control)
        self.propensity_ = propensity_learner().fit(x, treatment)

    @single_threaded
    def predict_outcomes(self, x: pd.DataFrame | ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        inputs = self._inputs(x)
        return self.mu0_.predict(inputs), self.mu1_.predict(inputs)

    @single_threaded
    def propensity(self, x: pd.DataFrame | ArrayLike) -> np.ndarray:
        return self.propensity_.predict_proba(self._inputs(x))[:, 1]

    def _predict_effect(self, x: np.ndarray) -> EffectPrediction:
        e = self.propensity_.predict_proba(x)[:, 1]
        return self._point(e * self.tau0_.predict(x) + (1 - e) * self.tau1_.predict(x))


class DRLearner(_MetaLearner):
    """DR-learner (Kennedy 2023): doubly robust pseudo-outcomes
    mu1 - mu0 + t (y - mu1) / e - (1 - t) (y - mu0) / (1 - e), with the outcome and propensity
    models cross-fitted (each patient's nuisances come from models fitted on the other folds),
    regressed on the covariates."""

    name: ClassVar[str] = "dr_learner"
    display_name: ClassVar[str] = "DR-learner (gradient boosting)"

    def __init__(self, seed: int = 0, max_iter: int = 300, n_folds: int = 2) -> None:
        super().__init__(seed, max_iter)
        self.n_folds = n_folds

    def _fit(self, x: np.ndarray, treatment: np.ndarray, y: np.ndarray,
             validation: tuple[np.ndarray, np.ndarray, np.ndarray] | None) -> None:
        pseudo = np.empty_like(y)
        folds = StratifiedKFold(self.n_folds, shuffle=True, random_state=self.seed)
        for fit_rows, score_rows in folds.split(x, treatment):
            mu0, mu1 = self._arm_models(x[fit_rows], treatment[fit_rows], y[fit_rows])
            e = np.clip(propensity_learner().fit(x[fit_rows], treatment[fit_rows])
                        .predict_proba(x[score_rows])[:, 1], *DR_PROPENSITY_BOUNDS)
            t, outcome = treatment[score_rows], y[score_rows]
            m0, m1 = mu0.predict(x[score_rows]), mu1.predict(x[score_rows])
            pseudo[score_rows] = (m1 - m0 + t * (outcome - m1) / e
                                  - (1 - t) * (outcome - m0) / (1 - e))
        self.tau_ = outcome_learner(self.seed, self.max_iter).fit(x, pseudo)

    def _predict_effect(self, x: np.ndarray) -> EffectPrediction:
        return self._point(self.tau_.predict(x))


class CausalForest(_Baseline):
    """EconML's causal forest with double machine learning (``CausalForestDML``): outcome and
    treatment residualised by cross-fitted nuisance models, then an honest generalized random
    forest on the residuals."""

    name: ClassVar[str] = "causal_forest"
    display_name: ClassVar[str] = "Causal forest (EconML CausalForestDML)"
    interval_method: ClassVar[str] = (
        "EconML's 95% interval from the forest's bootstrap-of-little-bags variance (Athey, "
        "Tibshirani and Wager 2019); it treats the nuisance models as exact")

    def __init__(self, seed: int = 0, n_estimators: int = 400, max_iter: int = 300) -> None:
        self.seed = seed
        self.n_estimators = n_estimators
        self.max_iter = max_iter

    def _fit(self, x: np.ndarray, treatment: np.ndarray, y: np.ndarray,
             validation: tuple[np.ndarray, np.ndarray, np.ndarray] | None) -> None:
        from econml.dml import CausalForestDML  # importing EconML takes seconds: only here

        self.forest_ = CausalForestDML(
            model_y=outcome_learner(self.seed, self.max_iter), model_t=propensity_learner(),
            discrete_treatment=True, n_estimators=self.n_estimators, cv=2,
            random_state=self.seed)
        self.forest_.fit(y, treatment.astype(int), X=x)

    def _predict_effect(self, x: np.ndarray) -> EffectPrediction:
        lower, upper = self.forest_.effect_interval(x, alpha=0.05)
        return EffectPrediction(cate=np.asarray(self.forest_.effect(x), dtype=float),
                                lower=np.asarray(lower, dtype=float),
                                upper=np.asarray(upper, dtype=float),
                                interval=self.interval_method)
