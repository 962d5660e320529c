"""PostgreSQL connections: the pool checks one that sat idle before handing it out, so a server
restart or an idle timeout never reaches a request; the per-request reads run outside a
transaction, and the pooled connection is transactional again for the next write."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from medora.serve import db
from medora.serve.db import Database

from ..conftest import POSTGRES_URL

pytestmark = pytest.mark.skipif(
    not POSTGRES_URL, reason="set MEDORA_TEST_POSTGRES_URL to run the PostgreSQL cases")


def _backend_pid(database: Database) -> int:
    with database.read_statement() as connection:
        return connection.execute(select(func.pg_backend_pid())).scalar_one()


def _terminate(pid: int) -> None:
    """Close one server-side connection, as a restart or an idle timeout would."""
    assert POSTGRES_URL
    other = Database(POSTGRES_URL)
    try:
        with other.engine.begin() as connection:
            assert connection.execute(text("SELECT pg_terminate_backend(:pid)"),
                                      {"pid": pid}).scalar_one()
    finally:
        other.dispose()


def test_an_idle_connection_closed_by_the_server_is_replaced_before_use(
        monkeypatch: pytest.MonkeyPatch) -> None:
    assert POSTGRES_URL
    monkeypatch.setattr(db, "IDLE_BEFORE_PING_SECONDS", 0.0)
    database = Database(POSTGRES_URL)
    try:
        first = _backend_pid(database)
        _terminate(first)
        second = _backend_pid(database)  # pinged, found closed, replaced: no error
        assert second != first
    finally:
        database.dispose()


def test_a_busy_connection_is_not_pinged(monkeypatch: pytest.MonkeyPatch) -> None:
    assert POSTGRES_URL
    monkeypatch.setattr(db, "IDLE_BEFORE_PING_SECONDS", 3600.0)
    database = Database(POSTGRES_URL)
    pings = []
    original = database.engine.dialect.do_ping
    monkeypatch.setattr(database.engine.dialect, "do_ping",
                        lambda connection: pings.append(1) or original(connection))
    try:
        assert _backend_pid(database) == _backend_pid(database)  # the same pooled connection
        assert pings == []
    finally:
        database.dispose()


def test_single_statement_reads_skip_the_transaction_and_writes_keep_it() -> None:
    assert POSTGRES_URL
    database = Database(POSTGRES_URL)
    try:
        with database.read_statement() as connection:
            assert connection.connection.dbapi_connection.autocommit
        with database.write_connection() as connection:  # the same pooled connection
            assert not connection.connection.dbapi_connection.autocommit
            assert connection.execute(text("SELECT 1")).scalar_one() == 1
    finally:
        database.dispose()
