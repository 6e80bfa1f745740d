"""Alembic environment: always run programmatically by backend.db.migrate with a live connection."""

from __future__ import annotations

from alembic import context

from backend.db import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `kiosk-backend migrate` (backend.db.migrate), not the alembic CLI")

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
