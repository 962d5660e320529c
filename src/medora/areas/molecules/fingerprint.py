"""Classical molecule baselines: tree ensembles on Morgan counts plus RDKit 2D descriptors.

These are the strongest simple baselines on small molecular property sets; a deep model that
cannot beat them on the same split has not earned its cost. Both are explained by atom
occlusion: the change in prediction when the fingerprint environments an atom belongs to are
removed (Riniker and Landrum, J Cheminform 2013).
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from typing import ClassVar

import numpy as np
from rdkit import Chem
from sklearn.ensemble import HistGradientBoostingRegressor, RandomForestRegressor

from medora.areas.molecules.descriptors import (
    ALL_DESCRIPTORS,
    descriptor_matrix,
    morgan_counts,
    morgan_counts_without_each_atom,
)
from medora.areas.molecules.regression import MoleculeRegressor
from medora.models.base import ModelKind


class _FingerprintRegressor(MoleculeRegressor):
    kind: ClassVar[ModelKind] = "baseline"
    explanation_method: ClassVar[str] = ("atom occlusion of Morgan environments (Riniker and "
                                         "Landrum 2013)")

    def __init__(self, seed: int = 0, descriptors: Sequence[str] = ALL_DESCRIPTORS) -> None:
        self.seed = seed
        self.descriptors = tuple(descriptors)

    def _features(self, mols: Sequence[Chem.Mol]) -> np.ndarray:
        return np.hstack([morgan_counts(mols), descriptor_matrix(mols, self.descriptors)])

    def _fit(self, mols: list[Chem.Mol], y: np.ndarray,
             validation: tuple[list[Chem.Mol], np.ndarray] | None) -> None:
        features = self._features(mols)
        # Trees split on raw values, but scikit-learn's forest rejects nan: impute medians.
        self.fill_ = np.nan_to_num(np.nanmedian(features, axis=0))
        self.estimator_ = self._estimator().fit(self._filled(features), y)

    def _filled(self, features: np.ndarray) -> np.ndarray:
        return np.where(np.isnan(features), self.fill_, features)

    @abstractmethod
    def _estimator(self) -> RandomForestRegressor | HistGradientBoostingRegressor: ...

    def explain(self, mols: Sequence[Chem.Mol]) -> list[np.ndarray]:
        weights = []
        for mol in mols:
            full, occluded = morgan_counts_without_each_atom(mol)
            descriptors = descriptor_matrix([mol], self.descriptors)
            rows = np.hstack([np.vstack([full, occluded]),
                              np.repeat(descriptors, len(occluded) + 1, axis=0)])
            predictions = self.estimator_.predict(self._filled(rows))
            weights.append(predictions[0] - predictions[1:])
        return weights


class FingerprintRandomForest(_FingerprintRegressor):
    """Random forest (500 trees); its spread is the standard deviation across trees."""

    name: ClassVar[str] = "random_forest"
    display_name: ClassVar[str] = "Random forest on Morgan counts + RDKit descriptors"

    def _estimator(self) -> RandomForestRegressor:
        return RandomForestRegressor(n_estimators=500, max_features=0.3, min_samples_leaf=1,
                                     n_jobs=-1, random_state=self.seed)

    def predict_spread(self, mols: Sequence[Chem.Mol]) -> tuple[np.ndarray, np.ndarray]:
        features = self._filled(self._features(mols))
        per_tree = np.stack([tree.predict(features) for tree in self.estimator_.estimators_])
        return per_tree.mean(axis=0), per_tree.std(axis=0)


class FingerprintGradientBoosting(_FingerprintRegressor):
    """Histogram gradient boosting with early stopping on an internal split; it has no spread
    of its own, so its conformal intervals have one width for every molecule."""

    name: ClassVar[str] = "gradient_boosting"
    display_name: ClassVar[str] = "Gradient boosting on Morgan counts + RDKit descriptors"

    def _estimator(self) -> HistGradientBoostingRegressor:
        return HistGradientBoostingRegressor(max_iter=1000, learning_rate=0.05,
                                             early_stopping=True, validation_fraction=0.1,
                                             n_iter_no_change=50, random_state=self.seed)

    def predict_spread(self, mols: Sequence[Chem.Mol]) -> tuple[np.ndarray, np.ndarray]:
        prediction = self.estimator_.predict(self._filled(self._features(mols)))
        return prediction, np.zeros_like(prediction)
