"""Who is calling: kiosks sign every online request with their enrolled Ed25519 key; operators
present the bearer token from the backend's configuration. Kiosk enrollment lives here too."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from backend.clock import format_rfc3339, parse_rfc3339
from backend.context import Services
from backend.crypto import b64d, request_signing_bytes, verify_ed25519
from backend.db import enrollment_tokens, kiosks, seen_request_signatures
from backend.errors import ApiError


def check_operator(services: Services, authorization: str | None) -> None:
    expected = services.config.auth.operator_token
    if not expected:
        raise ApiError(503, "operator_api_disabled",
                       "the operator API is off: set BACKEND__AUTH__OPERATOR_TOKEN for the backend")
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), expected.encode()):
        raise ApiError(401, "bad_operator_token", "send the operator token as 'Authorization: Bearer <token>'")


def check_kiosk_request(services: Services, headers: Any, method: str, target: str, body: bytes) -> str:
    """Verify X-Kiosk-Id / X-Kiosk-Timestamp / X-Kiosk-Signature; returns the kiosk id."""
    kiosk_id = headers.get("x-kiosk-id")
    stamp = headers.get("x-kiosk-timestamp")
    sig_b64 = headers.get("x-kiosk-signature")
    if not kiosk_id or not stamp or not sig_b64:
        raise ApiError(401, "unsigned_request", "send X-Kiosk-Id, X-Kiosk-Timestamp and X-Kiosk-Signature")
    if len(kiosk_id) > 64 or not kiosk_id.isprintable():
        raise ApiError(401, "unknown_kiosk", "X-Kiosk-Id must be the enrolled kiosk id (at most 64 printable characters)")
    try:
        when = parse_rfc3339(stamp)
        sig = b64d(sig_b64)
    except ValueError as exc:
        raise ApiError(401, "bad_signature", f"request signature headers are malformed: {exc}") from None
    now = services.clock()
    skew = services.config.auth.request_max_skew_s
    if abs((now - when).total_seconds()) > skew:
        raise ApiError(401, "clock_skew", f"X-Kiosk-Timestamp is more than {skew} s from the backend's clock "
                       f"({format_rfc3339(now)}); check the kiosk's clock")
    with services.engine.connect() as conn:
        key = conn.execute(sa.select(kiosks.c.public_key).where(kiosks.c.kiosk_id == kiosk_id)).scalar()
    if key is None:
        raise ApiError(401, "unknown_kiosk", f"kiosk {kiosk_id!r} is not enrolled; run `kiosk enroll` with a token")
    if not verify_ed25519(bytes(key), sig, request_signing_bytes(method, target, stamp, body)):
        raise ApiError(401, "bad_signature", "the request signature does not verify with the kiosk's enrolled key")
    # A captured request must not work twice: remember signatures for the length of the window.
    sig_hash = hashlib.sha256(sig).hexdigest()
    try:
        with services.engine.begin() as conn:
            conn.execute(seen_request_signatures.delete().where(
                seen_request_signatures.c.seen_at < now - timedelta(seconds=2 * skew)))
            conn.execute(seen_request_signatures.insert().values(sig_hash=sig_hash, seen_at=now))
    except IntegrityError:
        raise ApiError(401, "replayed_request", "this signed request was already used; sign each request anew") \
            from None
    return kiosk_id


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_enrollment_token(services: Services, kiosk_id: str | None) -> dict[str, Any]:
    token = secrets.token_urlsafe(24)
    now = services.clock()
    expires = now + timedelta(hours=services.config.auth.enrollment_token_ttl_h)
    with services.engine.begin() as conn:
        conn.execute(enrollment_tokens.insert().values(token_hash=_token_hash(token), kiosk_id=kiosk_id,
                                                       created_at=now, expires_at=expires))
    return {"token": token, "kiosk_id": kiosk_id, "expires_at": format_rfc3339(expires)}


def enroll_kiosk(services: Services, kiosk_id: str, public_key_b64: str, token: str) -> dict[str, Any]:
    """New kiosk, or a new key for a known kiosk: needs an unused token. Same key again: idempotent."""
    try:
        public_key = b64d(public_key_b64)
    except ValueError:
        raise ApiError(422, "malformed", "public_key must be base64 of the raw 32-byte Ed25519 key") from None
    if len(public_key) != 32:
        raise ApiError(422, "malformed", "public_key must be base64 of the raw 32-byte Ed25519 key")
    if not kiosk_id or len(kiosk_id) > 64:
        raise ApiError(422, "malformed", "kiosk_id must be 1 to 64 characters")
    now = services.clock()
    with services.engine.begin() as conn:
        current = conn.execute(sa.select(kiosks).where(kiosks.c.kiosk_id == kiosk_id).with_for_update()) \
            .mappings().first()
        if current is not None and bytes(current["public_key"]) == public_key:
            return {"kiosk_id": kiosk_id, "enrolled_at": format_rfc3339(current["enrolled_at"]), "status": "enrolled"}
        row = conn.execute(sa.select(enrollment_tokens)
                           .where(enrollment_tokens.c.token_hash == _token_hash(token or ""))
                           .with_for_update()).mappings().first()
        if row is None or row["used_at"] is not None or row["expires_at"] < now:
            raise ApiError(403, "bad_enrollment_token",
                           "the enrollment token is unknown, used or expired; ask an operator for a new one")
        if row["kiosk_id"] is not None and row["kiosk_id"] != kiosk_id:
            raise ApiError(403, "bad_enrollment_token", f"this token was issued for kiosk {row['kiosk_id']!r}")
        conn.execute(enrollment_tokens.update().where(enrollment_tokens.c.token_hash == row["token_hash"])
                     .values(used_by=kiosk_id, used_at=now))
        if current is None:
            conn.execute(kiosks.insert().values(kiosk_id=kiosk_id, public_key=public_key, enrolled_at=now,
                                                last_seq=0))
            status = "enrolled"
        else:
            # A re-imaged kiosk: new key, same id. last_seq stays, so its outbox must keep counting up.
            conn.execute(kiosks.update().where(kiosks.c.kiosk_id == kiosk_id)
                         .values(public_key=public_key, enrolled_at=now))
            status = "rekeyed"
    return {"kiosk_id": kiosk_id, "enrolled_at": format_rfc3339(now), "status": status}
