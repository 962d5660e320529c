"""Molecule tasks through the service: listed with their SMILES input, predicted with a
conformal interval and the applicability domain, stored and audited like a patient's
prediction, drawn as an atom map, reviewed in the task's unit, and shown on the web page."""

from __future__ import annotations

import math
import uuid
from typing import Any

import pytest
from rdkit import Chem

from medora.areas.molecules.chem.similarity import morgan_fingerprints
from medora.areas.molecules.regression import ConformalRegressor
from medora.serve.db import Prediction

from ...conftest import TASK, Service, WebUser
from .conftest import MOLECULE_TASK

ASPIRIN = "CC(=O)Oc1ccccc1C(=O)O"


def predict(service: Service, smiles: Any, compound: str = "CPD-1", **inputs: Any) -> Any:
    return service.request("POST", f"/predict/{MOLECULE_TASK}", "clinician",
                           json={"patient_id": compound, "inputs": {"smiles": smiles, **inputs}})


def stored_predictions(service: Service) -> int:
    with service.database.read() as session:
        return session.query(Prediction).count()


def test_tasks_include_molecule_tasks_with_their_smiles_input(service: Service) -> None:
    tasks = {task["name"]: task for task in service.request("GET", "/tasks").json()}
    freesolv, framingham = tasks[MOLECULE_TASK], tasks[TASK]
    assert {"mol.solubility", "mol.chembl2321810_pic50"} <= set(tasks)
    assert (freesolv["modality"], freesolv["unit"], freesolv["interval_coverage"]) == (
        "molecule", "kcal/mol", 0.9)
    assert freesolv["threshold"] is None and "applicability" in freesolv["threshold_source"].lower()
    assert [(i["name"], i["kind"], i["required"]) for i in freesolv["inputs"]] == [
        ("smiles", "text", True)]
    assert (framingham["modality"], framingham["unit"]) == ("tabular", "probability")


def test_a_molecule_is_predicted_stored_and_audited(molecule_service: Service,
                                                    molecule_model: ConformalRegressor) -> None:
    response = predict(molecule_service, "CCO.Cl", compound="CHEMBL545")  # a salt: HCl goes
    assert response.status_code == 201, response.text
    prediction = response.json()
    mol = Chem.MolFromSmiles("CCO")
    expected = molecule_model.predict_interval([mol])
    (domain,) = molecule_model.reference.domain.assess(morgan_fingerprints([mol]))
    assert prediction["inputs"] == {"smiles": "CCO"}
    assert prediction["patient_id"] == "CHEMBL545"
    assert (prediction["modality"], prediction["unit"], prediction["interval_coverage"]) == (
        "molecule", "kcal/mol", 0.9)
    assert prediction["risk"] == pytest.approx(expected.value[0], abs=1e-3)
    assert prediction["risk_lower"] < prediction["risk"] < prediction["risk_upper"]
    assert prediction["threshold"] == pytest.approx(molecule_model.reference.domain.threshold)
    assert prediction["flagged"] is (not domain.inside)
    assert [(c["feature"], c["value"]) for c in prediction["contributions"]] == [
        ("C0", 0), ("C1", 1), ("O2", 2)]
    assert all(math.isfinite(c["contribution"]) for c in prediction["contributions"])
    assert molecule_service.request("GET", f"/predictions/{prediction['id']}").json() == prediction
    (event,) = [e for e in molecule_service.request("GET", "/audit/events").json()["events"]
                if e["target"] == f"prediction:{prediction['id']}"]
    assert (event["action"], event["actor"], event["details"]["task"]) == (
        "prediction.create", "clinician", MOLECULE_TASK)


def test_preload_loads_the_serving_molecule_model(molecule_service: Service) -> None:
    models = molecule_service.state.models
    models.forget_serving(MOLECULE_TASK)
    models.preload(molecule_service.database)
    served = models.serving_hint(MOLECULE_TASK)
    assert served is not None and isinstance(models.get(served), ConformalRegressor)


def test_a_training_molecule_is_inside_the_applicability_domain(
        molecule_service: Service, freesolv_sample: tuple[list, Any]) -> None:
    mols, _ = freesolv_sample
    prediction = predict(molecule_service, Chem.MolToSmiles(mols[0])).json()
    assert prediction["flagged"] is False


@pytest.mark.parametrize(("inputs", "message"), [
    ({"smiles": "C1CC"}, "unclosed ring"),
    ({"smiles": "c1cccc1"}, "kekulize"),
    ({"smiles": ""}, "empty"),
    ({"smiles": None}, "smiles: required"),
    ({"smiles": 5.0}, "send the molecule as a SMILES string"),
    ({"smiles": "CCO", "logP": 1.0}, "logP: unknown input"),
])
def test_invalid_molecules_are_422_naming_the_problem_and_nothing_is_stored(
        molecule_service: Service, inputs: dict[str, Any], message: str) -> None:
    response = molecule_service.request("POST", f"/predict/{MOLECULE_TASK}", "clinician",
                                        json={"patient_id": "CPD-1", "inputs": inputs})
    assert response.status_code == 422, response.text
    text = " ".join(item["msg"] for item in response.json()["detail"])
    assert message.lower() in text.lower()
    assert stored_predictions(molecule_service) == 0


def test_text_inputs_are_short_except_a_smiles(molecule_service: Service) -> None:
    long_chain = "C" * 900
    assert predict(molecule_service, long_chain).status_code == 201
    assert predict(molecule_service, "C" * 1001).status_code == 422
    response = molecule_service.request("POST", f"/predict/{TASK}", "clinician", json={
        "patient_id": "MRN-1", "inputs": {**molecule_service.patient, "age": "6" * 65}})
    assert response.status_code == 422
    assert "more than 64 characters" in response.text


def test_a_stopped_molecule_model_answers_503(molecule_service: Service) -> None:
    stop = molecule_service.request("POST", f"/models/{MOLECULE_TASK}/versions/1/stop",
                                    json={"reason": "assay drift"})
    assert stop.status_code == 200
    response = predict(molecule_service, ASPIRIN)
    assert response.status_code == 503 and "assay drift" in response.text


def test_atom_maps_as_png_and_svg(molecule_service: Service) -> None:
    prediction_id = predict(molecule_service, ASPIRIN).json()["id"]
    png = molecule_service.request("GET", f"/predictions/{prediction_id}/atom-map", "clinician")
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert png.content.startswith(b"\x89PNG\r\n\x1a\n")
    svg = molecule_service.request("GET", f"/predictions/{prediction_id}/atom-map?format=svg")
    assert svg.headers["content-type"].startswith("image/svg+xml") and "<svg" in svg.text
    bad = molecule_service.request("GET", f"/predictions/{prediction_id}/atom-map?format=gif")
    assert bad.status_code == 422


def test_an_atom_map_needs_a_molecule_prediction_whose_weights_fit(
        molecule_service: Service) -> None:
    patient = molecule_service.prediction()
    response = molecule_service.request("GET", f"/predictions/{patient['id']}/atom-map")
    assert response.status_code == 404
    assert "atom maps exist only for molecule predictions" in response.json()["detail"]
    prediction_id = predict(molecule_service, ASPIRIN).json()["id"]
    with molecule_service.database.write() as session:
        stored = session.get(Prediction, uuid.UUID(prediction_id))
        stored.explanation = stored.explanation[:-1]
    response = molecule_service.request("GET", f"/predictions/{prediction_id}/atom-map")
    assert response.status_code == 409
    assert "12 atom weights but its SMILES has 13 atoms" in response.json()["detail"]


def test_overrides_are_range_checked_per_task(molecule_service: Service) -> None:
    def override(prediction_id: str, value: float) -> Any:
        return molecule_service.request(
            "POST", f"/predictions/{prediction_id}/reviews", "clinician",
            json={"action": "override", "reason": "measured", "clinician_value": value})

    patient = molecule_service.prediction()["id"]
    refused = override(patient, 1.5)
    assert refused.status_code == 422
    assert "a number from 0 to 1 (probability)" in refused.json()["detail"]
    molecule = predict(molecule_service, ASPIRIN).json()["id"]
    accepted = override(molecule, -12.5)
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["clinician_value"] == -12.5


def test_the_web_page_predicts_a_molecule_and_shows_its_atom_map(
        molecule_service: Service) -> None:
    user = WebUser(molecule_service, "clinician")
    form = user.get(f"/worklist?task={MOLECULE_TASK}")
    assert 'name="input:smiles"' in form.text and "Compound identifier" in form.text
    refused = user.submit(f"/worklist?task={MOLECULE_TASK}", "/worklist/predict",
                          {"task": MOLECULE_TASK, "patient_id": "CPD-9", "input:smiles": "C1CC"})
    assert refused.status_code == 422 and "unclosed ring" in refused.text
    sent = user.submit(f"/worklist?task={MOLECULE_TASK}", "/worklist/predict",
                       {"task": MOLECULE_TASK, "patient_id": "CPD-9", "input:smiles": ASPIRIN})
    assert sent.status_code == 303, sent.text
    assert "kcal/mol" in user.get("/worklist").text
    page = user.get(sent.headers["location"])
    assert page.status_code == 200
    assert '<img class="atom-map" src="data:image/png;base64,' in page.text
    assert "kcal/mol" in page.text and "90% conformal interval" in page.text
    assert "applicability domain" in page.text
    review = user.submit(sent.headers["location"], sent.headers["location"],
                         {"action": "override", "reason": "measured", "clinician_value": "-9.4"})
    assert review.status_code == 303, review.text
    assert "-9.40" in user.get(sent.headers["location"]).text
