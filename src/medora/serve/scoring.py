"""Predictions through the service, whatever the task's area: the serving version found, the
task's inputs validated and scored by its area (:class:`medora.serve.contract.TaskServing`),
and the prediction stored, pending review, with its audit event in one write transaction.

Every area shares this one path (serving version, write transaction, audit event, stop checks)
and the same stored columns; what each column means for a kind of task is the area's to say
(see :mod:`medora.serve.contract`).
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import uuid
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from medora.core.registry import area_of, get_task, list_tasks
from medora.core.task import Task
from medora.registry.store import ArtifactIntegrityError, ModelStore
from medora.serve import audit, lifecycle
from medora.serve.contract import Outcome, Score, ServedModelError, TaskServing
from medora.serve.db import Database, ModelVersionRow, Prediction, utc_now
from medora.serve.errors import ConflictError, NotFoundError, ServiceError, UnavailableError

MAX_ATTEMPTS = 3  # scorings of one request when the serving version changes under it
_INSERT_PREDICTION = insert(Prediction.__table__)
#: What a prediction of a task no longer installed is read as: a probability, as every
#: prediction was before the service predicted other kinds.
UNINSTALLED = Outcome("unknown", "probability", 0.95, (0.0, 1.0))

log = logging.getLogger(__name__)


@functools.cache
def _servings() -> dict[str, TaskServing]:
    """How each built-in task the service predicts is served, by name; a task registered
    later (a test's, a notebook's) is added on first use."""
    found = {}
    for task in list_tasks():
        handler = area_of(task).serving(task)
        if handler is not None:
            found[task.name] = handler
    return found


def serving(name: str) -> TaskServing:
    """How the service predicts the task called ``name``, or a 404 naming the tasks it
    predicts."""
    try:
        task = get_task(name)
    except KeyError as error:
        raise NotFoundError(str(error.args[0])) from None
    handler = _servings().get(name)
    if handler is not None and handler.task is task:
        return handler
    handler = area_of(task).serving(task)
    if handler is None:
        raise NotFoundError(f"{name} ({task.modality} task) is not predicted by the service; "
                            "GET /tasks lists the tasks it predicts")
    _servings()[name] = handler
    return handler


def served_tasks() -> list[Task]:
    """The registered tasks the service predicts, by name."""
    return [task for task in list_tasks() if _is_served(task)]


def _is_served(task: Task) -> bool:
    try:
        serving(task.name)
    except NotFoundError:
        return False
    return True


def served_task(name: str) -> Task:
    """The task called ``name``, or a 404 naming the tasks the service predicts."""
    return serving(name).task


def outcome(task_name: str) -> Outcome:
    """The outcome of ``task_name``'s predictions; :data:`UNINSTALLED` for a task no longer
    installed, whose stored predictions stay readable."""
    try:
        return serving(task_name).outcome
    except NotFoundError:
        return UNINSTALLED


class ModelCache:
    """Loaded models by (task, version), and the version last seen serving each task.

    Loading checks the artifact's SHA-256 against the registry record and the database, so it
    happens once per version, not per request. The serving version is only a hint that spares
    a prediction a read transaction: :func:`predict` confirms it in its write transaction and
    corrects it when another request or process has changed it.
    """

    def __init__(self, store: ModelStore) -> None:
        self._store = store
        self._models: dict[tuple[str, int], object] = {}
        self._serving: dict[str, ModelVersionRow] = {}

    def get(self, row: ModelVersionRow) -> object:
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

    def _load(self, row: ModelVersionRow) -> object:
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
        try:
            serving(row.task).check_model(model)
        except NotFoundError:
            raise UnavailableError(f"{row.label}: its task is no longer installed or served; "
                                   "install the area that defines it or roll back") from None
        except ServedModelError as error:
            raise UnavailableError(f"{row.label} {error}, or roll back") from None
        return model


def input_fingerprint(task: Task, inputs: dict[str, Any]) -> str:
    """SHA-256 of the validated inputs: ties a prediction to its inputs in the audit log
    without writing them there."""
    canonical = json.dumps({"task": task.name, "inputs": inputs}, sort_keys=True,
                           separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()




def predict(database: Database, models: ModelCache, task: Task, patient_id: str,
            inputs: object, actor: str) -> Prediction:
    """Score one patient (or, for a molecule task, one compound: ``patient_id`` is then the
    compound's identifier; for an EHR task, ``inputs`` are the patient's bundle) with the
    task's serving version and store the prediction, pending review, in one write
    transaction.

    The model runs outside any transaction, with the version last seen serving the task (read
    first when there is none). The write transaction then checks, holding the version's row,
    that this version still serves, so a stop acknowledged before the prediction is stored
    always wins; if another version serves by now, the patient is scored again with it.
    """
    handler = serving(task.name)
    served = models.serving_hint(task.name)
    for _ in range(MAX_ATTEMPTS):
        try:
            if served is None:
                with database.read() as session:
                    served = lifecycle.serving_version(session, task.name)
                models.remember_serving(served)
            model = models.get(served)
            # Again after a version change: an effect model's covariates are its own.
            prepared = handler.prepare(model, inputs)
            result = handler.score(model, prepared)
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


def _store(connection: Connection, task: Task, version: int, patient_id: str,
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
