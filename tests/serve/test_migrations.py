"""The packaged Alembic migrations build exactly the schema the ORM models describe."""

from __future__ import annotations

import stat
import uuid
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, MetaData, String, Uuid, bindparam, inspect, text
from sqlalchemy.exc import IntegrityError

from medora.serve import migrate
from medora.serve.db import Base, Database

# Bound with the column's type: SQLite stores a UUID as 32 hex digits, PostgreSQL natively.
PREDICTION_ID = bindparam("id", uuid.UUID("00000000-0000-4000-8000-000000000001"), Uuid())


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


def test_upgrade_from_0001_keeps_stored_predictions_reviews_and_constraints(
        database: Database) -> None:
    """0002 rebuilds the predictions table on SQLite: the rows, the review that references
    one and the review-status check must survive it."""
    with database.writer.begin() as connection:
        command.downgrade(migrate.alembic_config(connection), "0001")
    with database.writer.begin() as connection:
        connection.execute(text(
            "INSERT INTO model_versions (task, version, model_name, status, metrics, "
            "artifact_sha256, registered_at) VALUES ('t', 1, 'mlp', 'approved', '{}', "
            f"'{'0' * 64}', '2026-01-01 00:00:00')"))
        connection.execute(text(
            "INSERT INTO predictions (id, task, model_version, patient_id, inputs, "
            "input_fingerprint, risk, risk_lower, risk_upper, threshold, threshold_source, "
            "flagged, explanation, review_status, created_by, created_at) VALUES (:id, 't', 1, "
            "'MRN-1', '{}', :fingerprint, 0.3, 0.2, 0.4, 0.2, 'guideline', true, '[]', "
            "'accepted', 'alice', '2026-01-01 00:00:00')").bindparams(PREDICTION_ID),
            {"fingerprint": "f" * 64})
        connection.execute(text(
            "INSERT INTO reviews (prediction_id, reviewer, action, created_at) VALUES "
            "(:id, 'bob', 'accept', '2026-01-02 00:00:00')").bindparams(PREDICTION_ID))
    migrate.upgrade(database)
    with database.engine.connect() as connection:
        stored = connection.execute(text(
            "SELECT risk, risk_lower, risk_upper, details FROM predictions")).one()
        assert tuple(stored) == (0.3, 0.2, 0.4, None)
        assert connection.execute(text("SELECT count(*) FROM reviews")).scalar_one() == 1
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
    with pytest.raises(IntegrityError), database.writer.begin() as connection:
        connection.execute(text("UPDATE predictions SET review_status = 'lost'"))
    with pytest.raises(IntegrityError), database.writer.begin() as connection:
        connection.execute(text("DELETE FROM predictions"))  # a review still references it
