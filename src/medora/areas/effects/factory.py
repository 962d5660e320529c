"""The treatment-effect models by registry name, and fresh ones built with medora's training
defaults (see :func:`medora.models.factory.build_model`)."""

from __future__ import annotations

from pathlib import Path

from medora.areas.effects.baselines import CausalForest, DRLearner, TLearner, XLearner
from medora.areas.effects.models import DragonNet, EffectModel, OffsetTARNet, TARNet
from medora.train.config import TrainerConfig

EFFECT_MODEL_CLASSES: dict[str, type[EffectModel]] = {
    cls.name: cls for cls in (TARNet, DragonNet, OffsetTARNet, TLearner, XLearner, DRLearner,
                              CausalForest)
}


def build_effect_model(name: str, seed: int = 0, quick: bool = False, progress: bool = True,
                       checkpoint_dir: Path | None = None) -> EffectModel:
    """A fresh treatment-effect model by registry name (see :func:`build_model`)."""
    if name not in EFFECT_MODEL_CLASSES:
        raise KeyError(f"unknown effect model {name!r}; available: "
                       f"{', '.join(sorted(EFFECT_MODEL_CLASSES))}")
    cls = EFFECT_MODEL_CLASSES[name]
    if cls in (TARNet, DragonNet, OffsetTARNet):
        trainer = TrainerConfig(max_epochs=15 if quick else 300, patience=5 if quick else 20,
                                batch_size=64, learning_rate=1e-3, weight_decay=1e-4,
                                progress=progress, checkpoint_dir=checkpoint_dir)
        return cls(n_members=2 if quick else 5, trainer=trainer, seed=seed)
    if cls is CausalForest:
        return CausalForest(seed=seed, n_estimators=100 if quick else 400,
                            max_iter=50 if quick else 300)
    return cls(seed=seed, max_iter=50 if quick else 300)
