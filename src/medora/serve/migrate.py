"""Schema migrations (Alembic), run programmatically: on service start and by
``medora db upgrade``. The scripts ship inside the package, so no alembic.ini is needed."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection

from medora.serve.db import Database

MIGRATIONS = Path(__file__).with_name("migrations")
# Serialises concurrent first starts on PostgreSQL (several workers or replicas); on SQLite the
# migration's write transaction (BEGIN IMMEDIATE) already does.
_MIGRATION_LOCK_KEY = 0x6D65_646F_7261_01


def alembic_config(connection: Connection) -> Config:
    """An Alembic configuration that runs the packaged migrations on ``connection``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def upgrade(database: Database) -> None:
    """Bring the schema to the newest revision, in one transaction."""
    with database.writer.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                               {"key": _MIGRATION_LOCK_KEY})
        command.upgrade(alembic_config(connection), "head")


def pending(database: Database) -> tuple[str | None, str]:
    """The database's schema revision and the newest one shipped; equal when up to date."""
    with database.engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
        head = ScriptDirectory.from_config(alembic_config(connection)).get_current_head()
    assert head is not None, "the package ships no migrations"
    return current, head


def require_current(database: Database) -> None:
    """Raise ``RuntimeError`` unless the schema is at the newest revision: a worker process
    does not migrate (``medora serve`` does it once before the workers start)."""
    current, head = pending(database)
    if current != head:
        raise RuntimeError(f"the database schema is at revision {current or 'none'}, not "
                           f"{head}; run `medora db upgrade` (medora serve does it at start)")
