"""Classical baselines every deep model is compared against, explained by their own means."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegressionCV

from medora.models.base import Model, ModelKind


class LogisticRegressionModel(Model):
    """L2-penalised logistic regression, penalty chosen by 5-fold CV on the log-loss.

    Its attributions are exact: coefficient x standardised value, the log-odds each feature
    adds relative to the average training patient.
    """

    name: ClassVar[str] = "logistic_regression"
    kind: ClassVar[ModelKind] = "baseline"
    display_name: ClassVar[str] = "Logistic regression"
    explanation_method: ClassVar[str] = "coefficient x standardised value (exact)"

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed

    def _fit(
        self, x: np.ndarray, y: np.ndarray, validation: tuple[np.ndarray, np.ndarray] | None
    ) -> None:
        self.estimator_ = LogisticRegressionCV(
            Cs=10,
            cv=5,
            l1_ratios=(0.0,),
            scoring="neg_log_loss",
            use_legacy_attributes=False,
            max_iter=5000,
            random_state=self.seed,
        ).fit(x, y)

    def _decision_function(self, x: np.ndarray) -> np.ndarray:
        return self.estimator_.decision_function(x)

    def _attributions(self, x: np.ndarray) -> np.ndarray:
        return x * self.estimator_.coef_[0]


class GradientBoostingModel(Model):
    """Histogram gradient boosting with early stopping on the validation log-loss.

    Explained by TreeSHAP (exact Shapley values of the trees' log-odds output).
    """

    name: ClassVar[str] = "gradient_boosting"
    kind: ClassVar[ModelKind] = "baseline"
    display_name: ClassVar[str] = "Gradient boosting"
    explanation_method: ClassVar[str] = "TreeSHAP (exact Shapley values)"

    def __init__(
        self,
        seed: int = 0,
        learning_rate: float = 0.05,
        max_iter: int = 500,
        max_leaf_nodes: int = 15,
        min_samples_leaf: int = 20,
        l2_regularization: float = 1.0,
    ) -> None:
        self.seed = seed
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization

    def _fit(
        self, x: np.ndarray, y: np.ndarray, validation: tuple[np.ndarray, np.ndarray] | None
    ) -> None:
        self.estimator_ = HistGradientBoostingClassifier(
            learning_rate=self.learning_rate,
            max_iter=self.max_iter,
            max_leaf_nodes=self.max_leaf_nodes,
            min_samples_leaf=self.min_samples_leaf,
            l2_regularization=self.l2_regularization,
            early_stopping=True,
            validation_fraction=None if validation is not None else 0.15,
            n_iter_no_change=30,
            scoring="loss",
            random_state=self.seed,
        )
        if validation is not None:
            self.estimator_.fit(x, y, X_val=validation[0], y_val=validation[1])
        else:
            self.estimator_.fit(x, y)

    def _decision_function(self, x: np.ndarray) -> np.ndarray:
        return self.estimator_.decision_function(x)

    def _attributions(self, x: np.ndarray) -> np.ndarray:
        import shap  # heavy import, only needed when explaining

        return np.asarray(shap.TreeExplainer(self.estimator_).shap_values(x))
