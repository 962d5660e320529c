"""The packaged Alembic migrations build exactly the schema the ORM models describe."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, MetaData, String, inspect

from medora.serve import migrate
from medora.serve.db import Base, Database


def test_migrated_schema_matches_the_models(database: Database) -> None:
    changed = MetaData()
    for table in Base.metadata.tables.values():
        table.to_metadata(changed)
    changed.tables["reviews"].append_column(Column("ward", String(32)))
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection)
        assert compare_metadata(context, Base.metadata) == []
        assert [diff[0] for diff in compare_metadata(context, changed)] == ["add_column"]


def test_upgrade_is_idempotent_and_downgrade_removes_everything(database: Database) -> None:
    migrate.upgrade(database)
    tables = set(Base.metadata.tables)
    assert tables <= set(inspect(database.engine).get_table_names())
    with database.writer.begin() as connection:
        command.downgrade(migrate.alembic_config(connection), "base")
    assert not tables & set(inspect(database.engine).get_table_names())
    migrate.upgrade(database)
    assert tables <= set(inspect(database.engine).get_table_names())


def test_sqlite_database_file_is_private(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'medora.db'}")
    migrate.upgrade(database)
    database.dispose()
    assert stat.S_IMODE((tmp_path / "medora.db").stat().st_mode) == 0o600


@pytest.mark.parametrize(("url", "message"), [
    ("sqlite://", "in-memory"), ("sqlite:///:memory:", "in-memory"),
    ("mysql://user@host/db", "unsupported database"),
])
def test_unusable_urls_are_refused(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Database(url)


def test_postgresql_urls_use_psycopg_3() -> None:
    database = Database("postgresql://medora@localhost/medora")
    assert database.engine.dialect.driver == "psycopg"
