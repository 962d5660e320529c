"""The molecule area's service fixtures: a tiny served D-MPNN and the app serving it beside
Framingham."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from medora.areas.molecules.graph import DMPNNRegressor
from medora.areas.molecules.regression import ConformalRegressor, TrainingReference
from medora.areas.molecules.tasks import FREESOLV, INTERVAL_COVERAGE
from medora.registry.store import CARD_NAME, ModelStore, ModelVersion
from medora.train.trainer import TrainerConfig

from ...conftest import Service, running_service

MOLECULE_TASK = FREESOLV.name


@pytest.fixture(scope="session")
def molecule_model(freesolv_sample: tuple[list, np.ndarray]) -> ConformalRegressor:
    """A tiny D-MPNN (hidden size 16, 2 members, 2 epochs) on 120 FreeSolv molecules, with
    conformal intervals calibrated on 20 more: a served molecule model in a few seconds."""
    mols, y = freesolv_sample
    trainer = TrainerConfig(max_epochs=2, patience=2, batch_size=32, progress=False)
    model = DMPNNRegressor(hidden_size=16, ffn_hidden_size=16, n_members=2, trainer=trainer,
                           seed=0).fit(mols[:120], y[:120], mols[120:140], y[120:140])
    return ConformalRegressor.calibrate(model, mols[120:140], y[120:140],
                                        TrainingReference.from_molecules(mols[:120], y[:120]),
                                        coverage=INTERVAL_COVERAGE)


def register_molecule_model(store: ModelStore, model: ConformalRegressor) -> ModelVersion:
    """Register ``model`` as the next draft of the FreeSolv task."""
    return store.register(MOLECULE_TASK, model, model_name="dmpnn", model_kind="graph",
                          run_id="test", data_fingerprint="0" * 64, metrics={}, config={},
                          documents=lambda record: {CARD_NAME: f"# {MOLECULE_TASK}"})


@pytest.fixture
def molecule_service(database_url: str, registry: ModelStore, molecule_model: ConformalRegressor,
                     password_hash: str, patient: dict[str, float | None]) -> Iterator[Service]:
    """The app on a fresh database and registry with Framingham v1 and FreeSolv v1 approved."""
    register_molecule_model(registry, molecule_model)
    with running_service(database_url, registry, password_hash, patient) as service:
        assert service.set_status(1, "approve").status_code == 200
        assert service.request("POST", f"/models/{MOLECULE_TASK}/versions/1/approve",
                               json={}).status_code == 200
        yield service
