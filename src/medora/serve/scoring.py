"""Predictions through the service: one patient's JSON inputs validated exactly as a CSV row
would be, one molecule's SMILES sanitised exactly as a SMILES file's would be, or one patient's
FHIR R4 Bundle read into events exactly as ``medora data ingest`` reads one, scored by the
task's serving model, explained, and stored with an audit event.

Every kind shares one path (serving version, write transaction, audit event, stop checks) and
the same stored columns, read by kind:

- a patient's risk (tabular): the calibrated probability, its 95% interval, the task's
  threshold, flagged at or above it, and the top contributions;
- a molecule: ``risk`` is the predicted property in the task's units, ``risk_lower``/
  ``risk_upper`` its split-conformal interval, ``threshold`` the applicability domain's
  similarity threshold, ``flagged`` "outside the applicability domain", and ``explanation``
  one weight per atom, in the atom order of the stored SMILES;
- survival: ``risk`` is the probability of the event by the reference horizon (no interval),
  ``threshold`` the training patients' upper tertile of it, ``flagged`` "high-risk group", and
  ``details`` the survival curve, the percentile and the group;
- a treatment effect: ``risk`` is the estimated effect (treated minus control) in the
  outcome's unit with the model's interval (none for some models), ``threshold`` the effect a
  recommendation must exceed, ``flagged`` "outside overlap" (no recommendation is made), and
  ``details`` the propensity, the overlap bounds and the recommended arm or the reason for none;
- an EHR task (event sequence): ``risk`` is the calibrated probability at the index time with
  its 95% interval, ``threshold``/``flagged`` the task's threshold as for a tabular risk,
  ``inputs`` the events the model read (not the bundle) with the bundle's SHA-256,
  ``explanation`` the model's top terms, and ``details`` the index time and how it was chosen,
  the event counts (read, left out after the index time or before the model's window), what
  became of the bundle's resources, and the top past events (see :mod:`medora.areas.ehr.predict`).
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import math
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from rdkit import Chem
from sqlalchemy import insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from medora.areas.molecules.chem.depict import draw_molecule
from medora.areas.molecules.chem.similarity import morgan_fingerprints
from medora.areas.effects.data import EffectDataset
from medora.data.molecules import MoleculeValidationError, parse_smiles
from medora.data.packaged import DatasetUnavailableError
from medora.data.tabular import InputValidationError, validate_features
from medora.explain.attributions import top_contributions
from medora.models.calibrated import CalibratedModel
from medora.areas.molecules.regression import ConformalRegressor
from medora.areas.effects.predictor import EffectPredictor, read_covariates
from medora.areas.ehr.predict import (
    BUNDLE_INPUT,
    EhrAssessment,
    PatientRecord,
    assess,
    event_model,
    parse_index_time,
    prediction_details,
    read_patient_bundle,
    stored_inputs,
    top_terms,
)
from medora.areas.survival.predictor import SurvivalPredictor, survival_inputs
from medora.registry.store import ArtifactIntegrityError, ModelStore
from medora.serve import audit, lifecycle
from medora.serve.db import Database, ModelVersionRow, Prediction, utc_now
from medora.serve.errors import ConflictError, NotFoundError, ServiceError, UnavailableError
from medora.core.registry import get_task, list_tasks
from medora.core.task import Task
from medora.areas.effects.tasks import EffectTask
from medora.areas.ehr.tasks import EventSequenceTask
from medora.areas.molecules.tasks import INTERVAL_COVERAGE, MoleculeTask
from medora.areas.survival.tasks import SurvivalTask

TOP_CONTRIBUTIONS = 5
RISK_DECIMALS = 4  # as `medora predict` reports them
MOLECULE_DECIMALS = 3  # as `medora predict` reports a molecule's value and interval
MAX_ATTEMPTS = 3  # scorings of one request when the serving version changes under it
SMILES_INPUT = "smiles"  # a molecule task's one input
_INSERT_PREDICTION = insert(Prediction.__table__)

ServedTask = Task | MoleculeTask | SurvivalTask | EffectTask | EventSequenceTask
ServedModel = CalibratedModel | ConformalRegressor | SurvivalPredictor | EffectPredictor
Modality = Literal["tabular", "molecule", "survival", "effect", "event_sequence"]
#: What the serving artifact of each kind of task must be (an EHR task's CalibratedModel
#: must hold an event model too: see ModelCache._load).
SERVED_MODELS: dict[Modality, type] = {"tabular": CalibratedModel,
                                       "molecule": ConformalRegressor,
                                       "survival": SurvivalPredictor, "effect": EffectPredictor,
                                       "event_sequence": CalibratedModel}
#: Nominal coverage of the effect models' intervals (mean +/- t(0.975) spread, or EconML's 95%).
EFFECT_INTERVAL_COVERAGE = 0.95

log = logging.getLogger(__name__)


_SERVED_KINDS = (Task, MoleculeTask, SurvivalTask, EffectTask, EventSequenceTask)


def served_tasks() -> list[ServedTask]:
    """The registered tasks the service predicts: the tabular, survival and effect tasks,
    scored from a patient's inputs, the molecule tasks, scored from a SMILES, and the EHR
    tasks, scored from a patient's FHIR Bundle."""
    return [task for task in list_tasks() if isinstance(task, _SERVED_KINDS)]


def served_task(name: str) -> ServedTask:
    """The task called ``name``, or a 404 naming the tasks the service predicts."""
    try:
        task = get_task(name)
    except KeyError as error:
        raise NotFoundError(str(error.args[0])) from None
    if not isinstance(task, _SERVED_KINDS):
        raise NotFoundError(f"{name} ({task.modality} task) is not predicted by the service; "
                            "GET /tasks lists the tasks it predicts")
    return task


@dataclass(frozen=True)
class Outcome:
    """What a task's predicted value is: its unit, the coverage of its interval, and the values
    a reviewer's own estimate may take (None: any finite number)."""

    modality: Modality
    unit: str
    interval_coverage: float | None  # None: no interval is given
    value_range: tuple[float, float] | None

    def describe_range(self) -> str:
        if self.value_range is None:
            return f"any finite number, in {self.unit}"
        low, high = self.value_range
        return f"a number from {low:g} to {high:g} ({self.unit})"


# CalibratedModel.predict_risk's interval (alpha 0.05).
PROBABILITY = Outcome("tabular", "probability", 0.95, (0.0, 1.0))
EVENT_PROBABILITY = Outcome("survival", "probability", None, (0.0, 1.0))
# An EHR artifact is a CalibratedModel too: the same calibrated probability and interval.
EHR_PROBABILITY = Outcome("event_sequence", "probability", 0.95, (0.0, 1.0))


@functools.cache
def outcome(task_name: str) -> Outcome:
    """The outcome of ``task_name``'s predictions. A task no longer installed is described as
    a probability, as every prediction was before the service predicted molecules.

    A molecule's value is a measured property (a solubility, a free energy, a pIC50) and an
    effect a difference of outcomes, which a reviewer may know better than the model, outside
    the training data's range included, so any finite value is accepted for them.
    """
    try:
        task = get_task(task_name)
    except KeyError:
        return PROBABILITY
    if isinstance(task, MoleculeTask):
        return Outcome("molecule", task.units, INTERVAL_COVERAGE, None)
    if isinstance(task, SurvivalTask):
        return EVENT_PROBABILITY
    if isinstance(task, EffectTask):
        return Outcome("effect", effect_unit(task), EFFECT_INTERVAL_COVERAGE, None)
    if isinstance(task, EventSequenceTask):
        return EHR_PROBABILITY
    return PROBABILITY


@functools.cache
def effect_dataset(task_name: str) -> EffectDataset | None:
    """An effect task's dataset, read once per process for what it says of the outcome and
    the covariates; None when the package that ships it is not installed."""
    task = get_task(task_name)
    assert isinstance(task, EffectTask)
    try:
        return task.load()
    except DatasetUnavailableError:
        return None


def effect_unit(task: EffectTask) -> str:
    dataset = effect_dataset(task.name)
    if dataset is None:
        return "outcome units"
    return f"{dataset.outcome_unit} ({dataset.treated_label} minus {dataset.control_label})"


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
        kind = SERVED_MODELS[expected.modality]
        if not isinstance(model, kind):
            raise UnavailableError(f"{row.label} holds a {type(model).__name__}, not the "
                                   f"{kind.__name__} a {expected.modality} task is served "
                                   "with; register a model trained for this task or roll back")
        if expected.modality == "event_sequence":
            try:
                event_model(model)
            except TypeError as error:
                raise UnavailableError(f"{row.label}: {error}, or roll back") from None
        if (isinstance(model, ConformalRegressor)
                and model.conformal.coverage != expected.interval_coverage):
            raise UnavailableError(
                f"{row.label} gives {model.conformal.coverage:.0%} intervals; the service "
                f"states {expected.interval_coverage:.0%} for molecule tasks, so retrain it "
                "with `medora train` or roll back")
        return model


def _cell(value: float | str | None) -> str:
    return "" if value is None else repr(value) if isinstance(value, float) else value


def _input_frame(names: list[str], inputs: Mapping[str, float | str | None]) -> pd.DataFrame:
    """One row of text cells, as a CSV reader would give it: ``names`` first (a left-out input
    is an empty cell), then any unknown input, for the validator to name."""
    cells = {**dict.fromkeys(names), **inputs}
    return pd.DataFrame({name: [_cell(value)] for name, value in cells.items()}, dtype=str)


def model_input(task: Task, inputs: Mapping[str, float | str | None]) -> pd.DataFrame:
    """One patient's inputs as the model's feature frame, validated by the same rules as a
    patient file; an input left out is a missing value, an unknown one is an error.

    Raises :class:`medora.data.tabular.InputValidationError` listing every problem.
    """
    return validate_features(_input_frame(task.feature_names, inputs), task.features,
                             source="inputs", file_lines=False)


def _effect_input(predictor: EffectPredictor, inputs: Mapping[str, float | str | None]
                  ) -> pd.DataFrame:
    """One patient's covariates, typed as the effect model was trained on them; every
    covariate is required and an unknown input is an error."""
    names = list(predictor.schema)
    unknown = [f"{name}: unknown input; the model takes {names}"
               for name in sorted(set(inputs) - set(names))]
    try:
        covariates = read_covariates(_input_frame(names, inputs), predictor.schema, "inputs",
                                     file_lines=False)
    except InputValidationError as error:
        raise InputValidationError("inputs", [*error.problems, *unknown]) from None
    if unknown:
        raise InputValidationError("inputs", unknown)
    return covariates


def _stored_covariates(covariates: pd.DataFrame) -> dict[str, float | str]:
    """Numbers as numbers, categories by their label."""
    return {name: float(values.iloc[0]) if values.dtype.kind == "f" else str(values.iloc[0])
            for name, values in covariates.items()}


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
class BundleInputs:
    """An EHR prediction's inputs: one patient's FHIR R4 Bundle as sent (JSON bytes) and,
    optionally, the index time (ISO 8601 text; None: the task's latest index event)."""

    bundle: bytes
    index_time: str | None = None


@dataclass(frozen=True)
class EhrInput:
    """An EHR patient as the model sees it, assessed, with the record it was read from."""

    assessment: EhrAssessment
    record: PatientRecord


Inputs = Mapping[str, float | str | None] | BundleInputs


@dataclass(frozen=True)
class Prepared:
    """Validated inputs: as stored with the prediction, and as the model takes them."""

    stored: dict[str, Any]
    model_input: pd.DataFrame | Chem.Mol | EhrInput


def bundle_path(task: ServedTask) -> str:
    return f"/predict/{task.name}/bundle"


def _ehr_input(task: EventSequenceTask, model: ServedModel, inputs: Inputs) -> Prepared:
    """The patient of the bundle at the index time, scored and explained: reading the bundle
    and choosing the index are its validation, and the events the model reads depend on the
    model's window, so the model runs here."""
    if not isinstance(inputs, BundleInputs):
        raise InputValidationError("inputs", [
            f"{BUNDLE_INPUT}: {task.name} predicts from one patient's FHIR R4 Bundle, not from "
            f"inputs; POST the bundle as the request body to {bundle_path(task)}"])
    assert isinstance(model, CalibratedModel)  # checked when loaded
    index_time = parse_index_time(inputs.index_time)
    record = read_patient_bundle(inputs.bundle)
    assessment = assess(task, model, record, index_time, explain=True)
    return Prepared(stored_inputs(assessment, record), EhrInput(assessment, record))


def prepare(task: ServedTask, model: ServedModel, inputs: Inputs) -> Prepared:
    """Validate ``inputs`` for ``task`` (an effect task's against its serving ``model``'s
    covariates; an EHR task's bundle read and assessed by ``model``); raises
    :class:`InputValidationError` listing every problem."""
    if isinstance(task, EventSequenceTask):
        return _ehr_input(task, model, inputs)
    if isinstance(inputs, BundleInputs):
        raise InputValidationError("inputs", [
            f"{BUNDLE_INPUT}: {task.name} is not predicted from a FHIR Bundle; POST its inputs "
            f"to /predict/{task.name} (GET /tasks lists them)"])
    if isinstance(task, MoleculeTask):
        smiles = _molecule_input(task, inputs)
        return Prepared({SMILES_INPUT: smiles}, stored_molecule(smiles))
    if isinstance(task, EffectTask):
        assert isinstance(model, EffectPredictor)
        covariates = _effect_input(model, inputs)
        return Prepared(_stored_covariates(covariates), covariates)
    if isinstance(task, SurvivalTask):
        x = survival_inputs(task, _input_frame(task.feature_names, inputs), "inputs",
                            file_lines=False)
        return Prepared(_as_json(x), x)
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
    """What the stored prediction says (see the module's docstring for each kind)."""

    risk: float
    lower: float | None
    upper: float | None
    threshold: float
    threshold_source: str
    flagged: bool
    explanation: list[dict[str, Any]]
    details: dict[str, Any] | None = None


def score(task: ServedTask, model: ServedModel, prepared: Prepared) -> Score:
    """The prediction of ``model`` (the task's serving version, checked to be of the task's
    kind when loaded) for the prepared inputs."""
    x = prepared.model_input
    if isinstance(x, EhrInput):
        assert isinstance(task, EventSequenceTask)
        return _score_ehr(task, x)
    if isinstance(model, ConformalRegressor):
        return _score_molecule(model, x)
    assert isinstance(x, pd.DataFrame)
    if isinstance(model, SurvivalPredictor):
        return _score_survival(model, x)
    if isinstance(model, EffectPredictor):
        assert isinstance(task, EffectTask)
        return _score_effect(task, model, x)
    assert isinstance(task, Task)
    return _score_patient(task, model, x)


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


def _score_ehr(task: EventSequenceTask, patient: EhrInput) -> Score:
    """Calibrated risk at the index time with its 95% interval, flagged at the task's
    threshold, the model's top terms, and where, on what and why (see
    :func:`medora.areas.ehr.predict.prediction_details`)."""
    assessment = patient.assessment
    return Score(risk=round(assessment.risk, RISK_DECIMALS),
                 lower=round(assessment.lower, RISK_DECIMALS),
                 upper=round(assessment.upper, RISK_DECIMALS),
                 threshold=task.threshold.value, threshold_source=task.threshold.source,
                 flagged=bool(assessment.risk >= task.threshold.value),
                 explanation=top_terms(assessment),
                 details=prediction_details(assessment, patient.record))


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


def _rounded(values: np.ndarray) -> list[float]:
    return [round(float(v), RISK_DECIMALS) for v in values]


def _score_survival(predictor: SurvivalPredictor, x: pd.DataFrame) -> Score:
    """The probability of the event by the reference horizon, flagged in the training
    patients' top third, with the survival curve, the percentile and the group."""
    result = predictor.assess(x)
    return Score(
        risk=round(float(result.event_probability[0]), RISK_DECIMALS), lower=None, upper=None,
        threshold=round(predictor.high_risk_threshold, RISK_DECIMALS),
        threshold_source=predictor.describe_threshold(), flagged=result.group[0] == "high",
        explanation=[],
        details={"kind": "survival", "time_unit": predictor.time_unit,
                 "horizon": predictor.horizon,
                 "risk_score": round(float(result.risk_score[0]), RISK_DECIMALS),
                 "risk_percentile": round(float(result.percentile[0]), 1),
                 "risk_group": str(result.group[0]),
                 "reference_patients": int(predictor.reference.size),
                 "horizons": predictor.horizons.tolist(),
                 "survival_at_horizons": _rounded(result.at_horizons[0]),
                 "curve_times": predictor.curve_times.tolist(),
                 "curve": _rounded(result.curve[0])})


def _score_effect(task: EffectTask, predictor: EffectPredictor, covariates: pd.DataFrame
                  ) -> Score:
    """The effect with its interval, the recommended arm or the reason for none, flagged
    outside overlap."""
    prediction, propensity, check, (recommendation,) = predictor.assess(
        task.encode(covariates), task.propensity_design(covariates))
    has_interval = prediction.lower is not None and prediction.upper is not None
    low, high = predictor.overlap.interval
    unit = predictor.outcome_unit
    return Score(
        risk=round(float(prediction.cate[0]), RISK_DECIMALS),
        lower=round(recommendation.ci_low, RISK_DECIMALS) if has_interval else None,
        upper=round(recommendation.ci_high, RISK_DECIMALS) if has_interval else None,
        threshold=predictor.threshold,
        threshold_source=(f"an arm is recommended only when the whole interval lies on one "
                          f"side of {predictor.threshold:g} {unit} and the patient's propensity "
                          f"is inside the training overlap [{low:.3f}, {high:.3f}] (trimming "
                          f"at {predictor.overlap.alpha:g}, Crump et al. 2009)"),
        flagged=not bool(check.inside[0]), explanation=[],
        details={"kind": "effect", "model": predictor.model.display_name,
                 "outcome": predictor.outcome_name, "outcome_unit": unit,
                 "higher_is_better": predictor.higher_is_better,
                 "treated_label": predictor.treated_label,
                 "control_label": predictor.control_label,
                 "interval": prediction.interval or "none: this model gives no per-patient "
                                                    "interval",
                 "propensity": round(float(propensity[0]), RISK_DECIMALS),
                 "propensity_method": predictor.propensity_method,
                 "overlap": [round(low, RISK_DECIMALS), round(high, RISK_DECIMALS)],
                 "inside_overlap": bool(check.inside[0]),
                 "recommendation": recommendation.recommended_arm,
                 "reason": recommendation.reason})


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
            inputs: Inputs, actor: str) -> Prediction:
    """Score one patient (or, for a molecule task, one compound: ``patient_id`` is then the
    compound's identifier; for an EHR task, ``inputs`` are the patient's bundle) with the
    task's serving version and store the prediction, pending review, in one write
    transaction.

    The model runs outside any transaction, with the version last seen serving the task (read
    first when there is none). The write transaction then checks, holding the version's row,
    that this version still serves, so a stop acknowledged before the prediction is stored
    always wins; if another version serves by now, the patient is scored again with it.
    """
    served = models.serving_hint(task.name)
    for _ in range(MAX_ATTEMPTS):
        try:
            if served is None:
                with database.read() as session:
                    served = lifecycle.serving_version(session, task.name)
                models.remember_serving(served)
            model = models.get(served)
            # Again after a version change: an effect model's covariates are its own.
            prepared = prepare(task, model, inputs)
            result = score(task, model, prepared)
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
           "details": result.details, "review_status": "pending", "created_by": actor,
           "created_at": utc_now()}
    connection.execute(_INSERT_PREDICTION, row)
    audit.append(connection, actor=actor, action="prediction.create",
                 target=f"prediction:{row['id']}",
                 details={"task": task.name, "model_version": version,
                          "input_fingerprint": row["input_fingerprint"],
                          "flagged": result.flagged})
    return Prediction(**row)
