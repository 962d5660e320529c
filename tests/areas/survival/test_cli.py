"""The survival verbs: `medora train` on a survival task and `medora stratify`."""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path

import pytest
from typer.testing import CliRunner

from medora.cli.app import app
from medora.core.registry import get_task

runner = CliRunner()
needs_sksurv = pytest.mark.skipif(find_spec("sksurv") is None,
                                  reason="GSE7390 ships in scikit-survival")


def test_train_and_stratify_a_survival_task(small_gbsg2, tmp_path: Path) -> None:
    result = runner.invoke(app, ["train", "test.gbsg2_small", "--quick", "--model", "cox_ph",
                                 "--out", str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    assert "Harrell's C" in result.output and "registered test.gbsg2_small v1" in result.output
    assert (tmp_path / "run" / "report.html").exists()
    result = runner.invoke(app, ["stratify", "test.gbsg2_small", "--out", str(tmp_path / "km")])
    assert result.exit_code == 0, result.output
    assert "log-rank p" in result.output and "hazard ratio vs low" in result.output
    assert (tmp_path / "km" / "risk_groups.png").exists()


def test_train_refuses_unknown_model_and_split(small_gbsg2) -> None:
    result = runner.invoke(app, ["train", "test.gbsg2_small", "--model", "nope"])
    assert result.exit_code == 2 and "unknown model 'nope' for test.gbsg2_small" in result.output
    result = runner.invoke(app, ["train", "test.gbsg2_small", "--split", "random"])
    assert result.exit_code == 2 and "repeated stratified cross-validation" in result.output


def test_stratify_needs_a_registered_survival_model(small_gbsg2) -> None:
    result = runner.invoke(app, ["stratify", "test.gbsg2_small"])
    assert result.exit_code == 2 and "medora train test.gbsg2_small" in result.output
    result = runner.invoke(app, ["stratify", "cardio.framingham_chd"])
    assert result.exit_code == 2 and "not a survival task" in result.output


@needs_sksurv
def test_subtypes_of_gene_expression() -> None:
    from medora.areas.survival.cli import subtypes

    _, x, _, _ = get_task("oncology.breast_recurrence_genes").load_survival()
    genes = x[list(get_task("oncology.breast_recurrence_genes").feature_groups["genes"])]
    labels, k, silhouettes = subtypes(genes, seed=0)
    assert k in silhouettes and silhouettes[k] == max(silhouettes.values())
    assert len(set(labels)) == k and labels.shape == (198,)


def test_stratify_refuses_an_out_that_is_a_file(tmp_path: Path) -> None:
    blocker = tmp_path / "plots"
    blocker.write_text("a file")
    result = runner.invoke(app, ["stratify", "oncology.gbsg2_recurrence", "--out",
                                 str(blocker)])
    assert result.exit_code == 2 and "is a file, not a folder" in result.output
