"""E-card platform (issue 11): citizen handles, the one-time dynamic sign-in codes, the e-card PIN.

Revision ID: 0011_ecard
Revises: 0017_kiosk_roles
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

from backend.db import UtcDateTime

revision = "0011_ecard"
down_revision = "0017_kiosk_roles"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ecard_accounts",
        sa.Column("subject", sa.String(24), primary_key=True),
        sa.Column("id_number", sa.String(18), nullable=False, unique=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
    )
    op.create_table(
        "ecard_codes",
        sa.Column("jti", sa.String(24), primary_key=True),
        sa.Column("subject", sa.String(24), nullable=False),
        sa.Column("issued_at", UtcDateTime(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.Column("redeemed_at", UtcDateTime()),
        sa.Column("redeemed_by", sa.String(64)),
    )
    op.create_index("ix_ecard_codes_expires", "ecard_codes", ["expires_at"])
    op.create_table(
        "ecard_pad_keys",
        sa.Column("kiosk_id", sa.String(64), primary_key=True),
        sa.Column("algorithm", sa.String(8), nullable=False),
        sa.Column("key_enc", sa.LargeBinary(), nullable=False),
        sa.Column("kcv", sa.String(16), nullable=False),
        sa.Column("registered_at", UtcDateTime(), nullable=False),
    )
    op.create_table(
        "ecard_pin_sessions",
        sa.Column("session_id", sa.String(32), primary_key=True),
        sa.Column("kiosk_id", sa.String(64), nullable=False),
        sa.Column("id_number", sa.String(18), nullable=False),
        sa.Column("purpose", sa.String(8), nullable=False),
        sa.Column("work_key_enc", sa.LargeBinary(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.Column("used_at", UtcDateTime()),
    )
    op.create_table(
        "ecard_pins",
        sa.Column("id_number", sa.String(18), primary_key=True),
        sa.Column("pin_hash", sa.Text(), nullable=False),
        sa.Column("set_at", UtcDateTime(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("locked_at", UtcDateTime()),
    )


def downgrade() -> None:
    op.drop_table("ecard_pins")
    op.drop_table("ecard_pin_sessions")
    op.drop_table("ecard_pad_keys")
    op.drop_index("ix_ecard_codes_expires", "ecard_codes")
    op.drop_table("ecard_codes")
    op.drop_table("ecard_accounts")
