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


ROLES = ("office", "field")


def rekey_signing_bytes(kiosk_id: str, new_public_key_b64: str) -> bytes:
    """What the old key signs to hand the kiosk id over to a new key (``old_key_signature``)."""
    return f"sscard-kiosk rekey v1\n{kiosk_id}\n{new_public_key_b64}".encode()


def rotate_signing_bytes(kiosk_id: str, new_public_key_b64: str) -> bytes:
    """What the NEW key signs in a kiosk's own key rotation (proof that the kiosk holds it)."""
    return f"sscard-kiosk rotate v1\n{kiosk_id}\n{new_public_key_b64}".encode()


def rotate_key(services: Services, kiosk_id: str, new_public_key_b64: str, proof_b64: str) -> dict[str, Any]:
    """A kiosk replaces its own key: the request is signed with the current key (kiosk_auth), the
    proof with the new one. No token: the old key's signature is the authority (docs/backend.md)."""
    try:
        new_key, proof = b64d(new_public_key_b64), b64d(proof_b64)
    except ValueError:
        raise ApiError(422, "malformed", "public_key and proof must be base64") from None
    if len(new_key) != 32 or not verify_ed25519(new_key, proof, rotate_signing_bytes(kiosk_id, new_public_key_b64)):
        # Well-formed but not the new key's signature: no proof of possession, so refused (403).
        raise ApiError(403, "bad_proof", "proof must be the new key's Ed25519 signature over "
                       "'sscard-kiosk rotate v1\\n{kiosk_id}\\n{public_key}'", field="proof")
    now = services.clock()
    with services.engine.begin() as conn:
        row = conn.execute(sa.select(kiosks.c.public_key, kiosks.c.last_seq).where(kiosks.c.kiosk_id == kiosk_id)
                           .with_for_update()).first()
        if row is None:
            raise ApiError(401, "unknown_kiosk", f"kiosk {kiosk_id!r} is not enrolled")
        if bytes(row.public_key) != new_key:
            conn.execute(kiosks.update().where(kiosks.c.kiosk_id == kiosk_id)
                         .values(public_key=new_key, enrolled_at=now))
    return {"kiosk_id": kiosk_id, "status": "rotated", "rotated_at": format_rfc3339(now), "last_seq": row.last_seq}


def issue_enrollment_token(services: Services, kiosk_id: str | None, role: str = "office",
                           rekey: bool = False) -> dict[str, Any]:
    """One token for one kiosk id and one role; ``rekey`` is the operator's explicit consent to
    replace the key of an already enrolled kiosk (a re-imaged machine)."""
    if not kiosk_id or len(kiosk_id) > 64 or not kiosk_id.isprintable():
        raise ApiError(422, "malformed", "name the kiosk the token is for: kiosk_id, 1 to 64 characters",
                       field="kiosk_id")
    if role not in ROLES:
        raise ApiError(422, "malformed", f"role must be one of {', '.join(ROLES)}", field="role")
    token = secrets.token_urlsafe(24)
    now = services.clock()
    expires = now + timedelta(hours=services.config.auth.enrollment_token_ttl_h)
    with services.engine.begin() as conn:
        conn.execute(enrollment_tokens.insert().values(token_hash=_token_hash(token), kiosk_id=kiosk_id,
                                                       created_at=now, expires_at=expires, role=role, rekey=rekey))
    return {"token": token, "kiosk_id": kiosk_id, "role": role, "rekey": rekey, "expires_at": format_rfc3339(expires)}


def kiosk_state(services: Services, kiosk_id: str) -> dict[str, Any]:
    with services.engine.connect() as conn:
        row = conn.execute(sa.select(kiosks.c.role, kiosks.c.last_seq, kiosks.c.enrolled_at)
                           .where(kiosks.c.kiosk_id == kiosk_id)).first()
    if row is None:
        raise ApiError(401, "unknown_kiosk", f"kiosk {kiosk_id!r} is not enrolled")
    return {"kiosk_id": kiosk_id, "role": row.role or "office", "last_seq": row.last_seq,
            "enrolled_at": format_rfc3339(row.enrolled_at)}


def kiosk_role(services: Services, kiosk_id: str) -> str:
    with services.engine.connect() as conn:
        role = conn.execute(sa.select(kiosks.c.role).where(kiosks.c.kiosk_id == kiosk_id)).scalar()
    return role or "office"


def enroll_kiosk(services: Services, kiosk_id: str, public_key_b64: str, token: str,
                 old_key_signature: str | None = None) -> dict[str, Any]:
    """New kiosk: needs an unused token issued for this kiosk id (its role comes from the token).
    Same key again: idempotent. A new key for an enrolled kiosk: a token issued with ``rekey``
    (the operator's explicit act), or the old key's signature over the hand-over."""
    try:
        public_key = b64d(public_key_b64)
    except ValueError:
        raise ApiError(422, "malformed", "public_key must be base64 of the raw 32-byte Ed25519 key") from None
    if len(public_key) != 32:
        raise ApiError(422, "malformed", "public_key must be base64 of the raw 32-byte Ed25519 key")
    if not kiosk_id or len(kiosk_id) > 64 or not kiosk_id.isprintable():
        raise ApiError(422, "malformed", "kiosk_id must be 1 to 64 printable characters")
    now = services.clock()
    with services.engine.begin() as conn:
        current = conn.execute(sa.select(kiosks).where(kiosks.c.kiosk_id == kiosk_id).with_for_update()) \
            .mappings().first()
        if current is not None and bytes(current["public_key"]) == public_key:
            return {"kiosk_id": kiosk_id, "enrolled_at": format_rfc3339(current["enrolled_at"]), "status": "enrolled",
                    "role": current["role"] or "office", "last_seq": current["last_seq"]}
        row = conn.execute(sa.select(enrollment_tokens)
                           .where(enrollment_tokens.c.token_hash == _token_hash(token or ""))
                           .with_for_update()).mappings().first()
        if row is None or row["used_at"] is not None or row["expires_at"] < now:
            raise ApiError(403, "bad_enrollment_token",
                           "the enrollment token is unknown, used or expired; ask an operator for a new one")
        if row["kiosk_id"] != kiosk_id:
            raise ApiError(403, "bad_enrollment_token", f"this token was issued for kiosk {row['kiosk_id']!r}")
        if current is not None and not row["rekey"]:
            handed_over = False
            if old_key_signature:
                try:
                    handed_over = verify_ed25519(bytes(current["public_key"]), b64d(old_key_signature),
                                                 rekey_signing_bytes(kiosk_id, public_key_b64))
                except ValueError:
                    handed_over = False
            if not handed_over:
                raise ApiError(403, "rekey_not_allowed",
                               f"kiosk {kiosk_id!r} is enrolled with another key; replacing it needs the old key's "
                               "signature (old_key_signature) or a token an operator issued with rekey=true")
        conn.execute(enrollment_tokens.update().where(enrollment_tokens.c.token_hash == row["token_hash"])
                     .values(used_by=kiosk_id, used_at=now))
        if current is None:
            conn.execute(kiosks.insert().values(kiosk_id=kiosk_id, public_key=public_key, enrolled_at=now,
                                                last_seq=0, role=row["role"]))
            status, last_seq = "enrolled", 0
        else:
            # A re-imaged kiosk: new key, same id. last_seq stays, so its outbox must keep counting up.
            conn.execute(kiosks.update().where(kiosks.c.kiosk_id == kiosk_id)
                         .values(public_key=public_key, enrolled_at=now, role=row["role"]))
            status, last_seq = "rekeyed", current["last_seq"]
    return {"kiosk_id": kiosk_id, "enrolled_at": format_rfc3339(now), "status": status, "role": row["role"],
            "last_seq": last_seq}
