"""The service's database: typed tables, the engine factory and explicit transactions.

SQLite (WAL) by default, PostgreSQL by URL. Every write happens in :meth:`Database.write`, which
commits before the route returns, so anything the API acknowledged survives a crash.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, get_args

from sqlalchemy import (
    JSON,
    CheckConstraint,
    DateTime,
    Dialect,
    Double,
    Engine,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    MetaData,
    String,
    Text,
    TypeDecorator,
    create_engine,
    event,
    make_url,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from medora.registry.store import VersionStatus

Role = Literal["admin", "data_scientist", "clinician", "auditor"]
ReviewStatus = Literal["pending", "accepted", "overridden", "escalated"]
ReviewAction = Literal["accept", "override", "escalate"]
ROLES: tuple[Role, ...] = get_args(Role)
VERSION_STATUSES: tuple[VersionStatus, ...] = get_args(VersionStatus)
REVIEW_STATUSES: tuple[ReviewStatus, ...] = get_args(ReviewStatus)
REVIEW_ACTIONS: tuple[ReviewAction, ...] = get_args(ReviewAction)

NAME_LENGTH = 64  # user names, and the actor columns that record them
TASK_LENGTH = 128
SHA256_LENGTH = 64

# Named constraints, so migrations can refer to them identically on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in and out on every backend.

    SQLite keeps no zone, so values come back naive; they are UTC by construction. The audit hash
    covers the timestamp, so it must read back exactly as it was written.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime; the service stores aware UTC times only")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utc_now() -> datetime:
    return datetime.now(UTC)


# Where the service's queries run: an ORM session, or a plain connection on the hot paths.
Executor = Session | Connection


def dialect_of(executor: Executor) -> str:
    bind = executor.get_bind() if isinstance(executor, Session) else executor
    return bind.dialect.name


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {  # noqa: RUF012 (SQLAlchemy reads this class attribute)
        datetime: UTCDateTime(),
        float: Double(),
        dict[str, Any]: JSON(),
        list[dict[str, Any]]: JSON(),
    }


class User(Base):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint(_one_of("role", ROLES), name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH), unique=True)
    role: Mapped[Role] = mapped_column(String(32))
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime]


class ApiKey(Base):
    """A machine client's key: only its SHA-256 (the key has 256 random bits, so a fast hash
    cannot be brute-forced) and a short prefix that tells an admin which key it is."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    prefix: Mapped[str] = mapped_column(String(16))
    key_sha256: Mapped[str] = mapped_column(String(SHA256_LENGTH), unique=True)
    created_at: Mapped[datetime]


class ModelVersionRow(Base):
    """A registry version as the service sees it; the database is the source of truth for its
    status, mirrored to the registry's version.json."""

    __tablename__ = "model_versions"
    __table_args__ = (CheckConstraint(_one_of("status", VERSION_STATUSES), name="status"),)

    task: Mapped[str] = mapped_column(String(TASK_LENGTH), primary_key=True)
    version: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    model_name: Mapped[str] = mapped_column(String(64))
    status: Mapped[VersionStatus] = mapped_column(String(16))
    status_reason: Mapped[str | None] = mapped_column(Text)
    status_by: Mapped[str | None] = mapped_column(String(NAME_LENGTH))
    status_at: Mapped[datetime | None]
    approved_by: Mapped[str | None] = mapped_column(String(NAME_LENGTH))
    metrics: Mapped[dict[str, Any]]
    artifact_sha256: Mapped[str] = mapped_column(String(SHA256_LENGTH))
    registered_at: Mapped[datetime]

    @property
    def label(self) -> str:
        return f"{self.task} v{self.version}"


class Prediction(Base):
    """One served prediction: what went in (validated), what came out, and its review state."""

    __tablename__ = "predictions"
    __table_args__ = (
        ForeignKeyConstraint(["task", "model_version"],
                             ["model_versions.task", "model_versions.version"]),
        CheckConstraint(_one_of("review_status", REVIEW_STATUSES), name="review_status"),
        Index("ix_predictions_worklist", "review_status", "risk"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    task: Mapped[str] = mapped_column(String(TASK_LENGTH))
    model_version: Mapped[int]
    patient_id: Mapped[str] = mapped_column(String(NAME_LENGTH), index=True)
    inputs: Mapped[dict[str, Any]]
    input_fingerprint: Mapped[str] = mapped_column(String(SHA256_LENGTH))
    risk: Mapped[float]
    risk_lower: Mapped[float | None]  # None: the model gives no interval
    risk_upper: Mapped[float | None]
    threshold: Mapped[float]
    threshold_source: Mapped[str] = mapped_column(Text)
    flagged: Mapped[bool]
    explanation: Mapped[list[dict[str, Any]]]
    details: Mapped[dict[str, Any] | None]  # a survival curve, a recommended arm (see schemas)
    review_status: Mapped[ReviewStatus] = mapped_column(String(16))
    created_by: Mapped[str] = mapped_column(String(NAME_LENGTH))
    created_at: Mapped[datetime]


class Review(Base):
    __tablename__ = "reviews"
    __table_args__ = (CheckConstraint(_one_of("action", REVIEW_ACTIONS), name="action"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    prediction_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("predictions.id"), index=True)
    reviewer: Mapped[str] = mapped_column(String(NAME_LENGTH))
    action: Mapped[ReviewAction] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    clinician_value: Mapped[float | None]
    created_at: Mapped[datetime]


class AuditEvent(Base):
    """One link of the hash chain (see :mod:`medora.serve.audit`). The sequence is the primary
    key and each predecessor hash is unique, so two appends can never fork the chain."""

    __tablename__ = "audit_events"

    sequence: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(NAME_LENGTH))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(256))
    details: Mapped[dict[str, Any]]
    prev_hash: Mapped[str] = mapped_column(String(SHA256_LENGTH), unique=True)
    hash: Mapped[str] = mapped_column(String(SHA256_LENGTH), unique=True)


def create_database_engine(url: str) -> Engine:
    """An engine for ``url``: SQLite file (WAL) or PostgreSQL through psycopg 3.

    Statement parameters are hidden from error messages because they carry patient inputs and
    error messages end up in logs.
    """
    parsed = make_url(url)
    if parsed.drivername in {"postgres", "postgresql"}:
        parsed = parsed.set(drivername="postgresql+psycopg")
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if parsed.database in {None, "", ":memory:"}:
            raise ValueError("an in-memory SQLite database loses every prediction and review "
                             "when the service stops; give a file, e.g. sqlite:///medora.db")
        path = Path(parsed.database)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)  # patient data: owner only (SQLite gives its WAL the same mode)
    elif backend != "postgresql":
        raise ValueError(f"unsupported database {backend!r}; use sqlite:///PATH or "
                         "postgresql://USER@HOST/NAME")
    engine = create_engine(parsed, hide_parameters=True)
    # At DEBUG, SQLAlchemy logs the rows queries return: patient data. Keep it quiet whatever
    # level the root logger is set to.
    logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)
    if backend == "sqlite":
        _configure_sqlite(engine)
    else:
        _ping_after_idle(engine)
    return engine


#: A pooled PostgreSQL connection idle longer than this is pinged before use.
IDLE_BEFORE_PING_SECONDS = 10.0


def _ping_after_idle(engine: Engine) -> None:
    """Ping a pooled connection before use only when it has been idle a while.

    A server restart or an idle timeout closes connections that sit in the pool, so a
    connection must be checked before use; but SQLAlchemy's ``pool_pre_ping`` checks every
    checkout, a round trip added to each of a prediction's two transactions. Under load
    connections are never idle for long, and one that breaks in use makes SQLAlchemy discard
    every connection older than the failure anyway.
    """

    @event.listens_for(engine, "checkin")
    def _idle_from_now(_: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection: Any, record: Any, _: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < IDLE_BEFORE_PING_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            # The pool discards this connection and checks out another (a fresh one if need
            # be), as pool_pre_ping would.
            raise DisconnectionError(f"stale pooled connection: {error}") from error


_WRITE_OPTION = "medora_write"
BUSY_TIMEOUT_SECONDS = 30.0


class WriteGate:
    """Lets one SQLite write transaction at a time through, across the threads of a process
    (a lock) and across processes (``flock`` on a file beside the database).

    SQLite makes a writer that finds the database locked retry after sleeps that grow from
    1 ms to 100 ms, so with a few concurrent writers some wait tens of milliseconds for a lock
    that was free after two. Queueing here first, the next writer goes as soon as the previous
    one commits. Correctness never depends on the gate (``BEGIN IMMEDIATE`` still takes
    SQLite's own lock): a writer that bypasses it, such as the sqlite3 shell, is merely not
    queued. One gate per database file and process (see :func:`write_gate`).
    """

    def __init__(self, path: Path) -> None:
        self._lock = threading.Lock()
        self._file = path.with_name(path.name + ".write-lock")

    @contextmanager
    def hold(self, timeout: float = BUSY_TIMEOUT_SECONDS) -> Iterator[None]:
        deadline = time.monotonic() + timeout
        if not self._lock.acquire(timeout=timeout):
            raise TimeoutError(f"no SQLite write slot within {timeout:g} s")
        try:
            # Opened per transaction (a few microseconds), so no descriptor outlives its use;
            # closing it releases the flock.
            descriptor = os.open(self._file, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                self._flock(descriptor, deadline)
                yield
            finally:
                os.close(descriptor)
        finally:
            self._lock.release()

    @staticmethod
    def _flock(descriptor: int, deadline: float) -> None:
        # Polled rather than blocking so that a stuck holder ends in an error, as it would in
        # SQLite, instead of a hang; only one thread per process ever polls.
        delay = 0.0001
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise TimeoutError("another process held the SQLite write slot too "
                                       "long") from None
                time.sleep(delay)
                delay = min(delay * 2, 0.001)


_gates: dict[Path, WriteGate] = {}
_gates_lock = threading.Lock()


def write_gate(path: Path) -> WriteGate:
    """The process's one gate for the SQLite file at ``path``, shared by every engine on it,
    so that two engines in one process (a test's and the app's) queue in the same line."""
    key = path.resolve()
    with _gates_lock:
        return _gates.setdefault(key, WriteGate(key))


def _configure_sqlite(engine: Engine) -> None:
    """WAL, enforced foreign keys, a busy timeout, and transactions the service controls.

    pysqlite's own implicit transactions are turned off so that a write transaction can begin
    with ``BEGIN IMMEDIATE``: it takes the write lock before its first read, so read-then-write
    code (the audit chain, review state) never works from a stale snapshot.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")  # a commit is on disk, not only in the OS
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_SECONDS * 1000)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        write = connection.get_execution_options().get(_WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


class Database:
    """The engine and the two kinds of transaction the service uses."""

    def __init__(self, url: str) -> None:
        self.engine = create_database_engine(url)
        self.writer = self.engine.execution_options(**{_WRITE_OPTION: True})
        self._reader = self.engine.execution_options(postgresql_readonly=True)
        self._single_statements = (self.engine.execution_options(isolation_level="AUTOCOMMIT")
                                   if self.dialect == "postgresql" else self._reader)
        database = self.engine.url.database
        self._gate = write_gate(Path(database)) if self.dialect == "sqlite" and database else None

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def _write_turn(self) -> Iterator[None]:
        if self._gate is None:
            yield
        else:
            with self._gate.hold():
                yield

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A read-write transaction, committed when the block exits and rolled back on error."""
        with self._write_turn(), Session(self.writer, expire_on_commit=False) as session, \
                session.begin():
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only transaction (enforced by PostgreSQL; SQLite readers never block)."""
        with Session(self._reader, expire_on_commit=False) as session, session.begin():
            yield session

    # Plain connections for the per-request paths (authentication, storing a prediction): an
    # ORM session and statements built per call cost more there than the queries themselves.
    # Use prepared statements (module constants) with them.

    @contextmanager
    def write_connection(self) -> Iterator[Connection]:
        """:meth:`write` without the ORM session."""
        with self._write_turn(), self.writer.begin() as connection:
            yield connection

    @contextmanager
    def read_statement(self) -> Iterator[Connection]:
        """A connection for reads of one statement each, outside any transaction on PostgreSQL
        (autocommit): one round trip where BEGIN, the query and COMMIT take three, and a
        single statement sees one snapshot either way. For the checks every request makes."""
        with self._single_statements.connect() as connection:
            yield connection

    def dispose(self) -> None:
        self.engine.dispose()
