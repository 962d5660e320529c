"""The event-sequence models by registry name, and fresh ones built with medora's training defaults
(see :func:`medora.models.factory.build_model`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from medora.models.factory import build_model
from medora.train.config import TrainerConfig

if TYPE_CHECKING:
    from medora.areas.ehr.baselines import BagOfCodesClassifier
    from medora.areas.ehr.models import EventSequenceClassifier

EVENT_MODEL_NAMES = ("event_transformer", "event_gru", "bag_logistic_regression",
                     "bag_gradient_boosting")


def build_event_model(name: str, seed: int = 0, quick: bool = False, progress: bool = True,
                      checkpoint_dir: Path | None = None
                      ) -> EventSequenceClassifier | BagOfCodesClassifier:
    """A fresh event-sequence model by registry name (see :func:`build_model`): a sequence
    model, or a tabular baseline (``bag_<name>``) on bag-of-codes counts and demographics."""
    from medora.areas.ehr.baselines import BagOfCodesClassifier
    from medora.areas.ehr.models import EventGRU, EventTransformer, SequenceModelConfig

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
