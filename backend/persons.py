"""Person data for the kiosk: summary, enrolled face template, field roster."""

from __future__ import annotations

import hashlib
import secrets
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa

from backend import validate
from backend.clock import format_rfc3339
from backend.context import Services
from backend.crypto import b64e
from backend.db import kiosks, persons
from backend.errors import ApiError
from kiosk.privacy import mask_id_number, mask_name, mask_phone
from kiosk.roster_seal import ALG as TEMPLATE_ALG
from kiosk.roster_seal import TemplateSealer

FACE_MODEL = "sface_2021dec"
# The phone-suffix verifier's KDF: scrypt N=2^14, r=8, p=1 (16 MiB) takes ~50 ms per check on the
# dev machine (bench/phone_suffix_kdf.py), so the kiosk's weak-PIN check stays unnoticeable while
# each guess at the suffix costs the same 50 ms (see phone_suffix_check for what that does and
# does not protect).
SUFFIX_KDF = {"kdf": "scrypt", "n": 2**14, "r": 8, "p": 1, "dklen": 32}
TEMPLATE_BYTES = 128 * 4          # float32[128]


def checked_id_number(id_number: str) -> str:
    """A path or body ID number: refused with a named 422 before it reaches SQL."""
    try:
        return validate.check_id_number(id_number, "id_number")
    except validate.Unstorable as exc:
        raise ApiError(422, "malformed", str(exc), field="id_number") from None


def _person(services: Services, id_number: str) -> dict[str, Any]:
    id_number = checked_id_number(id_number)
    with services.engine.connect() as conn:
        row = conn.execute(sa.select(persons).where(persons.c.id_number == id_number.upper())).mappings().first()
    if row is None:
        raise ApiError(404, "unknown_person", "no record of this person at the bureau: please go to the counter")
    return dict(row)


def summary(services: Services, id_number: str) -> dict[str, Any]:
    p = _person(services, id_number)
    return {
        "name_masked": mask_name(p["name"]),
        "phone_masked": mask_phone(p["phone"]) if p["phone"] else None,
        "has_phone": bool(p["phone"]),
        "phone_suffix_check": phone_suffix_check(p["phone"]),
        "card_state": p["card_state"],
        "certified_until": p["certified_until"].isoformat() if p["certified_until"] else None,
        "deceased": bool(p["deceased"]),
    }


def phone_suffix_check(phone: str | None) -> dict[str, Any] | None:
    """A verifier of the bound phone's last six digits, for the kiosk's weak-PIN rule, without the
    digits: scrypt over them with a fresh random salt per answer (no precomputed table serves two
    answers). The salt being per answer, equal phones give unlike verifiers.

    What it protects: the summary carries no phone digits beyond the mask, and a PIN is tested
    against it inside the kiosk's audited PIN function only. What it does not: the suffix has
    10^6 values, and the mask already shows the last four digits, so a holder of a kiosk key who
    asks for a summary can find the remaining two digits in about 100 checks (~5 s). It reveals
    no more than a caller of this kiosk-only, signed endpoint could guess; the slow KDF keeps a
    bulk search across many persons expensive."""
    digits = "".join((phone or "").split())[-6:]
    if len(digits) != 6 or not digits.isdigit():
        return None
    salt = secrets.token_bytes(16)
    kdf = SUFFIX_KDF
    derived = hashlib.scrypt(digits.encode("ascii"), salt=salt, n=kdf["n"], r=kdf["r"], p=kdf["p"],
                             maxmem=64 * 2**20, dklen=kdf["dklen"])
    return {**kdf, "salt": b64e(salt), "hash": b64e(derived)}


def face_template(services: Services, id_number: str) -> dict[str, Any]:
    p = _person(services, id_number)
    if not p["face_template"]:
        raise ApiError(404, "no_template", "no enrolled template: go to the counter")
    return {"template": b64e(bytes(p["face_template"])), "model": p["face_model"] or FACE_MODEL}


def due_date(certified_until: date | None, today: date) -> date:
    return certified_until if certified_until is not None else today


def roster(services: Services, districts: list[str], kiosk_id: str) -> dict[str, Any]:
    """Retirees in ``districts`` due for certification within the configured window; their face
    templates sealed to ``kiosk_id``'s key and valid until ``templates_expire_at`` (kiosk/roster_seal.py)."""
    today = services.clock().date()
    with services.engine.connect() as conn:
        kiosk_key = conn.execute(sa.select(kiosks.c.public_key).where(kiosks.c.kiosk_id == kiosk_id)).scalar_one()
    expires = format_rfc3339(services.clock() + timedelta(days=services.config.certification.roster_templates_valid_days))
    sealer = TemplateSealer(bytes(kiosk_key), expires)
    horizon = today + timedelta(days=services.config.certification.roster_due_within_days)
    with services.reader.connect() as conn:
        rows = conn.execute(sa.select(persons).where(
            persons.c.district.in_(districts), persons.c.retired.is_(True), persons.c.deceased.is_(False),
            sa.or_(persons.c.certified_until.is_(None), persons.c.certified_until <= horizon),
        ).order_by(persons.c.district, persons.c.id_number)).mappings().all()
    entries = []
    for p in rows:
        entries.append({
            # The full ID number lets the kiosk match a card read offline and name the person in
            # its signed record; the kiosk keeps the roster encrypted at rest (issue 8).
            "id_number": p["id_number"],
            "id_masked": mask_id_number(p["id_number"]),
            "name": p["name"],
            "district": p["district"],
            "address": p["address"] or "",
            "due_date": due_date(p["certified_until"], today).isoformat(),
            "template": sealer.seal(p["id_number"], bytes(p["face_template"])) if p["face_template"] else None,
            "model": p["face_model"] or FACE_MODEL,
        })
    return {"generated_at": services.clock().isoformat(), "districts": districts, "persons": entries,
            "template_enc": TEMPLATE_ALG, "template_key": sealer.wrapped, "templates_expire_at": expires}
