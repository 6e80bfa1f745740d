"""Field operators (issue 8): the accounts of staff who carry field kiosks, and the signed list of
them that a field kiosk downloads while online so it can check a sign-in offline for days.

The list is signed with an Ed25519 key derived from the backend's review key (HKDF, its own info
string), so no second key file has to be created, distributed or rotated separately: rotating the
review key rotates this one, and kiosks fetch the new public key (``GET /v1/keys/field-signing``)
the next time they are online.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from backend.clock import format_rfc3339
from backend.context import Services
from backend.crypto import b64e, raw_public_key
from backend.db import field_operators
from backend.errors import ApiError
from kiosk.field.credentials import (
    MIN_PASSWORD_LENGTH,
    card_id_hash,
    hash_password,
    operator_list_signing_bytes,
    verify_password,
)

SIGNING_INFO = b"sscard field operator list signing v1"
LIST_VALID_DAYS = 30          # a kiosk refuses a list older than this (and its own field setting)


def signing_key(review_key: X25519PrivateKey) -> Ed25519PrivateKey:
    raw = review_key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                   serialization.NoEncryption())
    seed = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=SIGNING_INFO).derive(raw)
    return Ed25519PrivateKey.from_private_bytes(seed)


def signing_public_key(services: Services) -> dict[str, str]:
    return {"alg": "ed25519", "public_key": b64e(raw_public_key(signing_key(services.review_key)))}


def upsert_operator(services: Services, operator_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """Create or change a field operator. ``password`` is hashed here and never stored."""
    if not operator_id or len(operator_id) > 64:
        raise ApiError(422, "malformed", "operator_id must be 1 to 64 characters")
    unknown = set(body) - {"name", "password", "card_id_number", "districts", "active"}
    if unknown:
        raise ApiError(422, "malformed", f"unknown keys {sorted(unknown)}")
    name = str(body.get("name") or "").strip()
    if not name or len(name) > 64:
        raise ApiError(422, "malformed", "name must be 1 to 64 characters")
    password = body.get("password")
    if password is not None and (not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH):
        raise ApiError(422, "malformed", f"password must be at least {MIN_PASSWORD_LENGTH} characters")
    card = body.get("card_id_number")
    if card is not None and (not isinstance(card, str) or not 15 <= len(card.strip()) <= 18):
        raise ApiError(422, "malformed", "card_id_number must be the staff card holder's 15-18 character ID")
    if password is None and card is None:
        raise ApiError(422, "malformed", "give a password, a card_id_number, or both")
    districts = body.get("districts") or []
    if not isinstance(districts, list) or not all(isinstance(d, str) for d in districts):
        raise ApiError(422, "malformed", "districts must be a list of district names")
    row = {"name": name, "password_hash": hash_password(password) if password else None,
           "card_id_sha256": card_id_hash(card) if card else None, "districts": ",".join(districts),
           "active": bool(body.get("active", True)), "updated_at": services.clock()}
    with services.engine.begin() as conn:
        changed = conn.execute(field_operators.update().where(field_operators.c.operator_id == operator_id)
                               .values(**row)).rowcount
        if not changed:
            conn.execute(field_operators.insert().values(operator_id=operator_id, **row))
    return {"operator_id": operator_id, "status": "updated" if changed else "created"}


def operator_list(services: Services) -> dict[str, Any]:
    """The active operators, signed: what a field kiosk keeps to check sign-ins offline."""
    now = services.clock()
    with services.reader.connect() as conn:
        rows = conn.execute(sa.select(field_operators).where(field_operators.c.active.is_(True))
                            .order_by(field_operators.c.operator_id)).mappings().all()
    document: dict[str, Any] = {
        "issued_at": format_rfc3339(now),
        "valid_until": format_rfc3339(now + timedelta(days=LIST_VALID_DAYS)),
        "operators": [{"operator_id": r["operator_id"], "name": r["name"], "password_hash": r["password_hash"],
                       "card_id_sha256": r["card_id_sha256"],
                       "districts": [d for d in (r["districts"] or "").split(",") if d]} for r in rows],
    }
    document["sig"] = b64e(signing_key(services.review_key).sign(operator_list_signing_bytes(document)))
    return document


def operator_assignment(services: Services, operator_id: str | None, password_b64: str | None) -> list[str]:
    """The districts of a field operator who proves the password (the roster's second key)."""
    import base64
    import binascii

    if not operator_id or not password_b64:
        raise ApiError(403, "operator_required", "the roster goes only to a kiosk with a signed-in field operator: "
                       "send X-Field-Operator and X-Field-Operator-Password (base64)")
    try:
        password = base64.b64decode(password_b64, validate=True)
    except (binascii.Error, ValueError):
        raise ApiError(403, "bad_operator_credentials", "the field operator's id or password is wrong") from None
    with services.engine.connect() as conn:
        row = conn.execute(sa.select(field_operators.c.password_hash, field_operators.c.districts,
                                     field_operators.c.active)
                           .where(field_operators.c.operator_id == operator_id[:64])).mappings().first()
    if row is None or not row["active"] or not verify_password(password, row["password_hash"]):
        raise ApiError(403, "bad_operator_credentials", "the field operator's id or password is wrong")
    return [d for d in (row["districts"] or "").split(",") if d]
