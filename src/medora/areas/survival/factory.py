"""The survival models by registry name, and fresh ones built with medora's training defaults
(see :func:`medora.models.factory.build_model`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from medora.areas.survival.models import SurvivalModel

def survival_model_classes() -> dict[str, type[SurvivalModel]]:
    """The survival models by registry name (the scikit-survival ones are listed whether or
    not the package is installed; they say so when fitted without it)."""
    from medora.areas.survival.gpl import (
        CoxnetModel,
        GradientBoostedCoxModel,
        RandomSurvivalForestModel,
    )
    from medora.areas.survival.models import CoxPHModel, DeepSurv, LogisticHazard

    return {cls.name: cls for cls in (DeepSurv, LogisticHazard, CoxPHModel, CoxnetModel,
                                      RandomSurvivalForestModel, GradientBoostedCoxModel)}


def build_survival_model(name: str, seed: int = 0, quick: bool = False, progress: bool = True,
                         checkpoint_dir: Path | None = None) -> SurvivalModel:
    """A fresh survival model by registry name (see :func:`build_model`). The deep models
    train 5 cross-fitted members (2 when quick) with their own learning rate and weight-decay
    grid (:mod:`medora.areas.survival.models`)."""
    from medora.areas.survival.models import DeepSurv, LogisticHazard

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
