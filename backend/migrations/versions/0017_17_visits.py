"""Visits (issue 17): a kiosk reads a person's data only for the person of its current visit;
refusals outside a visit are recorded for the operator.

Revision ID: 0017_visits
Revises: 0015_console
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

from backend.db import BigId, UtcDateTime

revision = "0017_visits"
down_revision = "0015_console"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kiosk_visits",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("kiosk_id", sa.String(64), nullable=False),
        sa.Column("id_number", sa.String(18), nullable=False),
        sa.Column("evidence", sa.String(16), nullable=False),
        sa.Column("opened_at", UtcDateTime(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.Column("ended_at", UtcDateTime()),
    )
    op.create_index("ix_kiosk_visits_kiosk_opened", "kiosk_visits", ["kiosk_id", "opened_at"])
    op.create_table(
        "visit_refusals",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("kiosk_id", sa.String(64), nullable=False),
        sa.Column("person_masked", sa.String(24), nullable=False),
        sa.Column("operation", sa.String(64), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_visit_refusals_at", "visit_refusals", ["at"])


def downgrade() -> None:
    op.drop_table("visit_refusals")
    op.drop_table("kiosk_visits")
