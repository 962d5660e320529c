"""The model store: every training registers a version that ``medora predict`` can load.

Layout, one folder per version, written to a temporary folder first and renamed into place so
a crash never leaves a half-registered version::

    $MEDORA_HOME/registry/<task>/v<N>/
        model.joblib    the calibrated model (SHA-256 recorded and checked on load)
        version.json    the ModelVersion record
        card.md         the model card
        metrics.json    every compared model's metrics with confidence intervals
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import joblib

from medora.registry.legacy import moved_modules_importable

VersionStatus = Literal["draft", "approved", "stopped", "retired"]
ARTIFACT_NAME = "model.joblib"
RECORD_NAME = "version.json"
CARD_NAME = "card.md"
METRICS_NAME = "metrics.json"


def medora_home() -> Path:
    """Where medora keeps its registry: ``$MEDORA_HOME`` or ``~/.medora``."""
    return Path(os.environ.get("MEDORA_HOME", Path.home() / ".medora")).expanduser()


@dataclass
class ModelVersion:
    """A registered, loadable model and everything needed to trust it."""

    task: str
    version: int
    model_name: str
    model_kind: str
    run_id: str
    created_at: str
    artifact_sha256: str
    data_fingerprint: str
    metrics: dict[str, Any]
    config: dict[str, Any]
    status: VersionStatus = "draft"
    approved_by: str | None = None
    path: str = ""
    history: list[dict[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class ArtifactIntegrityError(RuntimeError):
    """The stored model file no longer matches the hash recorded when it was registered."""


class ModelStore:
    """Versioned model registry on the file system."""

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root) if root is not None else medora_home() / "registry"

    def register(self, task: str, model: object, *, model_name: str, model_kind: str,
                 run_id: str, data_fingerprint: str, metrics: dict[str, Any],
                 config: dict[str, Any],
                 documents: Callable[[ModelVersion], dict[str, str]]) -> ModelVersion:
        """Store a new draft version of ``task``.

        ``documents`` renders the files stored beside the artifact (file name -> text, e.g. the
        model card and metrics.json) once the version number is known.
        """
        task_dir = self.root / task
        task_dir.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=task_dir))
        try:
            joblib.dump(model, staging / ARTIFACT_NAME)
            record = ModelVersion(
                task=task, version=0, model_name=model_name, model_kind=model_kind,
                run_id=run_id, created_at=datetime.now(UTC).isoformat(timespec="seconds"),
                artifact_sha256=_sha256(staging / ARTIFACT_NAME),
                data_fingerprint=data_fingerprint, metrics=metrics, config=config,
            )
            # Claim the next version number atomically: rename fails if another process won.
            while True:
                record.version = self._next_version(task)
                target = task_dir / f"v{record.version}"
                record.path = str(target)
                (staging / RECORD_NAME).write_text(json.dumps(record.to_dict(), indent=2))
                for name, text in documents(record).items():
                    (staging / name).write_text(text, encoding="utf-8")
                try:
                    staging.rename(target)
                    return record
                except OSError:
                    if not target.exists():
                        raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def versions(self, task: str | None = None) -> list[ModelVersion]:
        tasks = [task] if task else sorted(p.name for p in self.root.glob("*") if p.is_dir())
        records = [
            self._read(path)
            for name in tasks
            for path in (self.root / name).glob(f"v*/{RECORD_NAME}")
        ]
        return sorted(records, key=lambda r: (r.task, r.version))

    def get(self, task: str, version: int | None = None) -> ModelVersion:
        """A version of ``task``: the given one, else the newest that is not retired."""
        records = self.versions(task)
        if not records:
            raise LookupError(f"no registered model for task {task!r}; train one with "
                              f"`medora train {task}`")
        if version is None:
            usable = [r for r in records if r.status != "retired"]
            if not usable:
                raise LookupError(f"every version of {task!r} is retired")
            return usable[-1]
        for record in records:
            if record.version == version:
                return record
        raise LookupError(f"{task!r} has no version {version}; registered versions: "
                          f"{[r.version for r in records]}")

    def load(self, record: ModelVersion) -> Any:
        artifact = Path(record.path) / ARTIFACT_NAME
        if _sha256(artifact) != record.artifact_sha256:
            raise ArtifactIntegrityError(
                f"{artifact} does not match the SHA-256 recorded at registration; the file was "
                "changed or corrupted. Retrain or restore it from a backup.")
        try:
            with moved_modules_importable():
                return joblib.load(artifact)
        except (AttributeError, ImportError, TypeError, ValueError, EOFError,
                pickle.UnpicklingError) as error:
            # The classes the artifact was pickled from have changed since it was registered.
            raise ArtifactIntegrityError(
                f"{record.task} v{record.version} was registered by medora "
                f"{record.config.get('medora_version', 'of an earlier release')} and cannot be "
                f"loaded by medora {_medora_version()} ({type(error).__name__}: {error}); "
                "retrain it with this version, or use the medora release that registered it"
            ) from error

    def card(self, record: ModelVersion) -> str:
        return (Path(record.path) / CARD_NAME).read_text()

    def set_status(self, record: ModelVersion, status: VersionStatus, by: str,
                   reason: str = "") -> ModelVersion:
        event = {"status": status, "by": by, "reason": reason,
                 "at": datetime.now(UTC).isoformat(timespec="seconds")}
        updated = replace(record, status=status, history=[*record.history, event],
                          approved_by=by if status == "approved" else record.approved_by)
        path = Path(record.path) / RECORD_NAME
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(updated.to_dict(), indent=2))
        os.replace(temporary, path)
        return updated

    def _next_version(self, task: str) -> int:
        numbers = [int(p.name[1:]) for p in (self.root / task).glob("v*") if p.name[1:].isdigit()]
        return max(numbers, default=0) + 1

    @staticmethod
    def _read(path: Path) -> ModelVersion:
        return ModelVersion(**json.loads(path.read_text()))


def _medora_version() -> str:
    from importlib import metadata

    return metadata.version("medora")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
