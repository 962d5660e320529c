"""The surface every molecule property model shares, deep or classical, and the conformal
wrapper that turns any of them into intervals with a stated coverage.

Like a scikit-learn regressor: ``fit(mols, y)`` and ``predict(mols)``; plus ``predict_spread``
(the model's own uncertainty: ensemble or per-tree disagreement) and ``explain`` (one weight per
atom, in the target's units, for drawing on the 2D depiction).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, Self

import numpy as np
from rdkit import Chem

from medora.areas.molecules.chem.similarity import ApplicabilityDomain, morgan_fingerprints
from medora.evaluate.conformal import SplitConformal
from medora.models.base import ModelKind


def check_regression_target(mols: Sequence[Chem.Mol], y: np.ndarray) -> np.ndarray:
    y = np.asarray(y, dtype=np.float64)
    if y.ndim != 1 or len(y) != len(mols):
        raise ValueError(f"expected one target value per molecule ({len(mols)}), got shape "
                         f"{y.shape}")
    if not np.isfinite(y).all():
        raise ValueError(f"targets must be finite numbers; {int((~np.isfinite(y)).sum())} are "
                         "missing or infinite")
    return y


class MoleculeRegressor(ABC):
    """A model of a continuous molecular property from the structure alone."""

    name: ClassVar[str]
    kind: ClassVar[ModelKind]
    display_name: ClassVar[str]
    explanation_method: ClassVar[str]

    def fit(self, mols: Sequence[Chem.Mol], y: np.ndarray,
            mols_validation: Sequence[Chem.Mol] | None = None,
            y_validation: np.ndarray | None = None) -> Self:
        """Fit on training molecules; validation molecules, if given, only stop training."""
        y = check_regression_target(mols, y)
        validation = None
        if mols_validation is not None and y_validation is not None:
            validation = (list(mols_validation),
                          check_regression_target(mols_validation, y_validation))
        self._fit(list(mols), y, validation)
        return self

    def predict(self, mols: Sequence[Chem.Mol]) -> np.ndarray:
        return self.predict_spread(mols)[0]

    @abstractmethod
    def predict_spread(self, mols: Sequence[Chem.Mol]) -> tuple[np.ndarray, np.ndarray]:
        """Prediction and the model's own spread around it (a standard deviation)."""

    @abstractmethod
    def explain(self, mols: Sequence[Chem.Mol]) -> list[np.ndarray]:
        """Per molecule, one contribution per atom (in the target's units)."""

    @abstractmethod
    def _fit(self, mols: list[Chem.Mol], y: np.ndarray,
             validation: tuple[list[Chem.Mol], np.ndarray] | None) -> None: ...


@dataclass(frozen=True)
class IntervalPrediction:
    """Predicted value per molecule with a conformal interval of the stated coverage."""

    value: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    spread: np.ndarray
    coverage: float


@dataclass(frozen=True)
class TrainingReference:
    """The training molecules a prediction can be checked against: their measured values as
    evidence, and the applicability domain their fingerprints define."""

    smiles: tuple[str, ...]
    values: np.ndarray
    domain: ApplicabilityDomain

    @classmethod
    def from_molecules(cls, mols: Sequence[Chem.Mol], y: np.ndarray) -> TrainingReference:
        return cls(smiles=tuple(Chem.MolToSmiles(mol) for mol in mols),
                   values=np.asarray(y, dtype=np.float64),
                   domain=ApplicabilityDomain.fit(morgan_fingerprints(mols)))

    def nearest(self, mols: Sequence[Chem.Mol], k: int = 3) -> tuple[np.ndarray, np.ndarray]:
        """Indices and Tanimoto similarities of each molecule's ``k`` nearest training
        molecules, most similar first."""
        return self.domain.index.nearest(morgan_fingerprints(mols), k=min(k, len(self.smiles)))


class ConformalRegressor:
    """A fitted molecule model plus split-conformal calibration and its training reference:
    what is registered and served.

    The calibration set is the validation split, which training used only to stop early; the
    test split then checks the promised coverage (reported beside the nominal one).
    """

    def __init__(self, model: MoleculeRegressor, conformal: SplitConformal,
                 reference: TrainingReference) -> None:
        self.model = model
        self.conformal = conformal
        self.reference = reference

    @classmethod
    def calibrate(cls, model: MoleculeRegressor, mols: Sequence[Chem.Mol], y: np.ndarray,
                  reference: TrainingReference, coverage: float = 0.9) -> ConformalRegressor:
        value, spread = model.predict_spread(mols)
        return cls(model, SplitConformal(coverage=coverage).fit(
            check_regression_target(mols, y), value, spread), reference)

    def predict(self, mols: Sequence[Chem.Mol]) -> np.ndarray:
        return self.model.predict(mols)

    def predict_interval(self, mols: Sequence[Chem.Mol]) -> IntervalPrediction:
        value, spread = self.model.predict_spread(mols)
        lower, upper = self.conformal.interval(value, spread)
        return IntervalPrediction(value=value, lower=lower, upper=upper, spread=spread,
                                  coverage=self.conformal.coverage)

    def explain(self, mols: Sequence[Chem.Mol]) -> list[np.ndarray]:
        return self.model.explain(mols)
