"""How a torch model is trained, and what happened: plain records, importable without torch.

A fitted estimator keeps both (its :class:`TrainerConfig` and one :class:`TrainingHistory` per
network), so they travel in its pickle: here, a model artifact unpickles without loading torch.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass
class TrainerConfig:
    """How to train; every field is recorded with the run."""

    max_epochs: int = 200
    batch_size: int = 128
    learning_rate: float = 1e-3
    weight_decay: float = 1e-4
    patience: int = 20
    min_delta: float = 1e-4
    seed: int = 0
    checkpoint_dir: Path | None = None
    progress: bool = True
    description: str = "training"

    def __post_init__(self) -> None:
        for name in ("max_epochs", "batch_size", "patience"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be a positive integer, got {getattr(self, name)}")
        if self.learning_rate <= 0:
            raise ValueError(f"learning_rate must be positive, got {self.learning_rate}")


@dataclass
class TrainingHistory:
    """What happened during training: per-epoch losses and where the best model was."""

    train_loss: list[float] = field(default_factory=list)
    validation_loss: list[float] = field(default_factory=list)
    best_epoch: int = -1
    best_validation_loss: float = float("inf")
    stopped_early: bool = False
    resumed_from_epoch: int | None = None

    def to_dict(self) -> dict[str, object]:
        return asdict(self)
