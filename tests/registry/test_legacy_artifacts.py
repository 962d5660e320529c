"""Versions registered before the areas moved (medora 0.1.0) still load and predict the same:
their artifacts name classes by modules that no longer exist under those names."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from medora.cli import app

FIXTURES = Path(__file__).parent / "fixtures" / "medora-0.1.0"
BUNDLE = Path(__file__).parents[1] / "data" / "fixtures" / "ehr" / "bundle" / "patient-bundle.json"
INPUTS = {"cardio.heart_failure_death": FIXTURES / "inputs" / "cardio.heart_failure_death.csv",
          "oncology.gbsg2_recurrence": FIXTURES / "inputs" / "oncology.gbsg2_recurrence.csv",
          "effect.actg175": FIXTURES / "inputs" / "effect.actg175.csv",
          "mol.freesolv": FIXTURES / "inputs" / "mol.freesolv.smi",
          "ehr.readmission_30d": BUNDLE}
runner = CliRunner()


@pytest.fixture
def legacy_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The 0.1.0 registry copied into a fresh MEDORA_HOME, each record pointing at its copy."""
    registry = tmp_path / "registry"
    shutil.copytree(FIXTURES / "registry", registry)
    for record in registry.glob("*/v1/version.json"):
        document = json.loads(record.read_text())
        record.write_text(json.dumps({**document, "path": str(record.parent)}))
    monkeypatch.setenv("MEDORA_HOME", str(tmp_path))
    return tmp_path


@pytest.mark.parametrize("task", sorted(INPUTS))
def test_a_version_registered_by_0_1_predicts_as_it_did(legacy_home: Path, tmp_path: Path,
                                                        task: str) -> None:
    out = tmp_path / "predictions.csv"
    result = runner.invoke(app, ["predict", task, str(INPUTS[task]), "--out", str(out)])
    assert result.exit_code == 0, result.output
    expected = pd.read_csv(FIXTURES / "inputs" / f"{task}.expected.csv")
    predicted = pd.read_csv(out)
    assert list(predicted.columns) == list(expected.columns)
    pd.testing.assert_frame_equal(predicted, expected, check_exact=False, atol=1e-6)
