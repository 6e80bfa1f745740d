"""Tables (SQLAlchemy Core), engines and migrations.

One code path for PostgreSQL (production, tests) and SQLite (the embedded demo store). Every
timestamp is computed in Python from the service clock and stored as naive UTC, so both
databases compare times the same way and tests can move the clock.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

metadata = sa.MetaData()

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # SQLite autoincrements INTEGER only


class UtcDateTime(sa.types.TypeDecorator):
    """Aware UTC datetimes in Python, naive UTC in the database (same on PostgreSQL and SQLite)."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        if value.tzinfo is not UTC:             # already UTC (the common case): no conversion
            value = value.astimezone(UTC)
        return value.replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


kiosks = sa.Table(
    "kiosks", metadata,
    sa.Column("kiosk_id", sa.String(64), primary_key=True),
    sa.Column("public_key", sa.LargeBinary(32), nullable=False),   # raw Ed25519
    sa.Column("enrolled_at", UtcDateTime(), nullable=False),
    sa.Column("last_seq", sa.BigInteger(), nullable=False, server_default="0"),
    sa.Column("role", sa.String(16)),                               # office | field; NULL (older) = office
)

enrollment_tokens = sa.Table(
    "enrollment_tokens", metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),      # sha256 hex; the token is never stored
    sa.Column("kiosk_id", sa.String(64)),                          # if set, only this kiosk may use it
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("expires_at", UtcDateTime(), nullable=False),
    sa.Column("used_by", sa.String(64)),
    sa.Column("used_at", UtcDateTime()),
    sa.Column("role", sa.String(16), nullable=False, server_default="office"),  # the role it enrolls as
    sa.Column("rekey", sa.Boolean(), nullable=False, server_default=sa.false()),  # may replace a key
)

# One row per accepted record. The primary key on the record id is what makes ingest idempotent;
# (kiosk_id, seq) unique backs the per-kiosk ordering rule.
records = sa.Table(
    "records", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("kiosk_id", sa.String(64), nullable=False),
    sa.Column("seq", sa.BigInteger(), nullable=False),
    sa.Column("type", sa.String(40), nullable=False),
    sa.Column("operator_id", sa.String(64)),
    sa.Column("person_id", sa.String(18)),                          # payload id_number, for the read API
    sa.Column("created_at", UtcDateTime(), nullable=False),        # kiosk's wall clock
    sa.Column("received_at", UtcDateTime(), nullable=False),
    sa.Column("day", sa.String(10), nullable=False),               # created_at's UTC date, YYYY-MM-DD
    sa.Column("envelope", sa.Text(), nullable=False),              # canonical JSON incl. sig: evidence
    sa.Column("outcome", sa.String(40), nullable=False),
    sa.Column("message", sa.Text(), nullable=False),
    sa.UniqueConstraint("kiosk_id", "seq", name="uq_records_kiosk_seq"),
)
sa.Index("ix_records_person", records.c.person_id)
sa.Index("ix_records_day", records.c.day)

persons = sa.Table(
    "persons", metadata,
    sa.Column("id_number", sa.String(18), primary_key=True),
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("phone", sa.String(20)),                              # the bound phone
    sa.Column("card_state", sa.String(20), nullable=False, server_default="normal"),
    sa.Column("retired", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Column("certified_until", sa.Date()),
    sa.Column("deceased", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Column("district", sa.String(64)),
    sa.Column("address", sa.Text()),
    sa.Column("face_template", sa.LargeBinary()),                   # float32 SFace embedding
    sa.Column("face_model", sa.String(32)),
)
sa.Index("ix_persons_district", persons.c.district)

sms_requests = sa.Table(
    "sms_requests", metadata,
    sa.Column("request_id", sa.String(36), primary_key=True),
    sa.Column("phone", sa.String(20), nullable=False),
    sa.Column("purpose", sa.String(32), nullable=False),
    sa.Column("kiosk_id", sa.String(64), nullable=False),
    sa.Column("code_hash", sa.String(64), nullable=False),         # HMAC-SHA256; the code is never stored
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("expires_at", UtcDateTime(), nullable=False),
    sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("verified_at", UtcDateTime()),
)
sa.Index("ix_sms_phone_time", sms_requests.c.phone, sms_requests.c.created_at)
sa.Index("ix_sms_kiosk_time", sms_requests.c.kiosk_id, sms_requests.c.created_at)

# One row per phone: locked while deciding cooldown and rate limits, so replicas cannot race.
sms_phone_locks = sa.Table(
    "sms_phone_locks", metadata,
    sa.Column("phone", sa.String(20), primary_key=True),
)

# Signatures of online requests seen within the timestamp window: a captured request cannot be replayed.
# An operator lifted a rate-limit lockout: the subject's windows count only from lifted_at.
rate_limit_lifts = sa.Table(
    "rate_limit_lifts", metadata,
    sa.Column("kind", sa.String(16), primary_key=True),                # phone | kiosk
    sa.Column("subject", sa.String(64), primary_key=True),
    sa.Column("lifted_at", UtcDateTime(), nullable=False),
)

seen_request_signatures = sa.Table(
    "seen_request_signatures", metadata,
    sa.Column("sig_hash", sa.String(64), primary_key=True),
    sa.Column("seen_at", UtcDateTime(), nullable=False),
)
sa.Index("ix_seen_sig_time", seen_request_signatures.c.seen_at)

# The development SMS gateway's "phone": every message it would have sent.
dev_sms_outbox = sa.Table(
    "dev_sms_outbox", metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("phone", sa.String(20), nullable=False),
    sa.Column("text", sa.Text(), nullable=False),
    sa.Column("sent_at", UtcDateTime(), nullable=False),
)

# Transactional outbox for notifications: written with the record, delivered after commit.
notifications = sa.Table(
    "notifications", metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("record_id", sa.String(36), nullable=False),
    sa.Column("phone", sa.String(20), nullable=False),
    sa.Column("text", sa.Text(), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("sent_at", UtcDateTime()),
    sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
)
sa.Index("ix_notifications_pending", notifications.c.sent_at)

bank_test_accounts = sa.Table(
    "bank_test_accounts", metadata,
    sa.Column("bank_code", sa.String(16), primary_key=True),
    sa.Column("card_number", sa.String(19), primary_key=True),
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("id_number", sa.String(18), nullable=False),
    sa.Column("phone", sa.String(20), nullable=False),              # reserved at the bank
    sa.Column("kind", sa.String(8), nullable=False, server_default="debit"),
)

bank_verifications = sa.Table(
    "bank_verifications", metadata,
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

# Real-name accounts of the unified platform. No bank account is linked: the bank card only
# proved identity (DOMAIN.md, source 001).
accounts = sa.Table(
    "accounts", metadata,
    sa.Column("account_id", sa.String(36), primary_key=True),
    sa.Column("id_number", sa.String(18), nullable=False, unique=True),
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("phone", sa.String(20), nullable=False),
    sa.Column("verified_by", sa.String(36), nullable=False),       # bank_verifications.verification_id
    sa.Column("created_at", UtcDateTime(), nullable=False),
)


# Field staff who may sign in on a field kiosk (issue 8). The kiosk downloads a signed list of
# them while online; only hashes travel: the password as scrypt, the staff card as a salted SHA-256.
field_operators = sa.Table(
    "field_operators", metadata,
    sa.Column("operator_id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("password_hash", sa.Text()),                          # scrypt$n$r$p$salt$hash, or null
    sa.Column("card_id_sha256", sa.String(64)),                     # staff card holder's ID, hashed
    sa.Column("districts", sa.Text(), nullable=False, server_default=""),  # comma-separated
    sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
)


def make_engine(dsn: str, pool_size: int = 10) -> Engine:
    """postgresql://... (psycopg 3) or sqlite:///path (embedded)."""
    if dsn.startswith("sqlite"):
        engine = sa.create_engine(dsn, connect_args={"check_same_thread": False, "timeout": 30})

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        @sa.event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            # Take the write lock at BEGIN: SQLite's stand-in for SELECT ... FOR UPDATE.
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        # Let SQLAlchemy emit our BEGIN instead of pysqlite's implicit one.
        @sa.event.listens_for(engine, "connect")
        def _no_implicit_begin(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None

        return engine
    if dsn.startswith("postgresql://"):
        dsn = "postgresql+psycopg://" + dsn[len("postgresql://"):]
    return sa.create_engine(dsn, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


_MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_migrate_lock = threading.Lock()
_MIGRATION_LOCK_KEY = 7_120_301  # pg_advisory_lock key: replicas starting together migrate one at a time


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` with alembic (programmatic; no alembic.ini needed)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    with _migrate_lock, engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql(f"SELECT pg_advisory_lock({_MIGRATION_LOCK_KEY})")
            conn.commit()
        try:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
            conn.commit()
        finally:
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql(f"SELECT pg_advisory_unlock({_MIGRATION_LOCK_KEY})")
                conn.commit()


# Tables an area keeps in its own module register on the same metadata; import them here so that
# every user of ``metadata`` (create_all, compare_metadata) sees every table.
from backend import card_loss as _card_loss  # noqa: E402,F401  (defines card_loss_reports)
from backend import visits as _visits  # noqa: E402,F401  (defines kiosk_visits, visit_refusals)
