"""The models by registry name, and fresh ones built with medora's training defaults."""

from __future__ import annotations

from pathlib import Path

from medora.models.base import Model
from medora.models.baselines import GradientBoostingModel, LogisticRegressionModel
from medora.models.fingerprint import FingerprintGradientBoosting, FingerprintRandomForest
from medora.models.graph import DMPNNRegressor
from medora.models.regression import MoleculeRegressor
from medora.models.tabular import MLPClassifier
from medora.train.trainer import TrainerConfig

MODEL_CLASSES: dict[str, type[Model]] = {
    cls.name: cls for cls in (MLPClassifier, LogisticRegressionModel, GradientBoostingModel)
}


def build_model(name: str, seed: int = 0, quick: bool = False, progress: bool = True,
                checkpoint_dir: Path | None = None) -> Model:
    """A fresh model by registry name; ``quick`` trades accuracy for a fast smoke run.

    ``checkpoint_dir`` makes a torch model checkpoint every epoch there and resume from it.
    """
    if name not in MODEL_CLASSES:
        raise KeyError(f"unknown model {name!r}; available: {', '.join(sorted(MODEL_CLASSES))}")
    if name == MLPClassifier.name:
        trainer = TrainerConfig(max_epochs=15 if quick else 300, patience=5 if quick else 30,
                                learning_rate=1e-2, weight_decay=1e-2, progress=progress,
                                checkpoint_dir=checkpoint_dir)
        return MLPClassifier(n_members=2 if quick else 5, dropout=(0.2, 0.5, 0.7),
                             trainer=trainer, seed=seed)
    if name == GradientBoostingModel.name:
        return GradientBoostingModel(seed=seed, max_iter=100 if quick else 500)
    return MODEL_CLASSES[name](seed=seed)


MOLECULE_MODEL_CLASSES: dict[str, type[MoleculeRegressor]] = {
    cls.name: cls for cls in (DMPNNRegressor, FingerprintRandomForest, FingerprintGradientBoosting)
}


def build_molecule_model(name: str, seed: int = 0, quick: bool = False, progress: bool = True,
                         checkpoint_dir: Path | None = None) -> MoleculeRegressor:
    """A fresh molecule property model by registry name (see :func:`build_model`)."""
    if name not in MOLECULE_MODEL_CLASSES:
        raise KeyError(f"unknown molecule model {name!r}; available: "
                       f"{', '.join(sorted(MOLECULE_MODEL_CLASSES))}")
    if name == DMPNNRegressor.name:
        trainer = TrainerConfig(max_epochs=8 if quick else 150, patience=4 if quick else 25,
                                batch_size=50, learning_rate=1e-3, weight_decay=0.0,
                                progress=progress, checkpoint_dir=checkpoint_dir)
        return DMPNNRegressor(n_members=2 if quick else 5, trainer=trainer, seed=seed)
    return MOLECULE_MODEL_CLASSES[name](seed=seed)
