"""A molecule profile gathers identity, alerts and drug-likeness, and serialises to JSON."""

from __future__ import annotations

import json

import rdkit

from medora.areas.molecules.chem import profile_molecule


def test_profile_of_aspirin(drugs: dict[str, str]) -> None:
    profile = profile_molecule("OC(=O)c1ccccc1OC(C)=O")  # a non-canonical spelling
    assert profile.smiles == drugs["aspirin"]
    assert profile.formula == "C9H8O4"
    assert [alert.name for alert in profile.alerts] == ["phenol_ester"]
    assert profile.drug_likeness.lipinski.passed
    assert profile.predictions == {}
    assert profile.rdkit_version == rdkit.__version__


def test_profile_dict_is_json_with_sources(drugs: dict[str, str]) -> None:
    data = json.loads(json.dumps(profile_molecule(drugs["atorvastatin"]).to_dict()))
    assert data["drug_likeness"]["lipinski"]["passed"] is False
    assert "Lipinski" in data["drug_likeness"]["lipinski"]["source"]
    assert "Ertl" in data["drug_likeness"]["synthetic_accessibility"]["source"]
    assert all(alert["source"] and alert["atoms"] for alert in data["alerts"])
    assert data["predictions"] == {}
