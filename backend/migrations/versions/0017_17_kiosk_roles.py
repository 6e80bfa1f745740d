"""Least privilege (issue 17): a kiosk's role (office / field), carried by its enrollment token;
a token may allow re-keying an enrolled kiosk only when the operator said so; operators lift
rate-limit lockouts.

Revision ID: 0017_kiosk_roles
Revises: 0002
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

from backend.db import UtcDateTime

revision = "0017_kiosk_roles"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Kiosks enrolled before roles existed keep NULL: treated as office (no roster).
    op.add_column("kiosks", sa.Column("role", sa.String(16)))
    op.add_column("enrollment_tokens", sa.Column("role", sa.String(16), nullable=False, server_default="office"))
    op.add_column("enrollment_tokens", sa.Column("rekey", sa.Boolean(), nullable=False, server_default=sa.false()))
    # An operator lifting a lockout: rate-limit windows for this subject start again from lifted_at.
    op.create_table(
        "rate_limit_lifts",
        sa.Column("kind", sa.String(16), primary_key=True),            # phone | kiosk
        sa.Column("subject", sa.String(64), primary_key=True),
        sa.Column("lifted_at", UtcDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("rate_limit_lifts")
    op.drop_column("enrollment_tokens", "rekey")
    op.drop_column("enrollment_tokens", "role")
    op.drop_column("kiosks", "role")
