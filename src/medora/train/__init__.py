"""Training: one Trainer for every torch model, seeding, and the end-to-end run of a task."""

from medora.core.lazy import lazy_exports

# Lazy, so that the torch-free records (``medora.train.config``) import without the Trainer.
_EXPORTS = {
    "Trainer": "trainer",
    "TrainerConfig": "config",
    "TrainingHistory": "config",
    "seed_everything": "seed",
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
__all__ = sorted(_EXPORTS)
