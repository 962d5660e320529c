"""One training loop for every torch model in medora.

The Trainer owns what every model needs and none should re-implement: mini-batches, early
stopping on the validation loss, a checkpoint after every epoch, resumption after a crash that
continues exactly where the crashed run stopped (weights, optimiser, early-stopping state, and
the random number generators), deterministic seeds and a progress bar.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path

import torch
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from torch import nn
from torch.utils.data import DataLoader, Dataset

from medora.train.config import TrainerConfig, TrainingHistory
from medora.train.seed import seed_everything

LossFunction = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
#: Turns a list of dataset items into ``(inputs, targets)``; inputs are whatever the module
#: takes (a tensor for tabular models, a batched molecular graph for graph models).
Collate = Callable[[list], tuple[object, torch.Tensor]]
EpochCallback = Callable[[int, dict[str, float]], None]
CHECKPOINT_NAME = "last.pt"

__all__ = ["CHECKPOINT_NAME", "Collate", "EpochCallback", "LossFunction", "Trainer",
           "TrainerConfig", "TrainingHistory"]


class Trainer:
    """Fit a module by mini-batch gradient descent with early stopping and checkpoints."""

    def __init__(self, config: TrainerConfig | None = None,
                 callbacks: Sequence[EpochCallback] = (), collate: Collate | None = None) -> None:
        self.config = config or TrainerConfig()
        self.callbacks = list(callbacks)
        self.collate = collate

    def fit(self, module: nn.Module, loss_fn: LossFunction, train: Dataset,
            validation: Dataset) -> TrainingHistory:
        """Train ``module`` in place; on return it holds the weights of the best epoch."""
        config = self.config
        generator = seed_everything(config.seed)
        optimizer = torch.optim.AdamW(module.parameters(), lr=config.learning_rate,
                                      weight_decay=config.weight_decay)
        history = TrainingHistory()
        best_state = copy.deepcopy(module.state_dict())
        start_epoch = 0
        checkpoint = self._checkpoint_path()
        if checkpoint is not None and checkpoint.exists():
            state = torch.load(checkpoint, weights_only=False)
            if state.get("fingerprint") != self._fingerprint(module):
                raise ValueError(
                    f"{checkpoint} was written by a different model or training configuration; "
                    "delete it, or train into another output folder, to start afresh")
            module.load_state_dict(state["module"])
            optimizer.load_state_dict(state["optimizer"])
            generator.set_state(state["generator"])
            torch.set_rng_state(state["torch_rng"])
            history = TrainingHistory(**state["history"])
            history.resumed_from_epoch = state["epoch"] + 1
            best_state = state["best_module"]
            start_epoch = state["epoch"] + 1

        loader = DataLoader(train, batch_size=config.batch_size, shuffle=True,
                            generator=generator, collate_fn=self.collate)
        validation_loader = DataLoader(validation, batch_size=max(config.batch_size, 1024),
                                       collate_fn=self.collate)
        epochs_without_improvement = start_epoch - 1 - history.best_epoch if start_epoch else 0
        with self._progress() as progress:
            task = progress.add_task(config.description, total=config.max_epochs,
                                     completed=start_epoch, loss="")
            for epoch in range(start_epoch, config.max_epochs):
                if epochs_without_improvement >= config.patience:
                    history.stopped_early = True
                    break
                train_loss = self._train_epoch(module, loss_fn, loader, optimizer)
                validation_loss = self._evaluate(module, loss_fn, validation_loader)
                history.train_loss.append(train_loss)
                history.validation_loss.append(validation_loss)
                if validation_loss < history.best_validation_loss - config.min_delta:
                    history.best_validation_loss = validation_loss
                    history.best_epoch = epoch
                    best_state = copy.deepcopy(module.state_dict())
                    epochs_without_improvement = 0
                else:
                    epochs_without_improvement += 1
                if checkpoint is not None:
                    self._save_checkpoint(checkpoint, epoch, module, optimizer, generator,
                                          history, best_state, self._fingerprint(module))
                progress.update(task, advance=1,
                                loss=f"train {train_loss:.4f} val {validation_loss:.4f}")
                for callback in self.callbacks:
                    callback(epoch, {"train_loss": train_loss,
                                     "validation_loss": validation_loss})
        module.load_state_dict(best_state)
        module.eval()
        return history

    @staticmethod
    def _train_epoch(module: nn.Module, loss_fn: LossFunction, loader: DataLoader,
                     optimizer: torch.optim.Optimizer) -> float:
        module.train()
        total, count = 0.0, 0
        for inputs, targets in loader:
            optimizer.zero_grad()
            loss = loss_fn(module(inputs), targets)
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * len(targets)
            count += len(targets)
        return total / count

    @staticmethod
    @torch.no_grad()
    def _evaluate(module: nn.Module, loss_fn: LossFunction, loader: DataLoader) -> float:
        """Mean loss over the validation set (the loss functions average over a batch)."""
        module.eval()
        total, count = 0.0, 0
        for inputs, targets in loader:
            total += float(loss_fn(module(inputs), targets)) * len(targets)
            count += len(targets)
        return total / count

    def _fingerprint(self, module: nn.Module) -> str:
        """What must match for a checkpoint to be resumable: architecture and hyper-parameters."""
        settings = {k: v for k, v in asdict(self.config).items()
                    if k not in {"checkpoint_dir", "progress", "description"}}
        shapes = {name: tuple(p.shape) for name, p in module.state_dict().items()}
        return f"{type(module).__qualname__}|{sorted(settings.items())}|{sorted(shapes.items())}"

    def _checkpoint_path(self) -> Path | None:
        if self.config.checkpoint_dir is None:
            return None
        directory = Path(self.config.checkpoint_dir)
        directory.mkdir(parents=True, exist_ok=True)
        return directory / CHECKPOINT_NAME

    @staticmethod
    def _save_checkpoint(path: Path, epoch: int, module: nn.Module,
                         optimizer: torch.optim.Optimizer, generator: torch.Generator,
                         history: TrainingHistory, best_state: dict[str, torch.Tensor],
                         fingerprint: str) -> None:
        state = {"fingerprint": fingerprint, "epoch": epoch, "module": module.state_dict(),
                 "optimizer": optimizer.state_dict(), "generator": generator.get_state(),
                 "torch_rng": torch.get_rng_state(), "history": history.to_dict(),
                 "best_module": best_state}
        # Write then rename, so a crash mid-write never leaves a corrupt checkpoint behind.
        temporary = path.with_suffix(".tmp")
        torch.save(state, temporary)
        os.replace(temporary, path)

    def _progress(self) -> Progress:
        return Progress(TextColumn("{task.description}"), BarColumn(),
                        TextColumn("epoch {task.completed}/{task.total}"),
                        TextColumn("{task.fields[loss]}"), TimeElapsedColumn(),
                        disable=not self.config.progress, transient=True)
