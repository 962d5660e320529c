"""The Trainer: early stopping, checkpoints and exact resumption after a crash."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn
from torch.utils.data import TensorDataset

from medora.models.tabular import TabularMLP
from medora.train import Trainer, TrainerConfig


class Crash(RuntimeError):
    pass


def _data() -> tuple[TensorDataset, TensorDataset]:
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(300, 6, generator=generator)
    y = (x[:, 0] - x[:, 1] + 0.5 * torch.randn(300, generator=generator) > 0).float()
    return TensorDataset(x[:200], y[:200]), TensorDataset(x[200:], y[200:])


def _fit(config: TrainerConfig, callbacks=()) -> tuple[TabularMLP, object]:
    torch.manual_seed(config.seed)
    module = TabularMLP(6, (16,), dropout=0.1)
    history = Trainer(config, callbacks).fit(module, nn.BCEWithLogitsLoss(), *_data())
    return module, history


def test_training_reduces_validation_loss_and_keeps_the_best_epoch() -> None:
    _, history = _fit(TrainerConfig(max_epochs=30, batch_size=32, progress=False))
    assert history.validation_loss[history.best_epoch] == history.best_validation_loss
    assert history.best_validation_loss < history.validation_loss[0]


def test_early_stopping_stops_after_patience() -> None:
    _, history = _fit(TrainerConfig(max_epochs=500, batch_size=32, patience=3,
                                    learning_rate=0.05, progress=False))
    assert history.stopped_early
    assert len(history.validation_loss) == history.best_epoch + 1 + 3


def test_same_seed_gives_identical_weights() -> None:
    config = TrainerConfig(max_epochs=5, batch_size=32, progress=False)
    first, _ = _fit(config)
    second, _ = _fit(config)
    for a, b in zip(first.state_dict().values(), second.state_dict().values(), strict=True):
        assert torch.equal(a, b)


def test_resume_after_crash_matches_an_uninterrupted_run(tmp_path: Path) -> None:
    def crash_at_epoch_4(epoch: int, _: dict[str, float]) -> None:
        if epoch == 4:
            raise Crash("simulated power cut")

    uninterrupted, full_history = _fit(
        TrainerConfig(max_epochs=10, batch_size=32, progress=False))
    config = TrainerConfig(max_epochs=10, batch_size=32, progress=False,
                           checkpoint_dir=tmp_path)
    with pytest.raises(Crash):
        _fit(config, callbacks=[crash_at_epoch_4])
    assert (tmp_path / "last.pt").exists()

    resumed, history = _fit(config)
    assert history.resumed_from_epoch == 5
    assert history.validation_loss == pytest.approx(full_history.validation_loss, abs=1e-6)
    for a, b in zip(uninterrupted.state_dict().values(), resumed.state_dict().values(),
                    strict=True):
        torch.testing.assert_close(a, b)


def test_checkpoint_from_another_configuration_is_refused(tmp_path: Path) -> None:
    _fit(TrainerConfig(max_epochs=2, batch_size=32, progress=False, checkpoint_dir=tmp_path))
    with pytest.raises(ValueError, match="different model or training configuration"):
        _fit(TrainerConfig(max_epochs=2, batch_size=64, progress=False,
                           checkpoint_dir=tmp_path))


def test_invalid_configuration_is_rejected() -> None:
    with pytest.raises(ValueError, match="max_epochs must be a positive integer"):
        TrainerConfig(max_epochs=0)
