"""The models by registry name, and fresh ones built with medora's training defaults."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from medora.models.base import Model
from medora.models.baselines import GradientBoostingModel, LogisticRegressionModel
from medora.models.effect_baselines import CausalForest, DRLearner, TLearner, XLearner
from medora.models.effects import DragonNet, EffectModel, OffsetTARNet, TARNet
from medora.models.fingerprint import FingerprintGradientBoosting, FingerprintRandomForest
from medora.models.graph import DMPNNRegressor
from medora.models.regression import MoleculeRegressor
from medora.models.survival import SurvivalModel
from medora.models.tabular import MLPClassifier
from medora.train.trainer import TrainerConfig

if TYPE_CHECKING:
    from medora.models.event_baselines import BagOfCodesClassifier
    from medora.models.sequence import EventSequenceClassifier

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


def survival_model_classes() -> dict[str, type[SurvivalModel]]:
    """The survival models by registry name (the scikit-survival ones are listed whether or
    not the package is installed; they say so when fitted without it)."""
    from medora.models.survival import CoxPHModel, DeepSurv, LogisticHazard
    from medora.models.survival_gpl import (
        CoxnetModel,
        GradientBoostedCoxModel,
        RandomSurvivalForestModel,
    )

    return {cls.name: cls for cls in (DeepSurv, LogisticHazard, CoxPHModel, CoxnetModel,
                                      RandomSurvivalForestModel, GradientBoostedCoxModel)}


def build_survival_model(name: str, seed: int = 0, quick: bool = False, progress: bool = True,
                         checkpoint_dir: Path | None = None) -> SurvivalModel:
    """A fresh survival model by registry name (see :func:`build_model`). The deep models
    train 5 cross-fitted members (2 when quick) with their own learning rate and weight-decay
    grid (:mod:`medora.models.survival`)."""
    from medora.models.survival import DeepSurv, LogisticHazard

    classes = survival_model_classes()
    if name not in classes:
        raise KeyError(f"unknown survival model {name!r}; available: "
                       f"{', '.join(sorted(classes))}")
    cls = classes[name]
    if issubclass(cls, DeepSurv | LogisticHazard):
        changes: dict[str, object] = {"max_epochs": 20, "patience": 5} if quick else {}
        trainer = cls.default_trainer(progress=progress, checkpoint_dir=checkpoint_dir,
                                      **changes)
        return cls(n_members=2 if quick else 5, trainer=trainer, seed=seed)
    if name in ("random_survival_forest", "gradient_boosted_cox"):
        return cls(seed=seed, n_estimators=50 if quick else 200)
    return cls(seed=seed)


EVENT_MODEL_NAMES = ("event_transformer", "event_gru", "bag_logistic_regression",
                     "bag_gradient_boosting")


def build_event_model(name: str, seed: int = 0, quick: bool = False, progress: bool = True,
                      checkpoint_dir: Path | None = None
                      ) -> EventSequenceClassifier | BagOfCodesClassifier:
    """A fresh event-sequence model by registry name (see :func:`build_model`): a sequence
    model, or a tabular baseline (``bag_<name>``) on bag-of-codes counts and demographics."""
    from medora.models.event_baselines import BagOfCodesClassifier
    from medora.models.sequence import EventGRU, EventTransformer, SequenceModelConfig

    if name not in EVENT_MODEL_NAMES:
        raise KeyError(f"unknown event-sequence model {name!r}; available: "
                       f"{', '.join(EVENT_MODEL_NAMES)}")
    # Codes must appear in this many training patients to get their own id or count column.
    min_count = 2 if quick else 5
    if name.startswith("bag_"):
        return BagOfCodesClassifier(build_model(name.removeprefix("bag_"), seed=seed,
                                                quick=quick), min_count=min_count)
    config = (SequenceModelConfig(width=16, layers=1, heads=2, max_events=64,
                                  min_count=min_count) if quick
              else SequenceModelConfig(min_count=min_count))
    trainer = TrainerConfig(max_epochs=3 if quick else 40, patience=2 if quick else 6,
                            batch_size=64, learning_rate=3e-3 if quick else 1e-3,
                            weight_decay=1e-2, progress=progress, checkpoint_dir=checkpoint_dir)
    cls = EventTransformer if name == EventTransformer.name else EventGRU
    return cls(config, trainer, seed=seed)
