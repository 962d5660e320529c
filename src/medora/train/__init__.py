"""Training: one Trainer for every torch model, seeding, and the end-to-end run of a task."""

from medora.train.seed import seed_everything
from medora.train.trainer import Trainer, TrainerConfig, TrainingHistory

__all__ = ["Trainer", "TrainerConfig", "TrainingHistory", "seed_everything"]
