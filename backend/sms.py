"""One-time SMS codes: 6 digits, expiry, resend cooldown, capped attempts, rate limits.

All state is in the database (replicas share it); the code is never stored, logged or returned,
only an HMAC of it keyed by the configured pepper and bound to the request id. Deciding the
cooldown and the rate limits happens under a per-phone row lock so two replicas cannot both let
a request through.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from backend import lockouts
from backend.context import Services
from backend.db import kiosks, persons, sms_phone_locks, sms_requests
from backend.errors import ApiError
from kiosk.privacy import mask_phone

PURPOSES = frozenset({"pin_reset", "pin_unblock", "registration", "certification", "phone_check", "card_loss",
                      "ecard_pin_reset"})

_TEXT = {
    "registration": ("实名注册", "real-name registration"),
    "pin_reset": ("社保卡密码重置", "resetting your social security card PIN"),
    "pin_unblock": ("社保卡密码解锁", "unlocking your social security card PIN"),
    "card_loss": ("社保卡临时挂失或解挂", "reporting your social security card lost, or cancelling the report"),
    "ecard_pin_reset": ("电子社保卡密码重置", "resetting your electronic social security card PIN"),
}


@dataclass(frozen=True)
class IssuedCode:
    request_id: str
    phone: str


def _code_hash(services: Services, request_id: str, code: str) -> str:
    key = services.config.sms.code_pepper.encode("utf-8") or b"sscard-dev-pepper"
    return hmac.new(key, f"{request_id}:{code}".encode(), hashlib.sha256).hexdigest()


def valid_phone(phone: Any) -> bool:
    return isinstance(phone, str) and len(phone) == 11 and phone.isdigit() and phone.startswith("1")


def _lock_phone(conn: Connection, phone: str) -> None:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    conn.execute(dialect.insert(sms_phone_locks).values(phone=phone).on_conflict_do_nothing())
    conn.execute(sa.select(sms_phone_locks.c.phone).where(sms_phone_locks.c.phone == phone).with_for_update())


def issue_code(services: Services, kiosk_id: str, purpose: str, phone: str) -> tuple[IssuedCode, dict[str, Any]]:
    cfg = services.config.sms
    now = services.clock()
    request_id = str(uuid.uuid4())
    code = f"{secrets.randbelow(10**6):06d}"
    with services.engine.begin() as conn:
        _lock_phone(conn, phone)
        conn.execute(sa.select(kiosks.c.kiosk_id).where(kiosks.c.kiosk_id == kiosk_id).with_for_update())
        last = conn.execute(sa.select(sa.func.max(sms_requests.c.created_at))
                            .where(sms_requests.c.phone == phone)).scalar()
        if last is not None:
            last = last if last.tzinfo else last.replace(tzinfo=now.tzinfo)
            wait = cfg.resend_after_s - (now - last).total_seconds()
            if wait > 0:
                raise ApiError(429, "resend_too_soon",
                               f"a code was sent to this phone less than {cfg.resend_after_s} s ago; "
                               f"wait {math.ceil(wait)} s before asking again", retry_after_s=math.ceil(wait))
        phone_since = lockouts.window_start(conn, "phone", phone, now)
        kiosk_since = lockouts.window_start(conn, "kiosk", kiosk_id, now)
        per_phone = conn.execute(sa.select(sa.func.count()).select_from(sms_requests).where(
            sms_requests.c.phone == phone, sms_requests.c.created_at > phone_since)).scalar()
        if per_phone >= cfg.per_phone_per_hour:
            raise ApiError(429, "rate_limited_phone",
                           "too many codes for this phone in the last hour; try again later or go to the counter",
                           retry_after_s=3600)
        per_kiosk = conn.execute(sa.select(sa.func.count()).select_from(sms_requests).where(
            sms_requests.c.kiosk_id == kiosk_id, sms_requests.c.created_at > kiosk_since)).scalar()
        if per_kiosk >= cfg.per_kiosk_per_hour:
            raise ApiError(429, "rate_limited_kiosk",
                           "this kiosk has asked for too many codes in the last hour; try again later",
                           retry_after_s=3600)
        conn.execute(sms_requests.insert().values(
            request_id=request_id, phone=phone, purpose=purpose, kiosk_id=kiosk_id,
            code_hash=_code_hash(services, request_id, code), created_at=now,
            expires_at=now + timedelta(seconds=cfg.code_ttl_s), attempts=0))
    zh, en = _TEXT.get(purpose, ("身份验证", "verifying your identity"))
    minutes = cfg.code_ttl_s // 60
    services.sms_gateway.send(phone, f"【社保卡】验证码{code}，用于{zh}，{minutes}分钟内有效，请勿告诉他人。"
                                     f" Code {code} for {en}, valid {minutes} min. Never share it.")
    return IssuedCode(request_id, phone), {
        "request_id": request_id, "phone_masked": mask_phone(phone),
        "resend_after_s": cfg.resend_after_s, "expires_in_s": cfg.code_ttl_s,
    }


def bound_phone(services: Services, id_number: str) -> str:
    from backend.persons import checked_id_number

    id_number = checked_id_number(id_number)
    with services.engine.connect() as conn:
        row = conn.execute(sa.select(persons.c.phone, persons.c.deceased)
                           .where(persons.c.id_number == id_number)).first()
    if row is None:
        raise ApiError(404, "unknown_person", "no record of this person at the bureau: please go to the counter")
    if not row.phone:
        raise ApiError(409, "no_bound_phone",
                       "no phone number is bound to this card: please go to the counter with your ID card")
    return row.phone


def _wrong_code_lockout(services: Services, conn: Connection, phone: str, kiosk_id: str, now: Any) -> str | None:
    """Wrong codes over all requests in the rolling hour: per phone (the person) and per kiosk."""
    cfg = services.config.sms
    for kind, column, subject, limit in (
            ("phone", sms_requests.c.phone, phone, cfg.wrong_codes_per_phone_per_hour),
            ("kiosk", sms_requests.c.kiosk_id, kiosk_id, cfg.wrong_codes_per_kiosk_per_hour)):
        since = lockouts.window_start(conn, kind, subject, now)
        wrong = conn.execute(sa.select(sa.func.coalesce(sa.func.sum(sms_requests.c.attempts), 0)).where(
            column == subject, sms_requests.c.created_at > since)).scalar()
        if wrong >= limit:
            return kind
    return None


def verify_code(services: Services, kiosk_id: str, request_id: str, code: str) -> dict[str, Any]:
    cfg = services.config.sms
    now = services.clock()
    with services.engine.begin() as conn:
        row = conn.execute(sa.select(sms_requests).where(sms_requests.c.request_id == request_id,
                                                         sms_requests.c.kiosk_id == kiosk_id)
                           .with_for_update()).mappings().first()
        if row is None:
            return {"ok": False, "attempts_left": 0, "reason": "unknown_request",
                    "message": "No such code request from this kiosk: ask for a new code."}
        left = cfg.max_attempts - row["attempts"]
        if row["verified_at"] is not None:
            return {"ok": False, "attempts_left": 0, "reason": "already_used",
                    "message": "This code was already used: ask for a new code."}
        if left <= 0:
            return {"ok": False, "attempts_left": 0, "reason": "too_many_attempts",
                    "message": "Too many wrong codes: ask for a new code, or go to the counter."}
        if now > row["expires_at"]:
            return {"ok": False, "attempts_left": left, "reason": "expired",
                    "message": "The code has expired: ask for a new code."}
        locked = _wrong_code_lockout(services, conn, row["phone"], kiosk_id, now)
        if locked is not None:
            return {"ok": False, "attempts_left": 0, "reason": "too_many_attempts", "locked": locked,
                    "message": "Too many wrong codes in the last hour: go to the counter, or try again later."}
        good = isinstance(code, str) and hmac.compare_digest(_code_hash(services, request_id, code), row["code_hash"])
        if good:
            conn.execute(sms_requests.update().where(sms_requests.c.request_id == request_id)
                         .values(verified_at=now))
            return {"ok": True, "attempts_left": left, "reason": "ok", "message": "Code accepted."}
        conn.execute(sms_requests.update().where(sms_requests.c.request_id == request_id)
                     .values(attempts=sms_requests.c.attempts + 1))
        left -= 1
        if left <= 0:
            return {"ok": False, "attempts_left": 0, "reason": "too_many_attempts",
                    "message": "Too many wrong codes: ask for a new code, or go to the counter."}
        return {"ok": False, "attempts_left": left, "reason": "wrong_code",
                "message": f"Wrong code: {left} tries left."}
