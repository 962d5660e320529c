"""The service's settings: database, signing secret, token lifetime, request size limits.

The database URL comes from ``MEDORA_DATABASE_URL``, else it is the SQLite file
``$MEDORA_HOME/medora.db``. Everything is read from the environment, so each worker process of
``medora serve --workers N`` configures itself identically.

The secret that signs access tokens comes from ``MEDORA_SECRET_KEY``, else from the file named by
``MEDORA_SECRET_KEY_FILE``, else from ``$MEDORA_HOME/secret.key``, generated on first use with
mode 0600. It never has a default value and never lives in the repository.

Request bodies are limited to 1 MiB, except EHR prediction requests, which carry a whole
patient's FHIR Bundle (Synthea's average about 4.5 MB): those may have up to
``MEDORA_MAX_EHR_BODY_BYTES`` bytes, 32 MiB unless set.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from medora.registry.store import ModelStore, medora_home

DATABASE_URL_ENV = "MEDORA_DATABASE_URL"
SECRET_KEY_ENV = "MEDORA_SECRET_KEY"
SECRET_KEY_FILE_ENV = "MEDORA_SECRET_KEY_FILE"
GENERATED_SECRET_NAME = "secret.key"
MIN_SECRET_LENGTH = 32  # RFC 7518 section 3.2: an HS256 key has at least 256 bits
MAX_EHR_BODY_ENV = "MEDORA_MAX_EHR_BODY_BYTES"
DEFAULT_MAX_EHR_BODY_BYTES = 32 << 20


def default_database_url() -> str:
    """``$MEDORA_DATABASE_URL``, else the SQLite file ``$MEDORA_HOME/medora.db``."""
    return os.environ.get(DATABASE_URL_ENV) or f"sqlite:///{medora_home() / 'medora.db'}"


def max_ehr_body_bytes() -> int:
    """``$MEDORA_MAX_EHR_BODY_BYTES`` (a whole number of bytes), else 32 MiB."""
    text = os.environ.get(MAX_EHR_BODY_ENV, "").strip()
    if not text:
        return DEFAULT_MAX_EHR_BODY_BYTES
    if not text.isdigit() or int(text) == 0:
        raise ValueError(f"${MAX_EHR_BODY_ENV} is {text!r}; give a whole number of bytes, e.g. "
                         f"{64 << 20} for 64 MiB")
    return int(text)


def load_secret_key() -> str:
    """The token-signing secret from the environment, a named file, or the generated file."""
    if value := os.environ.get(SECRET_KEY_ENV):
        return _checked(value, f"${SECRET_KEY_ENV}")
    if file_name := os.environ.get(SECRET_KEY_FILE_ENV):
        path = Path(file_name)
        if not path.is_file():
            raise ValueError(f"${SECRET_KEY_FILE_ENV} names {path}, which is not a file")
        return _checked(path.read_text().strip(), str(path))
    return _generated_secret(medora_home() / GENERATED_SECRET_NAME)


def _checked(secret: str, source: str) -> str:
    if len(secret) < MIN_SECRET_LENGTH:
        raise ValueError(f"the secret key from {source} is {len(secret)} characters; use at least "
                         f"{MIN_SECRET_LENGTH}, e.g. `python -c 'import secrets; "
                         "print(secrets.token_urlsafe(48))'`")
    return secret


def _generated_secret(path: Path) -> str:
    """Read ``path``, creating it first if needed; concurrent first starts agree on one secret
    because the file appears complete (link of a finished temporary file) or not at all."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".secret-")  # mode 0600
        try:
            with os.fdopen(descriptor, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
            os.link(temporary, path)
        except FileExistsError:
            pass  # another process created it first; use theirs
        finally:
            os.unlink(temporary)
    return _checked(path.read_text().strip(), str(path))


@dataclass(frozen=True)
class ServiceSettings:
    """Everything the service is configured by; defaults are read when an instance is made."""

    database_url: str = field(default_factory=default_database_url)
    secret_key: str = field(default_factory=load_secret_key, repr=False)
    registry_root: Path = field(default_factory=lambda: ModelStore().root)
    token_lifetime: timedelta = timedelta(minutes=15)
    max_body_bytes: int = 1 << 20
    # An EHR prediction's body is a patient's whole FHIR Bundle (see the module docstring).
    max_ehr_body_bytes: int = field(default_factory=max_ehr_body_bytes)
    # Predictions one worker process computes at once (see ServiceState.model_threads).
    model_threads: int = 2
