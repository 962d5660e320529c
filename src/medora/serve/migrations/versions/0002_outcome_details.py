"""Survival and treatment-effect predictions: an interval may be absent (a survival model gives
none per patient, nor does every effect model), and each prediction may carry the details of
its kind (a survival curve, a recommended arm).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_INTERVAL = ("risk_lower", "risk_upper")


def _set_nullable(nullable: bool) -> None:
    """Change the interval columns' nullability in place.

    SQLite cannot alter a column's constraints, and Alembic's batch mode rebuilds the table
    (copy, drop, rename), which fails when reviews reference its rows: foreign-key checks can
    be switched off only outside a transaction, and this migration runs in one. So on SQLite
    each column is replaced by a new one (ADD, copy, DROP, RENAME COLUMN: no rebuild).
    """
    if op.get_bind().dialect.name != "sqlite":
        for column in _INTERVAL:
            op.alter_column("predictions", column, existing_type=sa.Double(),
                            nullable=nullable)
        return
    constraint = "" if nullable else " NOT NULL DEFAULT 0"  # SQLite requires a default here
    double = sa.Double().compile(dialect=op.get_bind().dialect)
    for column in _INTERVAL:
        op.execute(f"ALTER TABLE predictions ADD COLUMN {column}_new {double}{constraint}")
        op.execute(f"UPDATE predictions SET {column}_new = {column}")
        op.execute(f"ALTER TABLE predictions DROP COLUMN {column}")
        op.execute(f"ALTER TABLE predictions RENAME COLUMN {column}_new TO {column}")


def upgrade() -> None:
    _set_nullable(True)
    op.add_column("predictions", sa.Column("details", sa.JSON(), nullable=True))


def downgrade() -> None:
    # Survival and effect predictions cannot be kept in the older schema.
    kept_only = "risk_lower IS NULL OR risk_upper IS NULL OR details IS NOT NULL"
    op.execute("DELETE FROM reviews WHERE prediction_id IN (SELECT id FROM predictions WHERE "
               f"{kept_only})")
    op.execute(f"DELETE FROM predictions WHERE {kept_only}")
    op.drop_column("predictions", "details")
    _set_nullable(False)
