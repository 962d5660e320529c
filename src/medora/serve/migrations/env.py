"""Alembic environment: runs on the connection that :mod:`medora.serve.migrate` hands over."""

from alembic import context

from medora.serve.db import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `medora db upgrade` or medora.serve.migrate, "
                       "which supply the database connection")
context.configure(connection=connection, target_metadata=Base.metadata)
with context.begin_transaction():
    context.run_migrations()
