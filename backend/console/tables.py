"""The console's tables (SQLAlchemy Core, on the backend's metadata; migration 0015_console).

``console_audit`` is append-only: the migration installs a trigger that refuses UPDATE, DELETE
and TRUNCATE on PostgreSQL (and UPDATE/DELETE on the embedded SQLite store), so not even the
backend's own database role can rewrite what a reviewer looked at.
"""

from __future__ import annotations

import sqlalchemy as sa

from backend.db import BigId, UtcDateTime, metadata

ROLES = ("reviewer", "fleet_operator", "auditor", "administrator")

staff_users = sa.Table(
    "staff_users", metadata,
    sa.Column("username", sa.String(64), primary_key=True),
    sa.Column("display_name", sa.String(64), nullable=False),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("password_hash", sa.Text(), nullable=False),          # argon2id PHC string
    sa.Column("totp_secret", sa.String(64), nullable=False),        # base32 (RFC 6238)
    sa.Column("last_totp_step", sa.BigInteger(), nullable=False, server_default="0"),  # no code twice
    sa.Column("failures", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("locked_until", UtcDateTime()),
    sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()),
    sa.Column("created_at", UtcDateTime(), nullable=False),
)

staff_sessions = sa.Table(
    "staff_sessions", metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),      # sha256 of the cookie; the cookie is not stored
    sa.Column("username", sa.String(64), nullable=False),
    sa.Column("csrf_token", sa.String(64), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("last_seen_at", UtcDateTime(), nullable=False),
    sa.Column("ended_at", UtcDateTime()),                            # sign-out or idle: never valid again
)

console_audit = sa.Table(
    "console_audit", metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("at", UtcDateTime(), nullable=False),
    sa.Column("username", sa.String(64), nullable=False),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("action", sa.String(40), nullable=False),             # sign_in, capture_viewed, review_decided, ...
    sa.Column("target", sa.String(80), nullable=False, server_default=""),   # a record id, a user name: never an ID number
    sa.Column("detail", sa.Text(), nullable=False, server_default=""),
)

# The reviewer's decision on a flagged certification: one per record, final. Reports and the
# kiosk side read it (GET /v1/operator/review-decisions, GET /v1/kiosks/review-decisions).
review_decisions = sa.Table(
    "review_decisions", metadata,
    sa.Column("record_id", sa.String(36), primary_key=True),
    sa.Column("kiosk_id", sa.String(64), nullable=False),
    sa.Column("decision", sa.String(10), nullable=False),           # approved | rejected
    sa.Column("reason", sa.Text(), nullable=False),
    sa.Column("decided_by", sa.String(64), nullable=False),
    sa.Column("decided_at", UtcDateTime(), nullable=False),
    sa.Column("certified_until", sa.Date()),                         # set when an approval certified the person
)
sa.Index("ix_review_decisions_kiosk", review_decisions.c.kiosk_id, review_decisions.c.decided_at)
