"""Console sessions: a random cookie (only its SHA-256 is stored), a CSRF token per session,
idle sign-out after ``console.idle_timeout_s``. Sign-out ends the row, so a copied cookie is
worthless afterwards."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa

from backend.console.accounts import Staff, get_staff
from backend.console.tables import staff_sessions
from backend.context import Services

COOKIE = "console_session"
PRE_CSRF_COOKIE = "console_pre_csrf"      # double-submit token for the sign-in form (no session yet)


@dataclass(frozen=True)
class ConsoleSession:
    token_hash: str
    staff: Staff
    csrf: str


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start(services: Services, staff: Staff) -> tuple[str, ConsoleSession]:
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    now = services.clock()
    with services.engine.begin() as conn:
        conn.execute(staff_sessions.insert().values(token_hash=_hash(token), username=staff.username,
                                                    csrf_token=csrf, created_at=now, last_seen_at=now))
    return token, ConsoleSession(_hash(token), staff, csrf)


def load(services: Services, token: str | None, touch: bool = True) -> ConsoleSession | None:
    """The live session of this cookie; None when unknown, ended or idle too long. ``touch=False``
    for the fleet table's own refresh: a page left open is not a person at work."""
    if not token:
        return None
    now = services.clock()
    idle = timedelta(seconds=services.config.console.idle_timeout_s)
    with services.engine.begin() as conn:
        row = conn.execute(sa.select(staff_sessions).where(staff_sessions.c.token_hash == _hash(token))) \
            .mappings().first()
        if row is None or row["ended_at"] is not None:
            return None
        if now - row["last_seen_at"] > idle:
            conn.execute(staff_sessions.update().where(staff_sessions.c.token_hash == row["token_hash"])
                         .values(ended_at=now))
            return None
        if touch:
            conn.execute(staff_sessions.update().where(staff_sessions.c.token_hash == row["token_hash"])
                         .values(last_seen_at=now))
    staff = get_staff(services, row["username"])
    if staff is None:           # disabled meanwhile
        end(services, row["token_hash"])
        return None
    return ConsoleSession(row["token_hash"], staff, row["csrf_token"])


def end(services: Services, token_hash: str) -> None:
    with services.engine.begin() as conn:
        conn.execute(staff_sessions.update().where(staff_sessions.c.token_hash == token_hash,
                                                   staff_sessions.c.ended_at.is_(None))
                     .values(ended_at=services.clock()))


def csrf_ok(expected: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(expected.encode(), (given or "").encode())
