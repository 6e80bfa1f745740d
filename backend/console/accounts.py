"""Staff accounts: Argon2id passwords (argon2-cffi), TOTP second factor (pyotp), lockout.

A sign-in needs the password AND the current TOTP code; a wrong one of either counts as a failure
and the answer never says which was wrong. ``console.max_failures`` failures in a row lock the
account for ``console.lockout_s``; a code already used (same 30 s step) is refused, so a code read
over a shoulder cannot be replayed.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pyotp
import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from backend.console.tables import ROLES, staff_users
from backend.context import Services

MIN_PASSWORD = 12
_hasher = PasswordHasher()          # argon2id, RFC 9106 "low memory" profile (t=3, 64 MiB)
_DUMMY_HASH = _hasher.hash("not a password of anyone")   # same work for unknown users


class AccountError(ValueError):
    """Creating or changing an account was refused; the message says why."""


@dataclass(frozen=True)
class Staff:
    username: str
    display_name: str
    role: str


@dataclass(frozen=True)
class SignInResult:
    staff: Staff | None
    problem: str = ""               # bad_credentials | locked
    known: bool = False             # the user name is an account (else it is not logged: it may be anything)


def create_user(services: Services, username: str, display_name: str, role: str, password: str,
                totp_secret: str | None = None) -> str:
    """Create a staff account; returns its TOTP secret (base32), shown once to the person."""
    username = username.strip()
    if not username or len(username) > 64 or not username.replace("-", "").replace("_", "").isalnum():
        raise AccountError("the user name must be 1-64 letters, digits, - or _")
    if role not in ROLES:
        raise AccountError(f"the role must be one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"the password must be at least {MIN_PASSWORD} characters")
    secret = totp_secret or pyotp.random_base32()
    with services.engine.begin() as conn:
        if conn.execute(sa.select(staff_users.c.username).where(staff_users.c.username == username)).first():
            raise AccountError(f"the user {username!r} exists already")
        conn.execute(staff_users.insert().values(
            username=username, display_name=display_name.strip()[:64] or username, role=role,
            password_hash=_hasher.hash(password), totp_secret=secret, created_at=services.clock()))
    return secret


def provisioning_uri(secret: str, username: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name="sscard console")


def _totp_step(secret: str, code: str, now: datetime) -> int | None:
    """The 30 s step the code belongs to (this one or the one before/after), else None."""
    totp = pyotp.TOTP(secret)
    code = code.strip()
    for offset in (0, -1, 1):
        when = now + timedelta(seconds=30 * offset)
        if secrets.compare_digest(totp.at(when), code):
            return int(when.timestamp()) // 30
    return None


def sign_in(services: Services, username: str, password: str, code: str) -> SignInResult:
    cfg = services.config.console
    now = services.clock()
    with services.engine.begin() as conn:
        row = conn.execute(sa.select(staff_users).where(staff_users.c.username == username.strip())
                           .with_for_update()).mappings().first()
        if row is None or not row["active"]:
            _verify(_DUMMY_HASH, password)
            return SignInResult(None, "bad_credentials")
        if row["locked_until"] is not None and row["locked_until"] > now:
            return SignInResult(None, "locked", known=True)
        password_ok = _verify(row["password_hash"], password)
        step = _totp_step(row["totp_secret"], code, now) if password_ok else None
        if step is None or step <= row["last_totp_step"]:
            failures = row["failures"] + 1
            values: dict[str, Any] = {"failures": failures}
            if failures >= cfg.max_failures:
                values.update(failures=0, locked_until=now + timedelta(seconds=cfg.lockout_s))
            conn.execute(staff_users.update().where(staff_users.c.username == row["username"]).values(**values))
            return SignInResult(None, "locked" if "locked_until" in values else "bad_credentials", known=True)
        conn.execute(staff_users.update().where(staff_users.c.username == row["username"])
                     .values(failures=0, locked_until=None, last_totp_step=step))
        return SignInResult(Staff(row["username"], row["display_name"], row["role"]), known=True)


def _verify(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def get_staff(services: Services, username: str) -> Staff | None:
    with services.engine.connect() as conn:
        row = conn.execute(sa.select(staff_users).where(staff_users.c.username == username)).mappings().first()
    if row is None or not row["active"]:
        return None
    return Staff(row["username"], row["display_name"], row["role"])


def list_users(services: Services) -> list[dict[str, Any]]:
    with services.engine.connect() as conn:
        rows = conn.execute(sa.select(staff_users.c.username, staff_users.c.display_name, staff_users.c.role,
                                      staff_users.c.active, staff_users.c.locked_until)
                            .order_by(staff_users.c.username)).mappings().all()
    return [dict(r) for r in rows]


def set_active(services: Services, username: str, active: bool) -> None:
    with services.engine.begin() as conn:
        conn.execute(staff_users.update().where(staff_users.c.username == username)
                     .values(active=active, failures=0, locked_until=None))
