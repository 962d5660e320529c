"""The tabular models by registry name, and fresh ones built with medora's training defaults."""

from __future__ import annotations

from pathlib import Path

from medora.models.base import Model
from medora.models.baselines import GradientBoostingModel, LogisticRegressionModel
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
