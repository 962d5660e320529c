"""A molecule task's run end to end on a small real slice: every model compared on one split,
intervals checked, report, card and metrics written, the candidate registered."""

from __future__ import annotations

import json

import pytest
from rdkit import Chem

from medora.areas.molecules.run import train_molecule_task
from medora.registry.store import ModelStore
from medora.train.run import RunConfig


def test_molecule_run_writes_and_registers(small_molecule_task, tmp_path) -> None:
    run = train_molecule_task(small_molecule_task, RunConfig(quick=True, out_dir=tmp_path,
                                                             progress=False, split="scaffold"))
    assert list(run.results) == ["dmpnn", "random_forest", "gradient_boosting"]
    assert run.split_kind == "scaffold" and sum(run.split_sizes.values()) == 150
    for result in run.results.values():
        assert result.test_prediction.shape == run.y_test.shape
        assert 0.0 <= result.coverage["empirical"] <= 1.0
        assert result.metrics["rmse"].ci_low <= result.metrics["rmse"].value
    assert set(run.comparisons) == {"dmpnn_vs_random_forest", "dmpnn_vs_gradient_boosting"}
    assert "RMSE" in run.verdict and "kcal/mol" in run.verdict
    document = json.loads((tmp_path / "metrics.json").read_text())
    assert document["split"]["kind"] == "scaffold"
    assert document["intervals"]["dmpnn"]["nominal"] == 0.9
    assert set(document["models"]["random_forest"]) == {"rmse", "mae", "r2"}
    card = (tmp_path / "card.md").read_text()
    assert "split-conformal interval of 90% nominal coverage" in card
    report = (tmp_path / "report.html").read_text()
    assert report.count('alt="Atom map of') == 3 and "data:image/png;base64," in report
    assert len(run.examples[0].atom_weights) > 0
    record = ModelStore().get("test.freesolv_small")
    assert record.model_name == "dmpnn" and record.status == "draft"
    loaded = ModelStore().load(record)
    test_mol = Chem.MolFromSmiles(run.test_smiles[0])
    assert loaded.predict([test_mol])[0] == pytest.approx(run.primary.test_prediction[0],
                                                          abs=1e-4)
