"""Credentials as data: argon2 password hashes, API keys and signed access tokens.

Pure functions, free of FastAPI and the database, so the CLI and the service share them.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from medora.serve.db import Role, utc_now
from medora.serve.settings import ServiceSettings

_hasher = PasswordHasher()  # RFC 9106 low-memory parameters
_ALGORITHM = "HS256"
API_KEY_PREFIX = "mdr_"
API_KEY_SHOWN = 12  # characters of a key kept in clear, to tell keys apart


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def new_api_key() -> str:
    return API_KEY_PREFIX + secrets.token_urlsafe(32)


def api_key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def issue_access_token(name: str, role: Role, settings: ServiceSettings,
                       now: datetime | None = None) -> str:
    """A signed JWT for ``name`` valid for ``settings.token_lifetime`` from ``now``."""
    issued = now or utc_now()
    claims = {"sub": name, "role": role, "iat": issued,
              "exp": issued + settings.token_lifetime, "jti": uuid.uuid4().hex}
    return jwt.encode(claims, settings.secret_key, algorithm=_ALGORITHM)


def read_access_token(token: str, settings: ServiceSettings) -> dict[str, Any]:
    """The claims of a token this service signed; raises ``jwt.InvalidTokenError`` otherwise
    (``jwt.ExpiredSignatureError`` once it has expired)."""
    return jwt.decode(token, settings.secret_key, algorithms=[_ALGORITHM],
                      options={"require": ["sub", "role", "exp", "iat", "jti"]})
