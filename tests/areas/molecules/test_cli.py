"""The molecule verbs end to end: train, predict with atom maps, bad molecules, profile and
screen, on a small registered slice of FreeSolv."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from medora.cli.app import app

runner = CliRunner()
TASK = "test.freesolv_small"


@pytest.fixture
def trained(small_molecule_task, tmp_path: Path) -> Path:
    result = runner.invoke(app, ["train", TASK, "--quick", "--out", str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    assert "conformal intervals: nominal coverage 90%" in result.output
    return tmp_path


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_molecule_help() -> None:
    for verb in (["mol", "profile"], ["mol", "screen"], ["predict"], ["train"]):
        result = runner.invoke(app, [*verb, "--help"])
        assert result.exit_code == 0 and "Usage" in result.output


def test_predict_with_atom_maps(trained: Path) -> None:
    candidates = _write(trained / "candidates.csv",
                        "name,smiles\naspirin,CC(=O)Oc1ccccc1C(=O)O\nethanol,CCO\n")
    out = trained / "predictions.csv"
    result = runner.invoke(app, ["predict", TASK, str(candidates), "--explain", "--id-column",
                                 "name", "--out", str(out)])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out)
    assert table["molecule_id"].tolist() == ["aspirin", "ethanol"]
    assert (table["lower"] <= table["expt"]).all() and (table["expt"] <= table["upper"]).all()
    assert {"in_domain", "nearest_training_smiles", "top_atoms"} <= set(table.columns)
    png = (trained / "atom-maps" / "aspirin.png").read_bytes()
    assert png.startswith(b"\x89PNG")


def test_a_registered_model_predicts_without_torch(trained: Path) -> None:
    """Loading and predicting run on arrays: importing torch alone took over a second of every
    ``medora predict`` call. A fresh interpreter gives the same values as this one."""
    from rdkit import Chem

    from medora.registry.store import ModelStore

    smiles = ["CC(=O)Oc1ccccc1C(=O)O", "CCO", "[Xe]"]
    script = (
        "import sys\n"
        "from rdkit import Chem\n"
        "from medora.registry.store import ModelStore\n"
        "store = ModelStore()\n"
        f"predictor = store.load(store.get({TASK!r}))\n"
        f"mols = [Chem.MolFromSmiles(s) for s in {smiles!r}]\n"
        "print(*predictor.predict_interval(mols).value.tolist(), 'torch' in sys.modules)\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            check=True)
    *values, torch_loaded = result.stdout.split()
    assert torch_loaded == "False"
    store = ModelStore()
    expected = store.load(store.get(TASK)).predict_interval(
        [Chem.MolFromSmiles(s) for s in smiles]).value
    assert [float(v) for v in values] == pytest.approx(expected.tolist(), abs=1e-6)


def test_invalid_molecules_stop_unless_skipped(trained: Path) -> None:
    candidates = _write(trained / "bad.smi", "CCO ethanol\nC1CC invalid_ring\nN(C)(C)(C)C too\n")
    out = trained / "never.csv"
    result = runner.invoke(app, ["predict", TASK, str(candidates), "--out", str(out)])
    assert result.exit_code == 2
    assert "line 2" in result.output and "line 3" in result.output
    assert "--skip-invalid" in result.output and not out.exists()
    result = runner.invoke(app, ["predict", TASK, str(candidates), "--skip-invalid", "--out",
                                 str(out)])
    assert result.exit_code == 0, result.output
    assert pd.read_csv(out)["molecule_id"].tolist() == ["ethanol"]


def test_split_must_be_offered(small_molecule_task) -> None:
    result = runner.invoke(app, ["train", TASK, "--split", "given", "--quick"])
    assert result.exit_code == 2 and "offers the split(s) random, scaffold" in result.output


def test_profile_lists_predictions_alerts_and_rules(trained: Path) -> None:
    result = runner.invoke(app, ["mol", "profile", "CC(=O)Oc1ccccc1C(=O)O", "--json"])
    assert result.exit_code == 0, result.output
    profile = json.loads(result.output)
    assert profile["formula"] == "C9H8O4"
    assert profile["predictions"][TASK]["units"] == "kcal/mol"
    assert "train one" in profile["predictions"]["mol.solubility"]["unavailable"]
    assert profile["drug_likeness"]["lipinski"]["passed"] is True
    assert any(alert["catalog"] == "BRENK" for alert in profile["alerts"])
    result = runner.invoke(app, ["mol", "profile", "C1CC"])
    assert result.exit_code == 2 and "molecule 1" in result.output


def test_screen_ranks_by_the_lower_bound(trained: Path) -> None:
    library = _write(trained / "drugs.smi", "CC(=O)Oc1ccccc1C(=O)O aspirin\n"
                     "CN1C=NC2=C1C(=O)N(C(=O)N2C)C caffeine\nCC(C)Cc1ccc(cc1)C(C)C(=O)O "
                     "ibuprofen\nc1ccccc1 benzene\nnot_a_smiles broken\n")
    out = trained / "ranking.csv"
    result = runner.invoke(app, ["mol", "screen", TASK, "--library", str(library), "--out",
                                 str(out)])
    assert result.exit_code == 0, result.output
    assert "1 structures RDKit rejected" in result.output
    ranking = pd.read_csv(out)
    assert len(ranking) == 4 and ranking["rank"].tolist() == [1, 2, 3, 4]
    assert ranking["lower"].is_monotonic_decreasing
    assert ranking["evidence"].str.contains("Tanimoto").all()
    result = runner.invoke(app, ["mol", "screen", "cardio.framingham_chd"])
    assert result.exit_code == 2 and "not a molecule task" in result.output


def test_screen_refuses_an_out_it_cannot_write(tmp_path: Path) -> None:
    result = runner.invoke(app, ["mol", "screen", "mol.chembl2321810_pic50", "--out",
                                 str(tmp_path / "missing" / "ranking.csv")])
    assert result.exit_code == 2
    assert "does not exist; create it or write elsewhere" in " ".join(result.output.split())
