"""The molecule property models by registry name, and fresh ones built with medora's training
defaults (see :func:`medora.models.factory.build_model`)."""

from __future__ import annotations

from pathlib import Path

from medora.areas.molecules.fingerprint import FingerprintGradientBoosting, FingerprintRandomForest
from medora.areas.molecules.graph import DMPNNRegressor
from medora.areas.molecules.regression import MoleculeRegressor
from medora.train.config import TrainerConfig

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
