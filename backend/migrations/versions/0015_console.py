"""The staff console (issue 15): staff accounts and sessions, the append-only audit log, review
decisions, kiosk heartbeats.

Revision ID: 0015_console
Revises: 0012_card_loss
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

from backend.db import BigId, UtcDateTime

revision = "0015_console"
down_revision = "0012_card_loss"
branch_labels = None
depends_on = None

# Append-only: no UPDATE, DELETE or TRUNCATE on the audit log, for any role, even the table owner.
PG_APPEND_ONLY = """
CREATE FUNCTION console_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'console_audit is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER console_audit_no_update BEFORE UPDATE OR DELETE ON console_audit
  FOR EACH ROW EXECUTE FUNCTION console_audit_append_only();
CREATE TRIGGER console_audit_no_truncate BEFORE TRUNCATE ON console_audit
  FOR EACH STATEMENT EXECUTE FUNCTION console_audit_append_only();
"""
SQLITE_APPEND_ONLY = [
    "CREATE TRIGGER console_audit_no_update BEFORE UPDATE ON console_audit "
    "BEGIN SELECT RAISE(ABORT, 'console_audit is append-only: UPDATE refused'); END",
    "CREATE TRIGGER console_audit_no_delete BEFORE DELETE ON console_audit "
    "BEGIN SELECT RAISE(ABORT, 'console_audit is append-only: DELETE refused'); END",
]


def upgrade() -> None:
    op.create_table(
        "staff_users",
        sa.Column("username", sa.String(64), primary_key=True),
        sa.Column("display_name", sa.String(64), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("totp_secret", sa.String(64), nullable=False),
        sa.Column("last_totp_step", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("failures", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("locked_until", UtcDateTime()),
        sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("created_at", UtcDateTime(), nullable=False),
    )
    op.create_table(
        "staff_sessions",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("last_seen_at", UtcDateTime(), nullable=False),
        sa.Column("ended_at", UtcDateTime()),
    )
    op.create_table(
        "console_audit",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("target", sa.String(80), nullable=False, server_default=""),
        sa.Column("detail", sa.Text(), nullable=False, server_default=""),
    )
    op.create_table(
        "review_decisions",
        sa.Column("record_id", sa.String(36), primary_key=True),
        sa.Column("kiosk_id", sa.String(64), nullable=False),
        sa.Column("decision", sa.String(10), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("decided_by", sa.String(64), nullable=False),
        sa.Column("decided_at", UtcDateTime(), nullable=False),
        sa.Column("certified_until", sa.Date()),
    )
    op.create_index("ix_review_decisions_kiosk", "review_decisions", ["kiosk_id", "decided_at"])
    op.create_table(
        "kiosk_heartbeats",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("kiosk_id", sa.String(64), nullable=False),
        sa.Column("received_at", UtcDateTime(), nullable=False),
        sa.Column("sent_at", UtcDateTime(), nullable=False),
        sa.Column("reason", sa.String(20), nullable=False),
        sa.Column("clock_drift_s", sa.Float(), nullable=False),
        sa.Column("software_version", sa.String(64), nullable=False),
        sa.Column("release_sha256", sa.String(64)),
        sa.Column("models", sa.Text(), nullable=False),
        sa.Column("devices", sa.Text(), nullable=False),
        sa.Column("outbox_depth", sa.Integer(), nullable=False),
        sa.Column("oldest_unsent_age_s", sa.Float()),
        sa.Column("last_sync_at", UtcDateTime()),
        sa.Column("free_disk_bytes", sa.BigInteger()),
    )
    op.create_index("ix_heartbeats_kiosk_time", "kiosk_heartbeats", ["kiosk_id", "received_at"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_APPEND_ONLY)
    else:
        for statement in SQLITE_APPEND_ONLY:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TABLE console_audit")      # the triggers go with it
        op.execute("DROP FUNCTION console_audit_append_only()")
    else:
        op.drop_table("console_audit")
    for table in ("kiosk_heartbeats", "review_decisions", "staff_sessions", "staff_users"):
        op.drop_table(table)
