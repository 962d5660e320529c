"""The proof that the core is closed: an area that lives only in tests/plugin (a package and its
dist-info, as pip would install it, registered through the ``medora.areas`` entry-point group)
is listed, trained, predicted, carded and served without any change to src/medora.

Every step runs the real ``medora`` command in a new process with the plug-in's folder on
PYTHONPATH, and the service is a real ``medora serve`` on loopback, so nothing of the test's own
process (areas already loaded, schemas already built) leaks in.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pandas as pd
import pytest

PLUGIN = Path(__file__).parents[1] / "plugin"
TASK = "plugin.diabetes_progression"
MEDORA = [sys.executable, "-c", "from medora.cli import app; app()"]
PATIENT = {"age": 0.038, "sex": 0.051, "bmi": 0.062, "bp": 0.022, "s1": -0.044, "s2": -0.035,
           "s3": -0.043, "s4": -0.003, "s5": 0.020, "s6": -0.018}


@pytest.fixture(scope="module")
def environment(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("home")
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(PLUGIN), os.environ.get(
        "PYTHONPATH", "")]), "MEDORA_HOME": str(home), "COLUMNS": "200",
        "MEDORA_DATABASE_URL": f"sqlite:///{home / 'medora.db'}"}


def medora(environment: dict[str, str], *arguments: str, cwd: Path | None = None
           ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*MEDORA, *arguments], env=environment, capture_output=True,
                          text=True, timeout=300, cwd=cwd)


@pytest.fixture(scope="module")
def trained(environment: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("run")
    result = medora(environment, "train", TASK, "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert f"registered {TASK} v1" in result.stdout
    return out


def test_the_plugin_is_listed_beside_the_builtin_tasks(environment: dict[str, str]) -> None:
    result = medora(environment, "tasks")
    assert result.returncode == 0, result.stderr
    row = next(line for line in result.stdout.splitlines() if TASK in line)
    assert "metabolic" in row and "442" in row and "progressed" in row
    assert "cardio.framingham_chd" in result.stdout  # the built-in areas are still there


def test_the_plugin_trains_predicts_and_has_a_card(environment: dict[str, str], trained: Path,
                                                    tmp_path: Path) -> None:
    assert (trained / "card.md").read_text().startswith(f"# Model card: {TASK} v1")
    patients = tmp_path / "patients.csv"
    pd.DataFrame([PATIENT, {**PATIENT, "bmi": -0.05, "s5": -0.04}]).to_csv(patients,
                                                                            index=False)
    out = tmp_path / "predictions.csv"
    result = medora(environment, "predict", TASK, str(patients), "--out", str(out))
    assert result.returncode == 0, result.stderr
    risks = pd.read_csv(out)["risk"]
    assert len(risks) == 2 and risks[0] > risks[1] and risks.between(0, 1).all()

    card = medora(environment, "card", TASK)
    assert card.returncode == 0 and "test AUROC 0." in card.stdout

    bad = tmp_path / "bad.csv"
    bad.write_text("age,sex\n1,2\n")
    refused = medora(environment, "predict", TASK, str(bad))
    assert refused.returncode == 2 and "column bmi: missing" in " ".join(refused.stderr.split())
    option = medora(environment, "predict", TASK, str(patients), "--plot", "curves.png")
    assert option.returncode == 2 and "--plot: not an option of" in option.stderr


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def server(environment: dict[str, str], trained: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """``medora serve`` on a free loopback port, with an admin and a clinician."""
    passwords = {}
    for name, role in (("ada", "admin"), ("cleo", "clinician")):
        result = medora(environment, "users", "add", name, "--role", role)
        assert result.returncode == 0, result.stderr
        match = re.search(r"password \(shown once\): (\S+)", result.stdout)
        assert match
        passwords[name] = match[1]
    port = _free_port()
    process = subprocess.Popen([*MEDORA, "serve", "--port", str(port)], env=environment,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            process.kill()
            pytest.fail(f"the service did not start: {process.stderr.read().decode()}")
        yield url, passwords
    finally:
        process.terminate()
        process.wait(timeout=30)


def _token(url: str, name: str, password: str) -> dict[str, str]:
    response = httpx.post(f"{url}/auth/token", data={"username": name, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def test_the_service_predicts_the_plugin_and_shows_it_on_the_worklist(
        server: tuple[str, dict[str, str]]) -> None:
    url, passwords = server
    admin, clinician = (_token(url, name, passwords[name]) for name in ("ada", "cleo"))
    tasks = httpx.get(f"{url}/tasks", headers=clinician).json()
    info = next(task for task in tasks if task["name"] == TASK)
    assert info["modality"] == "progression" and len(info["inputs"]) == 10

    approved = httpx.post(f"{url}/models/{TASK}/versions/1/approve", headers=admin,
                          json={"reason": "plug-in test"})
    assert approved.status_code == 200, approved.text
    created = httpx.post(f"{url}/predict/{TASK}", headers=clinician,
                         json={"patient_id": "MRN-7", "inputs": PATIENT})
    assert created.status_code == 201, created.text
    prediction = created.json()
    assert prediction["modality"] == "progression" and 0 <= prediction["risk"] <= 1
    invalid = httpx.post(f"{url}/predict/{TASK}", headers=clinician,
                         json={"patient_id": "MRN-8", "inputs": {**PATIENT, "bmi": "tall"}})
    assert invalid.status_code == 422 and "bmi" in invalid.text

    web = httpx.Client(base_url=url, cookies={"medora_session": clinician["Authorization"]
                                              .removeprefix("Bearer ")})
    worklist = web.get("/worklist", headers={"Accept": "text/html"})
    assert worklist.status_code == 200 and "MRN-7" in worklist.text
    page = web.get(f"/predictions/{prediction['id']}/view", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "Progression" in page.text
    assert ("likely progression" if prediction["flagged"] else "unlikely progression") in page.text
