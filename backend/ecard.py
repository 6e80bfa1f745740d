"""The electronic social-security card platform (电子社保卡), as far as the kiosk needs it.

The backend plays the e-card platform here: it issues the short-lived dynamic sign-in codes the
citizen's phone shows (``kiosk/ecard/code.py`` owns the format), and it redeems a code exactly
once when a kiosk presents it. The kiosk checks the signature and time window offline first;
redemption is what makes a code one-time, so a screenshot shown after the genuine use, or a code
replayed from another kiosk, is refused here.

The platform's signing key is derived from the backend's review key (HKDF with its own info
string), as the field operator list's key is (backend/field.py): no extra key file to distribute.
A real deployment verifies codes of the national platform instead; the kiosk's trust list holds
one entry per platform (``iss``), so that is a configuration change, not a code change.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy.exc import IntegrityError

from backend.clock import format_rfc3339
from backend.context import Services
from backend.crypto import b64e, raw_public_key
from backend.db import UtcDateTime, metadata, persons
from backend.errors import ApiError
from kiosk.ecard import code as ecard_code
from kiosk.privacy import mask_name

SIGNING_INFO = b"sscard e-card platform code signing v1"

# The platform's citizen handles: a random 96-bit subject per person, so a code names nobody.
ecard_accounts = sa.Table(
    "ecard_accounts", metadata,
    sa.Column("subject", sa.String(24), primary_key=True),             # hex of 12 random bytes
    sa.Column("id_number", sa.String(18), nullable=False, unique=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
)

# Every code issued, and when and where it was redeemed (at most once).
ecard_codes = sa.Table(
    "ecard_codes", metadata,
    sa.Column("jti", sa.String(24), primary_key=True),                 # hex of 12 random bytes
    sa.Column("subject", sa.String(24), nullable=False),
    sa.Column("issued_at", UtcDateTime(), nullable=False),
    sa.Column("expires_at", UtcDateTime(), nullable=False),
    sa.Column("redeemed_at", UtcDateTime()),
    sa.Column("redeemed_by", sa.String(64)),                           # kiosk id
)
sa.Index("ix_ecard_codes_expires", ecard_codes.c.expires_at)


def signing_key(review_key: X25519PrivateKey) -> Ed25519PrivateKey:
    raw = review_key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                   serialization.NoEncryption())
    seed = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=SIGNING_INFO).derive(raw)
    return Ed25519PrivateKey.from_private_bytes(seed)


def platform_key(services: Services) -> dict[str, str]:
    """What a kiosk adds to its trust list: the issuer name and its Ed25519 public key."""
    return {"iss": services.config.ecard.issuer, "alg": "ed25519",
            "public_key": b64e(raw_public_key(signing_key(services.review_key)))}


def _subject_for(conn: sa.Connection, services: Services, id_number: str) -> str:
    subject = conn.execute(sa.select(ecard_accounts.c.subject)
                           .where(ecard_accounts.c.id_number == id_number)).scalar()
    if subject is not None:
        return subject
    subject = secrets.token_bytes(ecard_code.ID_LEN).hex()
    try:
        with conn.begin_nested():
            conn.execute(ecard_accounts.insert().values(subject=subject, id_number=id_number,
                                                        created_at=services.clock()))
    except IntegrityError:
        # Another replica created the handle a moment ago: use that one.
        subject = conn.execute(sa.select(ecard_accounts.c.subject)
                               .where(ecard_accounts.c.id_number == id_number)).scalar_one()
    return subject


def issue_code(services: Services, id_number: str) -> dict[str, Any]:
    """A new dynamic code for the citizen's phone (the platform's app would call this)."""
    id_number = id_number.strip().upper()
    now = services.clock()
    ttl = services.config.ecard.code_ttl_s
    with services.engine.begin() as conn:
        known = conn.execute(sa.select(persons.c.id_number).where(persons.c.id_number == id_number)).scalar()
        if known is None:
            raise ApiError(404, "unknown_person", "no record of this person at the bureau")
        subject = _subject_for(conn, services, id_number)
        jti = secrets.token_bytes(ecard_code.ID_LEN)
        issued_at = int(now.timestamp())
        conn.execute(ecard_codes.insert().values(
            jti=jti.hex(), subject=subject, issued_at=datetime.fromtimestamp(issued_at, UTC),
            expires_at=datetime.fromtimestamp(issued_at + ttl, UTC)))
    text = ecard_code.issue(signing_key(services.review_key), services.config.ecard.issuer,
                            bytes.fromhex(subject), jti, issued_at, ttl)
    return {"code": text, "expires_at": format_rfc3339(datetime.fromtimestamp(issued_at + ttl, UTC))}


# A well-formed request whose code does not entitle a sign-in is refused as forbidden (403), with
# the reason; a code spent before is a conflict (409). Malformed requests stay 422 (the schema).
_REFUSALS = {
    ecard_code.CodeRefusal.NOT_A_CODE: (403, "code_invalid", "this is not an e-card sign-in code"),
    ecard_code.CodeRefusal.FOREIGN_PLATFORM: (403, "code_foreign", "the code was issued by another platform"),
    ecard_code.CodeRefusal.TAMPERED: (403, "code_invalid", "the code's signature does not verify"),
    ecard_code.CodeRefusal.EXPIRED: (403, "code_expired", "the code has expired; refresh it on the phone"),
    ecard_code.CodeRefusal.NOT_YET_VALID: (403, "code_not_yet_valid", "the code is dated in the future"),
}


def redeem_code(services: Services, kiosk_id: str, text: str) -> dict[str, Any]:
    """Check a code and spend it: the citizen it names, once. Replays are refused (409)."""
    now = services.clock()
    issuer = services.config.ecard.issuer
    trusted = {issuer: raw_public_key(signing_key(services.review_key))}
    try:
        checked = ecard_code.verify(text, trusted, now.timestamp(), skew_s=0)
    except ecard_code.CodeError as exc:
        status, error, reason = _REFUSALS[exc.refusal]
        raise ApiError(status, error, reason) from None
    with services.engine.begin() as conn:
        spent = conn.execute(
            ecard_codes.update()
            .where(ecard_codes.c.jti == checked.jti_hex, ecard_codes.c.redeemed_at.is_(None),
                   ecard_codes.c.subject == checked.subject.hex())
            .values(redeemed_at=now, redeemed_by=kiosk_id))
        if spent.rowcount != 1:
            known = conn.execute(sa.select(ecard_codes.c.redeemed_at)
                                 .where(ecard_codes.c.jti == checked.jti_hex)).first()
            if known is None:
                # Signed by our key but never issued by us: a key leak or a test key; never serve it.
                raise ApiError(403, "code_invalid", "the code is not one this platform issued")
            raise ApiError(409, "code_already_used",
                           "this code was used before; show the live code on the phone, not a screenshot")
        row = conn.execute(
            sa.select(persons.c.id_number, persons.c.name)
            .select_from(ecard_accounts.join(persons, persons.c.id_number == ecard_accounts.c.id_number))
            .where(ecard_accounts.c.subject == checked.subject.hex())).first()
    if row is None:
        raise ApiError(404, "unknown_person", "the e-card's holder is not known to the bureau: go to the counter")
    return {"id_number": row.id_number, "name_masked": mask_name(row.name),
            "valid_until": format_rfc3339(datetime.fromtimestamp(checked.expires_at, UTC))}


def purge_expired(services: Services, keep: timedelta = timedelta(days=30)) -> int:
    """Drop code rows long past expiry (their only use was refusing a replay while they lived)."""
    with services.engine.begin() as conn:
        return conn.execute(ecard_codes.delete().where(
            ecard_codes.c.expires_at < services.clock() - keep)).rowcount

