"""Model store: versions, artifacts and model cards."""

from medora.registry.store import (
    ArtifactIntegrityError,
    ModelStore,
    ModelVersion,
    medora_home,
)

__all__ = ["ArtifactIntegrityError", "ModelStore", "ModelVersion", "medora_home"]
