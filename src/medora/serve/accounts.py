"""Users and their API keys in the database: creation (audited) and lookup for login."""

from __future__ import annotations

import re
from functools import cache

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from medora.serve import audit
from medora.serve.credentials import (
    API_KEY_SHOWN,
    api_key_digest,
    hash_password,
    new_api_key,
    verify_password,
)
from medora.serve.db import ROLES, ApiKey, Executor, Role, User, utc_now

USER_NAME = re.compile(r"[a-z][a-z0-9._-]{1,63}")
MIN_PASSWORD_LENGTH = 12


class AccountError(ValueError):
    """A user or key that cannot be created as asked; the message says why."""


def user_named(session: Session, name: str) -> User | None:
    return session.scalars(select(User).where(User.name == name)).first()


# Prepared once: the per-request checks run them on every authenticated request.
_IDENTITY_BY_KEY = (select(User.name, User.role).join(ApiKey)
                    .where(ApiKey.key_sha256 == bindparam("digest")))
_ROLE_BY_NAME = select(User.role).where(User.name == bindparam("name"))


def identity_for_api_key(executor: Executor, key: str) -> tuple[str, Role] | None:
    """The name and role of the user an API key acts as (the per-request check)."""
    row = executor.execute(_IDENTITY_BY_KEY, {"digest": api_key_digest(key)}).first()
    return None if row is None else (row.name, row.role)


def role_of(executor: Executor, name: str) -> Role | None:
    """The role of the user named ``name`` (the per-request check of a token)."""
    return executor.execute(_ROLE_BY_NAME, {"name": name}).scalar()


def user_for_api_key(session: Session, key: str) -> User | None:
    return session.scalars(select(User).join(ApiKey).where(
        ApiKey.key_sha256 == api_key_digest(key))).first()


def parse_role(value: str) -> Role:
    for role in ROLES:
        if value == role:
            return role
    raise AccountError(f"unknown role {value!r}; choose one of {', '.join(ROLES)}")


def add_user(session: Session, name: str, role: Role, password: str, *, actor: str) -> User:
    if not USER_NAME.fullmatch(name):
        raise AccountError(f"invalid user name {name!r}: use 2-64 lower-case letters, digits, "
                           "'.', '_' or '-', starting with a letter")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"the password has {len(password)} characters; use at least "
                           f"{MIN_PASSWORD_LENGTH}")
    if user_named(session, name) is not None:
        raise AccountError(f"a user named {name!r} already exists")
    user = User(name=name, role=role, password_hash=hash_password(password),
                created_at=utc_now())
    session.add(user)
    audit.append(session, actor=actor, action="user.add", target=f"user:{name}",
                 details={"role": role})
    return user


def add_api_key(session: Session, name: str, *, actor: str) -> str:
    """Create an API key for user ``name`` and return it; only its hash is kept."""
    user = user_named(session, name)
    if user is None:
        raise AccountError(f"no user named {name!r}; add one with `medora users add {name} "
                           "--role ROLE`")
    key = new_api_key()
    session.add(ApiKey(user_id=user.id, prefix=key[:API_KEY_SHOWN],
                       key_sha256=api_key_digest(key), created_at=utc_now()))
    audit.append(session, actor=actor, action="api_key.add", target=f"user:{name}",
                 details={"prefix": key[:API_KEY_SHOWN]})
    return key


@cache
def _decoy_hash() -> str:
    return hash_password("decoy password, never assigned to anyone")


def authenticate(session: Session, name: str, password: str) -> User | None:
    """The user with this name and password, or None. An unknown name costs as much time as a
    wrong password, so response times do not reveal which user names exist."""
    user = user_named(session, name) if USER_NAME.fullmatch(name) else None
    if user is None:
        verify_password(_decoy_hash(), password)
        return None
    return user if verify_password(user.password_hash, password) else None
