"""Survival baselines from scikit-survival: Coxnet, random survival forest and gradient-boosted
Cox, behind the estimator surface of :mod:`medora.areas.survival.models`.

Licence boundary. scikit-survival is GPL-3.0; medora is Apache-2.0. medora therefore never
imports ``sksurv`` from its core: this module imports it only inside the methods that fit a
model, it is installed only through the optional extra (``pip install
'medora[gpl-baselines]'``), and the survival run lists these baselines as "not installed"
when the package is absent (:func:`sksurv_available`). A user who installs the extra and
distributes the combination takes on the GPL's terms for it; medora's own code does not
change licence.
"""

from __future__ import annotations

import importlib.util
from typing import Any, ClassVar

import numpy as np

from medora.areas.survival.metrics import harrell_c_index
from medora.areas.survival.models import SurvivalModel
from medora.models.base import ModelKind

__all__ = [
    "GPL_INSTALL_HINT",
    "CoxnetModel",
    "GPLBaselineUnavailableError",
    "GradientBoostedCoxModel",
    "RandomSurvivalForestModel",
    "sksurv_available",
]

GPL_INSTALL_HINT = "pip install 'medora[gpl-baselines]'"
#: Inner folds that choose Coxnet's penalty on the training patients.
COXNET_INNER_FOLDS = 3


class GPLBaselineUnavailableError(ImportError):
    """A scikit-survival baseline was asked for without scikit-survival installed."""


def sksurv_available() -> bool:
    """Whether scikit-survival can be imported (checked without importing it)."""
    return importlib.util.find_spec("sksurv") is not None


def _structured(time: np.ndarray, event: np.ndarray) -> np.ndarray:
    """The (event, time) record array scikit-survival takes as its target."""
    target = np.empty(time.size, dtype=[("event", bool), ("time", np.float64)])
    target["event"], target["time"] = event, time
    return target


def _evaluate_steps(functions: Any, times: np.ndarray) -> np.ndarray:
    """scikit-survival step functions (value a * y + b from knot x on) read at ``times``;
    1 before the first knot, the last value after the last."""
    rows = []
    for function in functions:
        index = np.searchsorted(function.x, times, side="right") - 1
        values = function.a * function.y + function.b
        rows.append(np.where(index >= 0, values[np.maximum(index, 0)], 1.0))
    return np.asarray(rows, dtype=np.float64)


class _ScikitSurvivalModel(SurvivalModel):
    """Fits one scikit-survival estimator; validation patients join the training data (none
    of these estimators stops early)."""

    kind: ClassVar[ModelKind] = "baseline"

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed

    def _fit(self, x: np.ndarray, time: np.ndarray, event: np.ndarray,
             validation: tuple[np.ndarray, np.ndarray, np.ndarray] | None) -> None:
        if not sksurv_available():
            raise GPLBaselineUnavailableError(
                f"{self.display_name} needs scikit-survival (GPL-3.0), which is not "
                f"installed; install it with {GPL_INSTALL_HINT}, or leave this baseline out")
        if validation is not None:
            x = np.concatenate([x, validation[0]])
            time = np.concatenate([time, validation[1]])
            event = np.concatenate([event, validation[2]])
        self.estimator_ = self._estimator_fit(x, _structured(time, event))

    def _estimator_fit(self, x: np.ndarray, target: np.ndarray) -> Any:
        return self._estimator().fit(x, target)

    def _estimator(self) -> Any:
        raise NotImplementedError  # subclasses either build one estimator or override fitting

    def _risk(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(self.estimator_.predict(x), dtype=np.float64)

    def _survival(self, x: np.ndarray, times: np.ndarray) -> np.ndarray:
        return _evaluate_steps(self.estimator_.predict_survival_function(x), times)


class CoxnetModel(_ScikitSurvivalModel):
    """Elastic-net Cox (scikit-survival ``CoxnetSurvivalAnalysis``, l1_ratio 0.5) with the
    penalty chosen on the training patients: the path's alphas are scored by Harrell's C on
    3 inner folds (stratified on the event), and the path refitted on all training patients
    is read at the best one."""

    name: ClassVar[str] = "coxnet"
    display_name: ClassVar[str] = "Coxnet (elastic net)"
    description: ClassVar[str] = "scikit-survival CoxnetSurvivalAnalysis, inner-CV alpha"

    def __init__(self, seed: int = 0, l1_ratio: float = 0.5, n_alphas: int = 30) -> None:
        super().__init__(seed)
        self.l1_ratio = l1_ratio
        self.n_alphas = n_alphas

    def _path(self, alphas: np.ndarray | None = None) -> Any:
        from sksurv.linear_model import CoxnetSurvivalAnalysis

        # alpha_min_ratio 0.05: below it the path on 80 probes and 40 events runs into the
        # unpenalised likelihood's divergence and scikit-survival stops with an error.
        return CoxnetSurvivalAnalysis(l1_ratio=self.l1_ratio, n_alphas=self.n_alphas,
                                      alpha_min_ratio=0.05, alphas=alphas,
                                      fit_baseline_model=True)

    def _estimator_fit(self, x: np.ndarray, target: np.ndarray) -> Any:
        from sklearn.model_selection import StratifiedKFold

        path = self._path().fit(x, target)
        alphas = path.alphas_
        scores = np.zeros(alphas.size)
        splitter = StratifiedKFold(COXNET_INNER_FOLDS, shuffle=True, random_state=self.seed)
        for inner_train, inner_test in splitter.split(x, target["event"]):
            inner = self._path(alphas).fit(x[inner_train], target[inner_train])
            held_out = target[inner_test]
            for k, alpha in enumerate(inner.alphas_):
                risk = inner.predict(x[inner_test], alpha=alpha)
                scores[k] += harrell_c_index(held_out["time"], held_out["event"], risk)
        self.alpha_ = float(alphas[int(np.argmax(scores))])
        return path

    def _risk(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(self.estimator_.predict(x, alpha=self.alpha_), dtype=np.float64)

    def _survival(self, x: np.ndarray, times: np.ndarray) -> np.ndarray:
        return _evaluate_steps(
            self.estimator_.predict_survival_function(x, alpha=self.alpha_), times)


class RandomSurvivalForestModel(_ScikitSurvivalModel):
    """Random survival forest (Ishwaran et al. 2008; scikit-survival), log-rank splits, leaves
    of at least 15 patients (the settings of scikit-survival's GBSG2 guide); risk is the
    predicted cumulative hazard summed over the training times."""

    name: ClassVar[str] = "random_survival_forest"
    display_name: ClassVar[str] = "Random survival forest"
    description: ClassVar[str] = "scikit-survival RandomSurvivalForest"

    def __init__(self, seed: int = 0, n_estimators: int = 200) -> None:
        super().__init__(seed)
        self.n_estimators = n_estimators

    def _estimator(self) -> Any:
        from sksurv.ensemble import RandomSurvivalForest

        # One job: the run's folds are many and small; threads would fight over 2 cores.
        return RandomSurvivalForest(n_estimators=self.n_estimators, min_samples_split=10,
                                    min_samples_leaf=15, max_features="sqrt", n_jobs=1,
                                    random_state=self.seed)


class GradientBoostedCoxModel(_ScikitSurvivalModel):
    """Gradient boosting on the Cox partial likelihood (scikit-survival
    ``GradientBoostingSurvivalAnalysis``) with stumps (depth 1: an additive model, which
    suits 80 probes on 198 patients), learning rate 0.1 and 80% of the patients per stage
    (stochastic boosting) for regularisation; Breslow baseline hazard."""

    name: ClassVar[str] = "gradient_boosted_cox"
    display_name: ClassVar[str] = "Gradient-boosted Cox"
    description: ClassVar[str] = "scikit-survival GradientBoostingSurvivalAnalysis (coxph)"

    def __init__(self, seed: int = 0, n_estimators: int = 200) -> None:
        super().__init__(seed)
        self.n_estimators = n_estimators

    def _estimator(self) -> Any:
        from sksurv.ensemble import GradientBoostingSurvivalAnalysis

        return GradientBoostingSurvivalAnalysis(loss="coxph", n_estimators=self.n_estimators,
                                                learning_rate=0.1, max_depth=1, subsample=0.8,
                                                random_state=self.seed)
