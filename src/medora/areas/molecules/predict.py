"""Predictions for molecules from a registered model: sanitised structures in, the property with
its conformal interval, the applicability domain and, on request, the atoms behind it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from rdkit import Chem

from medora.areas.molecules.chem.similarity import DomainAssessment, morgan_fingerprints
from medora.areas.molecules.graph import PREDICTION_BATCH
from medora.areas.molecules.regression import ConformalRegressor, IntervalPrediction
from medora.areas.molecules.tasks import MoleculeTask
from medora.data.molecules import MoleculeTable, map_chunks
from medora.registry.store import ModelStore, ModelVersion
from medora.registry.versions import usable_version


@dataclass(frozen=True)
class MoleculePredictions:
    """One row per molecule, the version that produced them and, on request, atom weights."""

    table: pd.DataFrame
    version: ModelVersion
    coverage: float
    molecules: MoleculeTable
    atom_weights: list[np.ndarray] | None = None  # indexed like the atoms of molecules.mols


def _top_atoms(mol: Chem.Mol, weights: np.ndarray, k: int) -> str:
    order = np.argsort(-np.abs(weights))[:k]
    return "; ".join(f"{mol.GetAtomWithIdx(int(i)).GetSymbol()}{int(i)} ({weights[i]:+.2f})"
                     for i in order)


def _molecule_interval(predictor: ConformalRegressor, mols: list[Chem.Mol]
                       ) -> tuple[IntervalPrediction, list[DomainAssessment]]:
    """The conformal interval and the applicability domain of every molecule, chunk by chunk;
    large inputs in worker processes (the model predicts each molecule on its own, so chunks
    give the same numbers as the whole)."""
    model, domain = predictor.model, predictor.reference.domain

    def predict(start: int, stop: int) -> tuple[tuple[np.ndarray, np.ndarray],
                                                list[DomainAssessment]]:
        part = mols[start:stop]
        return model.predict_spread(part), domain.assess(morgan_fingerprints(part))

    parts = map_chunks(predict, len(mols), PREDICTION_BATCH) or [predict(0, 0)]
    value, spread = (np.concatenate([part[0][k] for part in parts]) for k in range(2))
    lower, upper = predictor.conformal.interval(value, spread)
    return (IntervalPrediction(value=value, lower=lower, upper=upper, spread=spread,
                               coverage=predictor.conformal.coverage),
            [assessment for part in parts for assessment in part[1]])


def predict_molecules(task: MoleculeTask, molecules: MoleculeTable, *,
                      store: ModelStore | None = None, version: int | None = None,
                      explain: bool = False, top_k: int = 3) -> MoleculePredictions:
    """Predict every molecule of ``molecules`` (already read and sanitised) with its conformal
    interval, whether it lies inside the model's applicability domain, and its nearest
    training molecule; with ``explain``, the atoms that moved the prediction most."""
    store = store or ModelStore()
    record = usable_version(task, store, version)
    predictor = store.load(record)
    mols = list(molecules.mols)
    interval, assessments = _molecule_interval(predictor, mols)
    reference = predictor.reference
    table = pd.DataFrame({
        "molecule_id": list(molecules.ids), "smiles": list(molecules.smiles),
        task.target: interval.value.round(3), "lower": interval.lower.round(3),
        "upper": interval.upper.round(3),
        "in_domain": [a.inside for a in assessments],
        "nearest_training_similarity": [round(a.max_similarity, 3) for a in assessments],
        "nearest_training_smiles": [reference.smiles[a.nearest_index] for a in assessments],
    })
    weights = None
    if explain:
        weights = predictor.explain(mols)
        table["top_atoms"] = [_top_atoms(mol, w, top_k)
                              for mol, w in zip(mols, weights, strict=True)]
    table["model_version"] = f"{task.name}:v{record.version}"
    return MoleculePredictions(table=table, version=record, coverage=interval.coverage,
                               molecules=molecules, atom_weights=weights)
