"""Alembic's entry point for the inference log: run on the connection the store passes.

Replicas starting together may all migrate at once; on PostgreSQL a transaction-scoped
advisory lock makes them take turns, so the second finds the schema already at head.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

_ADVISORY_LOCK = 0x5157_4C4F47  # "SQLOG": one number the inference log's migrations share

connection = context.config.attributes["connection"]
if connection.dialect.name == "postgresql":
    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_LOCK})
context.configure(connection=connection, target_metadata=None)
with context.begin_transaction():
    context.run_migrations()
