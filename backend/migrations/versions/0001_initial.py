"""Initial schema: kiosks, enrollment tokens, records, persons, SMS, notifications, bank, accounts.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

from backend.db import BigId, UtcDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kiosks",
        sa.Column("kiosk_id", sa.String(64), primary_key=True),
        sa.Column("public_key", sa.LargeBinary(32), nullable=False),
        sa.Column("enrolled_at", UtcDateTime(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False, server_default="0"),
    )
    op.create_table(
        "enrollment_tokens",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("kiosk_id", sa.String(64)),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.Column("used_by", sa.String(64)),
        sa.Column("used_at", UtcDateTime()),
    )
    op.create_table(
        "records",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("kiosk_id", sa.String(64), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("type", sa.String(40), nullable=False),
        sa.Column("operator_id", sa.String(64)),
        sa.Column("person_id", sa.String(18)),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("received_at", UtcDateTime(), nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("envelope", sa.Text(), nullable=False),
        sa.Column("outcome", sa.String(40), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.UniqueConstraint("kiosk_id", "seq", name="uq_records_kiosk_seq"),
    )
    op.create_index("ix_records_person", "records", ["person_id"])
    op.create_index("ix_records_day", "records", ["day"])
    op.create_table(
        "persons",
        sa.Column("id_number", sa.String(18), primary_key=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("phone", sa.String(20)),
        sa.Column("card_state", sa.String(20), nullable=False, server_default="normal"),
        sa.Column("retired", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("certified_until", sa.Date()),
        sa.Column("deceased", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("district", sa.String(64)),
        sa.Column("address", sa.Text()),
        sa.Column("face_template", sa.LargeBinary()),
        sa.Column("face_model", sa.String(32)),
    )
    op.create_index("ix_persons_district", "persons", ["district"])
    op.create_table(
        "sms_requests",
        sa.Column("request_id", sa.String(36), primary_key=True),
        sa.Column("phone", sa.String(20), nullable=False),
        sa.Column("purpose", sa.String(32), nullable=False),
        sa.Column("kiosk_id", sa.String(64), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("verified_at", UtcDateTime()),
    )
    op.create_index("ix_sms_phone_time", "sms_requests", ["phone", "created_at"])
    op.create_index("ix_sms_kiosk_time", "sms_requests", ["kiosk_id", "created_at"])
    op.create_table(
        "seen_request_signatures",
        sa.Column("sig_hash", sa.String(64), primary_key=True),
        sa.Column("seen_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_seen_sig_time", "seen_request_signatures", ["seen_at"])
    op.create_table("sms_phone_locks", sa.Column("phone", sa.String(20), primary_key=True))
    op.create_table(
        "dev_sms_outbox",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("phone", sa.String(20), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("sent_at", UtcDateTime(), nullable=False),
    )
    op.create_table(
        "notifications",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("record_id", sa.String(36), nullable=False),
        sa.Column("phone", sa.String(20), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("sent_at", UtcDateTime()),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
    )
    op.create_index("ix_notifications_pending", "notifications", ["sent_at"])
    op.create_table(
        "bank_test_accounts",
        sa.Column("bank_code", sa.String(16), primary_key=True),
        sa.Column("card_number", sa.String(19), primary_key=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("id_number", sa.String(18), nullable=False),
        sa.Column("phone", sa.String(20), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False, server_default="debit"),
    )
    op.create_table(
        "bank_verifications",
        sa.Column("verification_id", sa.String(36), primary_key=True),
        sa.Column("kiosk_id", sa.String(64), nullable=False),
        sa.Column("id_number", sa.String(18), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("bank_code", sa.String(16), nullable=False),
        sa.Column("phone", sa.String(20), nullable=False),
        sa.Column("sms_request_id", sa.String(36), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.Column("used_at", UtcDateTime()),
    )
    op.create_table(
        "accounts",
        sa.Column("account_id", sa.String(36), primary_key=True),
        sa.Column("id_number", sa.String(18), nullable=False, unique=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("phone", sa.String(20), nullable=False),
        sa.Column("verified_by", sa.String(36), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
    )


def downgrade() -> None:
    for table in ("accounts", "bank_verifications", "bank_test_accounts", "notifications",
                  "dev_sms_outbox", "sms_phone_locks", "seen_request_signatures", "sms_requests", "persons", "records",
                  "enrollment_tokens", "kiosks"):
        op.drop_table(table)
