"""Large inputs are read, featurised and assessed in forked worker processes: the results
must be exactly those of one process, in input order."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch
from rdkit import Chem

from medora.data import molecules
from medora.data.molecules import map_chunks, read_molecules, worker_processes

SMILES = ["CCO", "c1ccccc1O", "CC(=O)Oc1ccccc1C(=O)O", "[Na+].[O-]C(=O)c1ccccc1", "C1CC",
          "CN(C)(C)(C)C", "Cl.CCN", "F/C=C/F", "C[C@H](N)C(=O)O", "[2H]C([2H])Cl", "c1cccc1",
          "O=[N+]([O-])c1ccc(Cl)cc1", "CCN(CC)CC", "C(", "OCC(O)CO", "[Cu+2].[O-]S(=O)(=O)[O-]"]


@pytest.fixture
def parallel(monkeypatch: pytest.MonkeyPatch):
    """Make map_chunks fork its workers even for a handful of molecules."""
    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("one CPU: everything runs in one process")
    monkeypatch.setattr(molecules, "PARALLEL_MINIMUM", 1)


def test_map_chunks_keeps_order(parallel) -> None:
    torch.ones(512, 512) @ torch.ones(512, 512)  # the parent has used its thread pool
    assert worker_processes(10) >= 2
    chunks = map_chunks(lambda start, stop: list(range(start, stop)), 1003, 100)
    assert [i for chunk in chunks for i in chunk] == list(range(1003))


def test_small_inputs_and_other_threads_stay_in_one_process() -> None:
    import threading

    assert worker_processes(10) == 1
    found = []
    thread = threading.Thread(target=lambda: found.append(worker_processes(10**6)))
    thread.start()
    thread.join()
    assert found == [1]


def test_reading_in_worker_processes_equals_one_process(parallel, tmp_path,
                                                        monkeypatch) -> None:
    path = tmp_path / "library.smi"
    path.write_text("".join(f"{s} m{i}\n" for i, s in enumerate(SMILES * 40)))
    together = read_molecules(path, skip_invalid=True)
    monkeypatch.setattr(molecules, "PARALLEL_MINIMUM", 10**9)
    alone = read_molecules(path, skip_invalid=True)
    assert len(together) == len(alone) == 12 * 40 and len(together.invalid) == 4 * 40
    for name in ("smiles", "ids", "rows", "n_fragments", "invalid"):
        assert getattr(together, name) == getattr(alone, name), name
    assert [m.ToBinary() for m in together.mols] == [m.ToBinary() for m in alone.mols]
    assert [Chem.MolToSmiles(m) for m in together.mols] == list(alone.smiles)


def test_prediction_in_worker_processes_equals_one_process(parallel, freesolv_sample,
                                                           monkeypatch) -> None:
    from medora.areas.molecules import predict
    from medora.areas.molecules.graph import DMPNNRegressor
    from medora.areas.molecules.regression import ConformalRegressor, TrainingReference
    from medora.train.trainer import TrainerConfig

    mols, y = freesolv_sample
    trainer = TrainerConfig(max_epochs=2, patience=2, batch_size=32, progress=False)
    model = DMPNNRegressor(hidden_size=16, ffn_hidden_size=16, n_members=2, trainer=trainer
                           ).fit(mols[:100], y[:100], mols[100:120], y[100:120])
    predictor = ConformalRegressor.calibrate(
        model, mols[100:120], y[100:120], TrainingReference.from_molecules(mols[:100], y[:100]))
    monkeypatch.setattr(predict, "PREDICTION_BATCH", 16)
    interval, assessments = predict._molecule_interval(predictor, mols)
    monkeypatch.setattr(molecules, "PARALLEL_MINIMUM", 10**9)
    alone, alone_assessments = predict._molecule_interval(predictor, mols)
    for name in ("value", "lower", "upper", "spread"):
        assert np.array_equal(getattr(interval, name), getattr(alone, name)), name
    assert assessments == alone_assessments
    assert np.allclose(interval.value, predictor.predict_interval(mols).value, atol=1e-5)
