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
from sqlalchemy import insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from medora.data.tabular import validate_features
from medora.explain.attributions import Contribution, top_contributions
from medora.models.calibrated import CalibratedModel
from medora.registry.store import ArtifactIntegrityError, ModelStore
from medora.serve import audit, lifecycle
from medora.serve.db import Database, ModelVersionRow, Prediction, utc_now
from medora.serve.errors import ConflictError, ServiceError, UnavailableError
from medora.tasks import list_tasks
from medora.tasks.base import Task

TOP_CONTRIBUTIONS = 5
RISK_DECIMALS = 4  # as `medora predict` reports them
MAX_ATTEMPTS = 3  # scorings of one request when the serving version changes under it
_INSERT_PREDICTION = insert(Prediction.__table__)

log = logging.getLogger(__name__)


def served_tasks() -> list[Task]:
    """The registered tasks the service predicts: those scored from a patient's inputs (the
    tabular tasks), not the molecule tasks."""
    return [task for task in list_tasks(modality="tabular") if isinstance(task, Task)]


class ModelCache:
    """Loaded models by (task, version), and the version last seen serving each task.

    Loading checks the artifact's SHA-256 against the registry record and the database, so it
    happens once per version, not per request. The serving version is only a hint that spares
    a prediction a read transaction: :func:`predict` confirms it in its write transaction and
    corrects it when another request or process has changed it.
    """

    def __init__(self, store: ModelStore) -> None:
        self._store = store
        self._models: dict[tuple[str, int], CalibratedModel] = {}
        self._serving: dict[str, ModelVersionRow] = {}

    def get(self, row: ModelVersionRow) -> CalibratedModel:
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
    review, in one write transaction.

    The model runs outside any transaction, with the version last seen serving the task (read
    first when there is none). The write transaction then checks, holding the version's row,
    that this version still serves, so a stop acknowledged before the prediction is stored
    always wins; if another version serves by now, the patient is scored again with it.
    """
    x = None
    served = models.serving_hint(task.name)
    for _ in range(MAX_ATTEMPTS):
        try:
            if served is None:
                with database.read() as session:
                    served = lifecycle.serving_version(session, task.name)
                models.remember_serving(served)
            if x is None:
                x = model_input(task, inputs)
            result = score(task, models.get(served), x)
            values = _as_json(x)
            with database.write_connection() as connection:
                if lifecycle.still_serves(connection, task.name, served.version):
                    return _store(connection, task, served.version, patient_id, values,
                                  result, actor)
                with Session(bind=connection, expire_on_commit=False) as session:
                    current = lifecycle.serving_version(session, task.name, lock=True)
        except ServiceError:
            models.forget_serving(task.name)  # stopped, retired or broken: read again next time
            raise
        models.remember_serving(current)
        served = current
    raise ConflictError(f"the serving version of {task.name} kept changing during the "
                        "prediction; send it again")


def _store(connection: Connection, task: Task, version: int, patient_id: str,
           values: dict[str, float | None], result: Score, actor: str) -> Prediction:
    """Insert the prediction and its audit event in the caller's write transaction (plain
    INSERTs: the ORM's unit of work costs more than the statements); returns a detached copy
    of the prediction."""
    row = {"id": uuid.uuid4(), "task": task.name, "model_version": version,
           "patient_id": patient_id, "inputs": values,
           "input_fingerprint": input_fingerprint(task, values),
           "risk": result.risk, "risk_lower": result.lower, "risk_upper": result.upper,
           "threshold": task.threshold.value, "threshold_source": task.threshold.source,
           "flagged": result.flagged,
           "explanation": [{"feature": c.feature, "value": c.value,
                            "contribution": round(c.contribution, RISK_DECIMALS)}
                           for c in result.contributions],
           "review_status": "pending", "created_by": actor, "created_at": utc_now()}
    connection.execute(_INSERT_PREDICTION, row)
    audit.append(connection, actor=actor, action="prediction.create",
                 target=f"prediction:{row['id']}",
                 details={"task": task.name, "model_version": version,
                          "input_fingerprint": row["input_fingerprint"],
                          "flagged": result.flagged})
    return Prediction(**row)
