"""Temporary loss reports of the social-security card (issue 12): backend/card_loss.py.

Revision ID: 0012_card_loss
Revises: 0011_ecard
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

from backend.db import UtcDateTime

revision = "0012_card_loss"
down_revision = "0011_ecard"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "card_loss_reports",
        sa.Column("id_number", sa.String(18), primary_key=True),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("previous_card_state", sa.String(20), nullable=False),
        sa.Column("reported_at", UtcDateTime(), nullable=False),
        sa.Column("report_record", sa.String(36), nullable=False),
        sa.Column("cancelled_at", UtcDateTime()),
        sa.Column("cancel_record", sa.String(36)),
        sa.Column("kiosk_id", sa.String(64), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("card_loss_reports")
