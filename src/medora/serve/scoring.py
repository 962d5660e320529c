"""Predictions through the service: one patient's JSON inputs validated exactly as a CSV row
would be, scored by the task's serving model, explained, and stored with an audit event."""

from __future__ import annotations

import hashlib
import json
import logging
import math
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from medora.data.tabular import validate_features
from medora.explain.attributions import Contribution, top_contributions
from medora.models.calibrated import CalibratedModel
from medora.registry.store import ArtifactIntegrityError, ModelStore
from medora.serve import audit, lifecycle
from medora.serve.db import Database, ModelVersionRow, Prediction, utc_now
from medora.serve.errors import ConflictError, UnavailableError
from medora.tasks.base import Task

TOP_CONTRIBUTIONS = 5
RISK_DECIMALS = 4  # as `medora predict` reports them

log = logging.getLogger(__name__)


class ModelCache:
    """Loaded models by (task, version). Loading checks the artifact's SHA-256 against the
    registry record and the database, so it happens once per version, not per request."""

    def __init__(self, store: ModelStore) -> None:
        self._store = store
        self._models: dict[tuple[str, int], CalibratedModel] = {}

    def get(self, row: ModelVersionRow) -> CalibratedModel:
        # Loaded outside any lock, so a cold load of one task never holds up the others; two
        # concurrent cold loads of the same version load identical files and one is kept.
        key = (row.task, row.version)
        model = self._models.get(key)
        return model if model is not None else self._models.setdefault(key, self._load(row))

    def _load(self, row: ModelVersionRow) -> CalibratedModel:
        """The model, or a 503 naming the version; file paths go to the log, not the client."""
        try:
            record = self._store.get(row.task, row.version)
            if record.artifact_sha256 != row.artifact_sha256:
                raise ArtifactIntegrityError(f"{record.path} holds a different artifact from the "
                                             "one registered with the service")
            return self._store.load(record)
        except LookupError:
            log.error("%s is missing from the registry at %s", row.label, self._store.root)
            raise UnavailableError(f"{row.label} is missing from the model registry; restore "
                                   "it or roll back") from None
        except ArtifactIntegrityError as error:
            log.error("%s failed its integrity check: %s", row.label, error)
            raise UnavailableError(f"{row.label} failed its artifact integrity check; restore "
                                   "the original artifact or roll back") from None


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


def input_fingerprint(task: Task, inputs: dict[str, float | None]) -> str:
    """SHA-256 of the validated inputs: ties a prediction to its inputs in the audit log
    without writing them there."""
    canonical = json.dumps({"task": task.name, "inputs": inputs}, sort_keys=True,
                           separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class Score:
    risk: float
    lower: float
    upper: float
    flagged: bool
    contributions: list[Contribution]


def score(task: Task, model: CalibratedModel, x: pd.DataFrame) -> Score:
    """Calibrated risk with its 95% interval, the threshold flag and the top contributions."""
    risk = model.predict_risk(x)
    contributions = top_contributions(model.explain(x).iloc[0], x.iloc[0], k=TOP_CONTRIBUTIONS)
    return Score(risk=round(float(risk.risk[0]), RISK_DECIMALS),
                 lower=round(float(risk.lower[0]), RISK_DECIMALS),
                 upper=round(float(risk.upper[0]), RISK_DECIMALS),
                 flagged=bool(risk.risk[0] >= task.threshold.value),
                 contributions=contributions)


def predict(database: Database, models: ModelCache, task: Task, patient_id: str,
            inputs: Mapping[str, float | str | None], actor: str) -> Prediction:
    """Score one patient with the task's serving version and store the prediction, pending
    review.

    The model runs outside any transaction; the write transaction then checks, holding the
    version's row, that the same version still serves, so a stop acknowledged before the
    prediction is stored always wins.
    """
    with database.read() as session:
        served = lifecycle.serving_version(session, task.name)
    x = model_input(task, inputs)
    result = score(task, models.get(served), x)
    values = _as_json(x)
    with database.write() as session:
        current = lifecycle.serving_version(session, task.name, lock=True)
        if current.version != served.version:
            raise ConflictError(f"{task.name} changed from v{served.version} to "
                                f"v{current.version} during the prediction; send it again")
        prediction = Prediction(
            id=uuid.uuid4(), task=task.name, model_version=served.version,
            patient_id=patient_id, inputs=values, input_fingerprint=input_fingerprint(
                task, values),
            risk=result.risk, risk_lower=result.lower, risk_upper=result.upper,
            threshold=task.threshold.value, threshold_source=task.threshold.source,
            flagged=result.flagged,
            explanation=[{"feature": c.feature, "value": c.value,
                          "contribution": round(c.contribution, RISK_DECIMALS)}
                         for c in result.contributions],
            review_status="pending", created_by=actor, created_at=utc_now())
        session.add(prediction)
        audit.append(session, actor=actor, action="prediction.create",
                     target=f"prediction:{prediction.id}",
                     details={"task": task.name, "model_version": served.version,
                              "input_fingerprint": prediction.input_fingerprint,
                              "flagged": result.flagged})
    return prediction
