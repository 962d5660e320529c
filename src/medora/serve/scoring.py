"""Predictions through the service: one patient's JSON inputs validated exactly as a CSV row
would be, or one molecule's SMILES sanitised exactly as a SMILES file's would be, scored by the
task's serving model, explained, and stored with an audit event.

Both kinds share one path (serving version, write transaction, audit event, stop checks) and
the same stored columns: for a molecule, ``risk`` is the predicted property in the task's
units, ``risk_lower``/``risk_upper`` its split-conformal interval, ``threshold`` the
applicability domain's similarity threshold, ``flagged`` "outside the applicability domain",
and ``explanation`` one weight per atom, in the atom order of the stored SMILES.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd
from rdkit import Chem
from sqlalchemy import insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from medora.chem.depict import draw_molecule
from medora.chem.similarity import morgan_fingerprints
from medora.data.molecules import MoleculeValidationError, parse_smiles
from medora.data.tabular import InputValidationError, validate_features
from medora.explain.attributions import top_contributions
from medora.models.calibrated import CalibratedModel
from medora.models.regression import ConformalRegressor
from medora.registry.store import ArtifactIntegrityError, ModelStore
from medora.serve import audit, lifecycle
from medora.serve.db import Database, ModelVersionRow, Prediction, utc_now
from medora.serve.errors import ConflictError, NotFoundError, ServiceError, UnavailableError
from medora.tasks import get_task, list_tasks
from medora.tasks.base import Task
from medora.tasks.molecules import MoleculeTask
from medora.train.molecule_run import INTERVAL_COVERAGE

TOP_CONTRIBUTIONS = 5
RISK_DECIMALS = 4  # as `medora predict` reports them
MOLECULE_DECIMALS = 3  # as `medora predict` reports a molecule's value and interval
MAX_ATTEMPTS = 3  # scorings of one request when the serving version changes under it
SMILES_INPUT = "smiles"  # a molecule task's one input
_INSERT_PREDICTION = insert(Prediction.__table__)

ServedTask = Task | MoleculeTask
ServedModel = CalibratedModel | ConformalRegressor
Modality = Literal["tabular", "molecule"]

log = logging.getLogger(__name__)


def served_tasks() -> list[ServedTask]:
    """The registered tasks the service predicts: the tabular tasks, scored from a patient's
    inputs, and the molecule tasks, scored from a SMILES."""
    return [task for task in list_tasks() if isinstance(task, Task | MoleculeTask)]


def served_task(name: str) -> ServedTask:
    """The task called ``name``, or a 404 naming the tasks the service predicts."""
    try:
        task = get_task(name)
    except KeyError as error:
        raise NotFoundError(str(error.args[0])) from None
    if not isinstance(task, Task | MoleculeTask):
        raise NotFoundError(f"{name} is a {task.modality} task, which the service does not "
                            "predict; GET /tasks lists the tasks it does")
    return task


@dataclass(frozen=True)
class Outcome:
    """What a task's predicted value is: its unit, the coverage of its interval, and the values
    a reviewer's own estimate may take (None: any finite number)."""

    modality: Modality
    unit: str
    interval_coverage: float
    value_range: tuple[float, float] | None

    def describe_range(self) -> str:
        if self.value_range is None:
            return f"any finite number, in {self.unit}"
        low, high = self.value_range
        return f"a number from {low:g} to {high:g} ({self.unit})"


# CalibratedModel.predict_risk's interval (alpha 0.05).
PROBABILITY = Outcome("tabular", "probability", 0.95, (0.0, 1.0))


def outcome(task_name: str) -> Outcome:
    """The outcome of ``task_name``'s predictions. A task no longer installed is described as
    a probability, as every prediction was before the service predicted molecules.

    A molecule's value is a measured property (a solubility, a free energy, a pIC50) that a
    reviewer may know better than the model, outside the training data's range included, so
    any finite value is accepted for it.
    """
    try:
        task = get_task(task_name)
    except KeyError:
        return PROBABILITY
    if isinstance(task, MoleculeTask):
        return Outcome("molecule", task.units, INTERVAL_COVERAGE, None)
    return PROBABILITY


class ModelCache:
    """Loaded models by (task, version), and the version last seen serving each task.

    Loading checks the artifact's SHA-256 against the registry record and the database, so it
    happens once per version, not per request. The serving version is only a hint that spares
    a prediction a read transaction: :func:`predict` confirms it in its write transaction and
    corrects it when another request or process has changed it.
    """

    def __init__(self, store: ModelStore) -> None:
        self._store = store
        self._models: dict[tuple[str, int], ServedModel] = {}
        self._serving: dict[str, ModelVersionRow] = {}

    def get(self, row: ModelVersionRow) -> ServedModel:
        # Loaded outside any lock, so a cold load of one task never holds up the others; two
        # concurrent cold loads of the same version load identical files and one is kept.
        key = (row.task, row.version)
        model = self._models.get(key)
        return model if model is not None else self._models.setdefault(key, self._load(row))

    def serving_hint(self, task: str) -> ModelVersionRow | None:
        return self._serving.get(task)

    def remember_serving(self, row: ModelVersionRow) -> None:
        self._serving[row.task] = row

    def forget_serving(self, task: str) -> None:
        self._serving.pop(task, None)

    def preload(self, database: Database) -> None:
        """Load every task's serving model now, so no request pays for the load; a model that
        cannot be loaded is logged here and answers 503 when asked for."""
        with database.read() as session:
            registered = set(session.scalars(select(ModelVersionRow.task).distinct()))
            rows = []
            for task in (task.name for task in served_tasks() if task.name in registered):
                try:
                    rows.append(lifecycle.serving_version(session, task))
                except ServiceError:
                    continue  # nothing approved, or stopped: nothing to serve
        for row in rows:
            try:
                self.get(row)
            except UnavailableError:
                continue  # logged by _load
            self.remember_serving(row)

    def _load(self, row: ModelVersionRow) -> ServedModel:
        """The model, or a 503 naming the version; file paths go to the log, not the client."""
        try:
            record = self._store.get(row.task, row.version)
            if record.artifact_sha256 != row.artifact_sha256:
                raise ArtifactIntegrityError(f"{record.path} holds a different artifact from the "
                                             "one registered with the service")
            model = self._store.load(record)
        except LookupError:
            log.error("%s is missing from the registry at %s", row.label, self._store.root)
            raise UnavailableError(f"{row.label} is missing from the model registry; restore "
                                   "it or roll back") from None
        except ArtifactIntegrityError as error:
            log.error("%s failed its integrity check: %s", row.label, error)
            raise UnavailableError(f"{row.label} failed its artifact integrity check; restore "
                                   "the original artifact or roll back") from None
        # Stored predictions state their interval's coverage by task (see outcome), so a model
        # whose intervals promise another coverage is not served.
        expected = outcome(row.task)
        kind = ConformalRegressor if expected.modality == "molecule" else CalibratedModel
        if not isinstance(model, kind):
            raise UnavailableError(f"{row.label} holds a {type(model).__name__}, not the "
                                   f"{kind.__name__} a {expected.modality} task is served "
                                   "with; register a model trained for this task or roll back")
        if (isinstance(model, ConformalRegressor)
                and model.conformal.coverage != expected.interval_coverage):
            raise UnavailableError(
                f"{row.label} gives {model.conformal.coverage:.0%} intervals; the service "
                f"states {expected.interval_coverage:.0%} for molecule tasks, so retrain it "
                "with `medora train` or roll back")
        return model


def _cell(value: float | str | None) -> str:
    return "" if value is None else repr(value) if isinstance(value, float) else value


def model_input(task: Task, inputs: Mapping[str, float | str | None]) -> pd.DataFrame:
    """One patient's inputs as the model's feature frame, validated by the same rules as a
    patient file; an input left out is a missing value, an unknown one is an error.

    Raises :class:`medora.data.tabular.InputValidationError` listing every problem.
    """
    cells = {**dict.fromkeys(task.feature_names), **inputs}
    frame = pd.DataFrame({name: [_cell(value)] for name, value in cells.items()}, dtype=str)
    return validate_features(frame, task.features, source="inputs", file_lines=False)


def _as_json(x: pd.DataFrame) -> dict[str, float | None]:
    return {name: None if math.isnan(value) else value for name, value in x.iloc[0].items()}


def stored_molecule(smiles: str) -> Chem.Mol:
    """The molecule of a stored (canonical) SMILES, with its atoms in that SMILES's order: the
    order its stored atom weights follow, because the model scored this very parse."""
    return parse_smiles([smiles], source="the stored SMILES").mols[0]


_SHOWN_SMILES = 80  # characters of a refused SMILES quoted back


def _molecule_input(task: MoleculeTask, inputs: Mapping[str, float | str | None]) -> str:
    """The canonical SMILES of a molecule task's inputs, salts and solvents reduced to the
    largest fragment as `medora predict` does.

    Raises :class:`InputValidationError` naming each problem (RDKit's reason for an invalid
    SMILES) and its fix.
    """
    problems = [f"{name}: unknown input; {task.name} takes one input, {SMILES_INPUT}"
                for name in sorted(set(inputs) - {SMILES_INPUT})]
    text = inputs.get(SMILES_INPUT)
    if not isinstance(text, str):
        problems.append(f"{SMILES_INPUT}: " + ("required" if text is None else "a number")
                        + "; send the molecule as a SMILES string, e.g. \"CCO\" for ethanol")
    if problems or not isinstance(text, str):
        raise InputValidationError("inputs", problems)
    try:
        return parse_smiles([text], source="inputs").smiles[0]
    except MoleculeValidationError as error:
        shown = text if len(text) <= _SHOWN_SMILES else text[:_SHOWN_SMILES] + "..."
        raise InputValidationError("inputs", [
            f"{SMILES_INPUT}: {item.reason} in {shown!r}; send a SMILES that RDKit can parse "
            "and sanitise (check ring-closure digits, brackets and atom valences)"
            for item in error.invalid]) from None


@dataclass(frozen=True)
class Prepared:
    """Validated inputs: as stored with the prediction, and as the model takes them."""

    stored: dict[str, Any]
    model_input: pd.DataFrame | Chem.Mol


def prepare(task: ServedTask, inputs: Mapping[str, float | str | None]) -> Prepared:
    """Validate ``inputs`` for ``task``; raises :class:`InputValidationError` listing every
    problem."""
    if isinstance(task, MoleculeTask):
        smiles = _molecule_input(task, inputs)
        return Prepared({SMILES_INPUT: smiles}, stored_molecule(smiles))
    x = model_input(task, inputs)
    return Prepared(_as_json(x), x)


def input_fingerprint(task: ServedTask, inputs: dict[str, Any]) -> str:
    """SHA-256 of the validated inputs: ties a prediction to its inputs in the audit log
    without writing them there."""
    canonical = json.dumps({"task": task.name, "inputs": inputs}, sort_keys=True,
                           separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class Score:
    """What the stored prediction says (see the module's docstring for a molecule's)."""

    risk: float
    lower: float
    upper: float
    threshold: float
    threshold_source: str
    flagged: bool
    explanation: list[dict[str, Any]]


def score(task: ServedTask, model: ServedModel, prepared: Prepared) -> Score:
    """The prediction of ``model`` (the task's serving version, checked to be of the task's
    kind when loaded) for the prepared inputs."""
    x = prepared.model_input
    if isinstance(x, pd.DataFrame):
        assert isinstance(task, Task) and isinstance(model, CalibratedModel)
        return _score_patient(task, model, x)
    assert isinstance(model, ConformalRegressor)
    return _score_molecule(model, x)


def _score_patient(task: Task, model: CalibratedModel, x: pd.DataFrame) -> Score:
    """Calibrated risk with its 95% interval, the threshold flag and the top contributions."""
    risk = model.predict_risk(x)
    contributions = top_contributions(model.explain(x).iloc[0], x.iloc[0], k=TOP_CONTRIBUTIONS)
    return Score(risk=round(float(risk.risk[0]), RISK_DECIMALS),
                 lower=round(float(risk.lower[0]), RISK_DECIMALS),
                 upper=round(float(risk.upper[0]), RISK_DECIMALS),
                 threshold=task.threshold.value, threshold_source=task.threshold.source,
                 flagged=bool(risk.risk[0] >= task.threshold.value),
                 explanation=[{"feature": c.feature, "value": c.value,
                               "contribution": round(c.contribution, RISK_DECIMALS)}
                              for c in contributions])


def _score_molecule(model: ConformalRegressor, mol: Chem.Mol) -> Score:
    """The value with its conformal interval, flagged when outside the applicability domain,
    and every atom's weight in atom order (each atom's "value" is its index)."""
    interval = model.predict_interval([mol])
    domain = model.reference.domain
    (assessment,) = domain.assess(morgan_fingerprints([mol]))
    (weights,) = model.explain([mol])
    return Score(risk=round(float(interval.value[0]), MOLECULE_DECIMALS),
                 lower=round(float(interval.lower[0]), MOLECULE_DECIMALS),
                 upper=round(float(interval.upper[0]), MOLECULE_DECIMALS),
                 threshold=domain.threshold, threshold_source=domain.source,
                 flagged=not assessment.inside,
                 explanation=[{"feature": f"{atom.GetSymbol()}{atom.GetIdx()}",
                               "value": atom.GetIdx(),
                               "contribution": round(float(weight), RISK_DECIMALS)}
                              for atom, weight in zip(mol.GetAtoms(), weights, strict=True)])


def atom_map(prediction: Prediction, image_format: Literal["png", "svg"]) -> bytes | str:
    """The stored atom weights drawn on the 2D depiction of the stored SMILES.

    404 for a patient's prediction; 409 when the stored SMILES no longer parses to as many atoms
    as weights were stored (an RDKit upgrade that reads it differently).
    """
    # A patient's stored inputs are numbers or null, a molecule's its SMILES.
    smiles = prediction.inputs.get(SMILES_INPUT)
    if not isinstance(smiles, str):
        raise NotFoundError(f"prediction {prediction.id} is a patient's prediction for "
                            f"{prediction.task}; atom maps exist only for molecule predictions")
    weights = [item["contribution"] for item in prediction.explanation]
    try:
        mol = stored_molecule(smiles)
    except MoleculeValidationError as error:
        raise ConflictError(f"prediction {prediction.id}: its stored SMILES no longer parses "
                            f"({'; '.join(error.problems)}); predict the molecule again") from None
    if mol.GetNumAtoms() != len(weights):
        raise ConflictError(f"prediction {prediction.id} stores {len(weights)} atom weights but "
                            f"its SMILES has {mol.GetNumAtoms()} atoms, so the weights cannot be "
                            "placed; predict the molecule again")
    return draw_molecule(mol, atom_weights=weights, format=image_format)


def predict(database: Database, models: ModelCache, task: ServedTask, patient_id: str,
            inputs: Mapping[str, float | str | None], actor: str) -> Prediction:
    """Score one patient (or, for a molecule task, one compound: ``patient_id`` is then the
    compound's identifier) with the task's serving version and store the prediction, pending
    review, in one write transaction.

    The model runs outside any transaction, with the version last seen serving the task (read
    first when there is none). The write transaction then checks, holding the version's row,
    that this version still serves, so a stop acknowledged before the prediction is stored
    always wins; if another version serves by now, the patient is scored again with it.
    """
    prepared = None
    served = models.serving_hint(task.name)
    for _ in range(MAX_ATTEMPTS):
        try:
            if served is None:
                with database.read() as session:
                    served = lifecycle.serving_version(session, task.name)
                models.remember_serving(served)
            if prepared is None:
                prepared = prepare(task, inputs)
            result = score(task, models.get(served), prepared)
            with database.write_connection() as connection:
                if lifecycle.still_serves(connection, task.name, served.version):
                    return _store(connection, task, served.version, patient_id,
                                  prepared.stored, result, actor)
                with Session(bind=connection, expire_on_commit=False) as session:
                    current = lifecycle.serving_version(session, task.name, lock=True)
        except ServiceError:
            models.forget_serving(task.name)  # stopped, retired or broken: read again next time
            raise
        models.remember_serving(current)
        served = current
    raise ConflictError(f"the serving version of {task.name} kept changing during the "
                        "prediction; send it again")


def _store(connection: Connection, task: ServedTask, version: int, patient_id: str,
           values: dict[str, Any], result: Score, actor: str) -> Prediction:
    """Insert the prediction and its audit event in the caller's write transaction (plain
    INSERTs: the ORM's unit of work costs more than the statements); returns a detached copy
    of the prediction."""
    row = {"id": uuid.uuid4(), "task": task.name, "model_version": version,
           "patient_id": patient_id, "inputs": values,
           "input_fingerprint": input_fingerprint(task, values),
           "risk": result.risk, "risk_lower": result.lower, "risk_upper": result.upper,
           "threshold": result.threshold, "threshold_source": result.threshold_source,
           "flagged": result.flagged, "explanation": result.explanation,
           "review_status": "pending", "created_by": actor, "created_at": utc_now()}
    connection.execute(_INSERT_PREDICTION, row)
    audit.append(connection, actor=actor, action="prediction.create",
                 target=f"prediction:{row['id']}",
                 details={"task": task.name, "model_version": version,
                          "input_fingerprint": row["input_fingerprint"],
                          "flagged": result.flagged})
    return Prediction(**row)
