"""The e-card's own six-digit PIN (电子社保卡密码): set, change and reset, held by the platform.

Independent of the physical card's PIN. The kiosk never sees it in the clear:

1. **Key ceremony** (once per kiosk): two custodians each enter a key component on the pad, in
   its e-card master-key index, and register the same components here
   (``PUT /v1/operator/kiosks/{id}/ecard-pin-key``). The backend keeps the combined key
   encrypted under a key derived from its review key (AES-GCM), and the check value.
2. **Per operation** (``POST /v1/ecard/pin/sessions``): a fresh working key, returned wrapped
   under that kiosk's e-card master key with its check value; the kiosk loads it into the pad.
   The pad encrypts each typed PIN as an ISO 9564 format-0 block under it, with the PAN field
   taken from the citizen's ID number, so a block made for one citizen decodes for no other.
3. **Submission** (``POST /v1/ecard/pin/sessions/{id}``): the blocks go to
   :func:`_open_pin_blocks`, THE one function that decrypts them; it runs the weak-PIN policy
   (the card PIN's own implementation, ``kiosk/pin_policy.py``), compares old and new PINs, and
   keeps only an Argon2id hash of a keyed digest of the PIN. Every buffer is zeroed; errors name
   the step, never a digit. A session serves one submission and expires.

Wrong old PINs count toward a lock held here (``max_failures``); a lock is lifted only by the
reset (face + SMS code to the bound phone). Every change sends an alert to the bound phone.
"""

from __future__ import annotations

import hmac
import os
import secrets
import uuid
from datetime import timedelta
from hashlib import sha256
from typing import Any

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from backend.context import Services
from backend.db import UtcDateTime, metadata, notifications, persons, sms_requests
from backend.ecard import ecard_accounts
from backend.errors import ApiError
from drivers.crypto.ciphers import cipher_for, kcv
from drivers.crypto.pinblock import PinBlockError, PinBlockFormat, decrypt_pin_block
from kiosk.pin_policy import PinPolicy, WeakPinError

KEK_INFO = b"sscard e-card PIN service key encryption v1"
PEPPER_INFO = b"sscard e-card PIN digest pepper v1"
ALGORITHMS = {"sm4": 16, "3des": 16}
PURPOSES = ("set", "change", "reset")
SESSION_TTL = timedelta(minutes=5)
RESET_SMS_PURPOSE = "ecard_pin_reset"           # the SMS purpose a reset's code is asked with
RESET_SMS_SPENT = "ecard_pin_reset:used"        # ... and what it becomes once a reset used it
RESET_PROOF_TTL = timedelta(minutes=10)         # a verified code proves the person this long
# Argon2id at 64 MiB, 3 passes: ~0.1 s per check here. A six-digit PIN has 10^6 values, so the
# hash alone would not resist an offline search: the keyed digest (pepper from the backend's key,
# never in the database) is what makes a stolen table useless.
_hasher = PasswordHasher(time_cost=3, memory_cost=64 * 1024, parallelism=1)

pad_pin_keys = sa.Table(
    "ecard_pad_keys", metadata,
    sa.Column("kiosk_id", sa.String(64), primary_key=True),
    sa.Column("algorithm", sa.String(8), nullable=False),
    sa.Column("key_enc", sa.LargeBinary(), nullable=False),          # AES-GCM under the KEK, nonce first
    sa.Column("kcv", sa.String(16), nullable=False),
    sa.Column("registered_at", UtcDateTime(), nullable=False),
)

pin_sessions = sa.Table(
    "ecard_pin_sessions", metadata,
    sa.Column("session_id", sa.String(32), primary_key=True),
    sa.Column("kiosk_id", sa.String(64), nullable=False),
    sa.Column("id_number", sa.String(18), nullable=False),
    sa.Column("purpose", sa.String(8), nullable=False),
    sa.Column("work_key_enc", sa.LargeBinary(), nullable=False),
    sa.Column("expires_at", UtcDateTime(), nullable=False),
    sa.Column("used_at", UtcDateTime()),
)

ecard_pins = sa.Table(
    "ecard_pins", metadata,
    sa.Column("id_number", sa.String(18), primary_key=True),
    sa.Column("pin_hash", sa.Text(), nullable=False),                # argon2id of HMAC(pepper, PIN)
    sa.Column("set_at", UtcDateTime(), nullable=False),
    sa.Column("failures", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("locked_at", UtcDateTime()),
)


# -- keys ------------------------------------------------------------------------------------------

def _derived(services: Services, info: bytes) -> bytes:
    raw = services.review_key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                            serialization.NoEncryption())
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(raw)


def _seal_key(services: Services, key: bytes, label: bytes) -> bytes:
    nonce = os.urandom(12)
    return nonce + AESGCM(_derived(services, KEK_INFO)).encrypt(nonce, key, label)


def _open_key(services: Services, sealed: bytes, label: bytes) -> bytearray:
    return bytearray(AESGCM(_derived(services, KEK_INFO)).decrypt(sealed[:12], sealed[12:], label))


def pan_for(id_number: str) -> str:
    """The PIN block's account number for a citizen: the ID number's digits before its check digit
    (the format-0 PAN field takes the rightmost 12 of them)."""
    return "".join(c for c in id_number[:-1] if c.isdigit())


def register_pad_key(services: Services, kiosk_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """The key ceremony's backend half: XOR of the custodians' components, checked by its KCV."""
    algorithm = body.get("algorithm")
    components = body.get("components")
    if algorithm not in ALGORITHMS:
        raise ApiError(422, "malformed", "algorithm must be 'sm4' or '3des'")
    if not isinstance(components, list) or not 2 <= len(components) <= 3:
        raise ApiError(422, "malformed", "give 2 or 3 key components (hex), one per custodian")
    try:
        parts = [bytes.fromhex(c) for c in components]
    except (TypeError, ValueError):
        raise ApiError(422, "malformed", "key components must be hex") from None
    if any(len(p) != ALGORITHMS[algorithm] for p in parts):
        raise ApiError(422, "malformed", f"each component has {ALGORITHMS[algorithm]} bytes")
    key = bytearray(parts[0])
    for part in parts[1:]:
        key[:] = bytes(a ^ b for a, b in zip(key, part, strict=True))
    check = kcv(cipher_for(algorithm, bytes(key))).hex().upper()
    given = str(body.get("kcv", "")).upper()
    if len(given) < 6 or not check.startswith(given):
        key[:] = bytes(len(key))
        raise ApiError(409, "kcv_mismatch", "the combined key's check value differs from the pad's: "
                                            "enter the components again")
    sealed = _seal_key(services, bytes(key), kiosk_id.encode())
    key[:] = bytes(len(key))
    with services.engine.begin() as conn:
        conn.execute(pad_pin_keys.delete().where(pad_pin_keys.c.kiosk_id == kiosk_id))
        conn.execute(pad_pin_keys.insert().values(kiosk_id=kiosk_id, algorithm=algorithm, key_enc=sealed,
                                                  kcv=check, registered_at=services.clock()))
    return {"kiosk_id": kiosk_id, "algorithm": algorithm, "kcv": check[:6]}


# -- sessions --------------------------------------------------------------------------------------

def _state(conn: sa.Connection, id_number: str) -> dict[str, Any] | None:
    row = conn.execute(sa.select(ecard_pins).where(ecard_pins.c.id_number == id_number)).mappings().first()
    return dict(row) if row else None


def open_session(services: Services, kiosk_id: str, id_number: str, purpose: str) -> dict[str, Any]:
    """A working key for one PIN operation, wrapped under this kiosk's e-card master key."""
    id_number = id_number.strip().upper()
    if purpose not in PURPOSES:
        raise ApiError(422, "malformed", f"purpose must be one of {', '.join(PURPOSES)}")
    with services.engine.begin() as conn:
        pad = conn.execute(sa.select(pad_pin_keys).where(pad_pin_keys.c.kiosk_id == kiosk_id)).mappings().first()
        if pad is None:
            raise ApiError(409, "no_pad_key", "this kiosk's PIN pad has no e-card PIN key: run the key ceremony")
        account = conn.execute(sa.select(ecard_accounts.c.subject)
                               .where(ecard_accounts.c.id_number == id_number)).first()
        if account is None:
            raise ApiError(404, "no_ecard", "this person has no electronic social security card yet")
        state = _state(conn, id_number)
        if purpose == "set" and state is not None:
            raise ApiError(409, "pin_already_set", "the e-card PIN is set already: change it, or reset it")
        if purpose == "change" and state is None:
            raise ApiError(409, "pin_not_set", "the e-card has no PIN yet: set one first")
        if purpose == "change" and state["locked_at"] is not None:
            raise ApiError(423, "pin_locked", "the e-card PIN is locked: reset it with face and SMS checks")
        work = bytearray(secrets.token_bytes(ALGORITHMS[pad["algorithm"]]))
        master = _open_key(services, pad["key_enc"], kiosk_id.encode())
        try:
            wrapped = cipher_for(pad["algorithm"], bytes(master)).encrypt(bytes(work))
            check = kcv(cipher_for(pad["algorithm"], bytes(work)))
            session_id = secrets.token_hex(16)
            conn.execute(pin_sessions.insert().values(
                session_id=session_id, kiosk_id=kiosk_id, id_number=id_number, purpose=purpose,
                work_key_enc=_seal_key(services, bytes(work), session_id.encode()),
                expires_at=services.clock() + SESSION_TTL))
        finally:
            work[:] = bytes(len(work))
            master[:] = bytes(len(master))
    return {"session_id": session_id, "algorithm": pad["algorithm"], "wrapped_key": wrapped.hex().upper(),
            "kcv": check.hex().upper(), "pan": pan_for(id_number), "format": 0,
            "expires_in_s": int(SESSION_TTL.total_seconds())}


# -- THE audited function --------------------------------------------------------------------------

def _digest(services: Services, pin: bytearray) -> str:
    return hmac.new(_derived(services, PEPPER_INFO), bytes(pin), sha256).hexdigest()


def _open_pin_blocks(services: Services, session: dict[str, Any], algorithm: str, blocks: dict[str, str],
                     policy: PinPolicy, stored_hash: str | None) -> tuple[bool | None, str]:
    """Decrypt the session's PIN blocks, check them, and return (old PIN matched, new PIN hash).

    ``blocks``: ``new`` and ``repeat`` (hex), and ``old`` for a change. The old PIN is checked
    against ``stored_hash`` (None when not asked: set and reset). Raises ApiError naming the step
    (never a digit); every clear buffer is zeroed before returning or raising."""
    work = _open_key(services, session["work_key_enc"], session["session_id"].encode())
    pan = pan_for(session["id_number"])
    opened: dict[str, bytearray] = {}
    try:
        cipher = cipher_for(algorithm, bytes(work))
        for name, text in blocks.items():
            try:
                opened[name] = decrypt_pin_block(bytes.fromhex(text), pan, PinBlockFormat.ISO0, cipher,
                                                 pan_has_check_digit=False)
            except (ValueError, PinBlockError):
                raise ApiError(422, "bad_pin_block", f"the {name} PIN block does not decode for this "
                                                     "citizen and session; enter it again") from None
        old_ok: bool | None = None
        if "old" in opened:
            try:
                old_ok = stored_hash is not None and _hasher.verify(stored_hash, _digest(services, opened["old"]))
            except (VerificationError, InvalidHashError):
                old_ok = False
            if not old_ok:
                return False, ""
        try:
            PinPolicy.check_confirmation(opened["new"], opened["repeat"])
            policy.check(opened["new"], opened.get("old"))
        except WeakPinError as exc:
            raise ApiError(422, "weak_pin", exc.message, rule=exc.rule.value) from None
        return old_ok, _hasher.hash(_digest(services, opened["new"]))
    finally:
        for buffer in opened.values():
            buffer[:] = bytes(len(buffer))
        work[:] = bytes(len(work))


# -- submissions -----------------------------------------------------------------------------------

def submit(services: Services, kiosk_id: str, session_id: str, body: dict[str, Any]) -> dict[str, Any]:
    now = services.clock()
    with services.engine.begin() as conn:
        session = conn.execute(sa.select(pin_sessions).where(pin_sessions.c.session_id == session_id,
                                                             pin_sessions.c.kiosk_id == kiosk_id)
                               .with_for_update()).mappings().first()
        if session is None or session["used_at"] is not None or session["expires_at"] < now:
            raise ApiError(409, "session_over", "this PIN session is over: start the service again")
        session = dict(session)
        conn.execute(pin_sessions.update().where(pin_sessions.c.session_id == session_id).values(used_at=now))
        purpose = session["purpose"]
        wanted = {"new", "repeat"} | ({"old"} if purpose == "change" else set())
        blocks = body.get("blocks")
        if not isinstance(blocks, dict) or set(blocks) != wanted or \
                not all(isinstance(v, str) and len(v) in (16, 32) for v in blocks.values()):
            raise ApiError(422, "malformed", f"blocks must hold exactly {sorted(wanted)} as hex PIN blocks")
        pad = conn.execute(sa.select(pad_pin_keys.c.algorithm).where(pad_pin_keys.c.kiosk_id == kiosk_id)).scalar()
        person = conn.execute(sa.select(persons.c.phone).where(persons.c.id_number == session["id_number"])).first()
        phone = person.phone if person else None
        # A refused proof rolls this transaction back: the session stays unspent.
        proof = _check_reset_proof(conn, services, kiosk_id, body, phone) if purpose == "reset" else None
        state = _state(conn, session["id_number"])
        if purpose == "change" and state and state["locked_at"] is not None:
            raise ApiError(423, "pin_locked", "the e-card PIN is locked: reset it with face and SMS checks")
        policy = PinPolicy(initial_pin="", id_number=session["id_number"], bound_phone=phone)
    # The slow hash runs outside the transaction; the session is already spent.
    old_ok, new_hash = _open_pin_blocks(services, session, pad, blocks, policy,
                                        state["pin_hash"] if state else None)
    if old_ok is False:
        _count_failure(services, session["id_number"], now)
    with services.engine.begin() as conn:
        if proof is not None:
            _spend_reset_proof(conn, proof)
        values = {"pin_hash": new_hash, "set_at": now, "failures": 0, "locked_at": None}
        if state is None:
            conn.execute(ecard_pins.insert().values(id_number=session["id_number"], **values))
        else:
            conn.execute(ecard_pins.update().where(ecard_pins.c.id_number == session["id_number"]).values(**values))
        if phone:
            conn.execute(notifications.insert().values(
                record_id=str(uuid.uuid4()), phone=phone, created_at=now,
                text=_alert_text(purpose, kiosk_id, now.strftime("%Y-%m-%d %H:%M UTC"))))
    from backend.notify import deliver_pending

    deliver_pending(services)
    return {"ok": True, "purpose": purpose, "alert_sent": bool(phone)}


def _count_failure(services: Services, id_number: str, now: Any) -> None:
    """A wrong old PIN: count it (committed), lock at the limit, and refuse with the tries left."""
    limit = services.config.ecard.pin_max_failures
    with services.engine.begin() as conn:
        row = conn.execute(sa.select(ecard_pins.c.failures).where(ecard_pins.c.id_number == id_number)
                           .with_for_update()).first()
        failures = (row.failures if row else 0) + 1
        locked = failures >= limit
        conn.execute(ecard_pins.update().where(ecard_pins.c.id_number == id_number)
                     .values(failures=failures, locked_at=now if locked else None))
    if locked:
        raise ApiError(423, "pin_locked", "wrong e-card PIN too many times: it is locked; reset it with face "
                                          "and SMS checks", tries_left=0)
    raise ApiError(422, "wrong_pin", "wrong e-card PIN", tries_left=limit - failures)


def _check_reset_proof(conn: sa.Connection, services: Services, kiosk_id: str, body: dict[str, Any],
                       phone: str | None) -> str:
    """A reset needs the face check the kiosk ran (its signed request says so) and an SMS code to the
    bound phone that THIS kiosk had verified (``/v1/sms/verify``, purpose ``ecard_pin_reset``) within
    the proof's lifetime. Returns the request id; :func:`_spend_reset_proof` spends it with the reset,
    so a weak new PIN (session spent) can be chosen again without a new code, and a code serves one
    reset only."""
    if body.get("face_passed") is not True:
        raise ApiError(422, "face_required", "an e-card PIN reset needs a passed face check")
    request_id = body.get("sms_request_id")
    if not isinstance(request_id, str) or not phone:
        raise ApiError(422, "sms_required", "an e-card PIN reset needs the SMS code sent to the bound phone")
    row = conn.execute(sa.select(sms_requests.c.verified_at).where(
        sms_requests.c.request_id == request_id, sms_requests.c.kiosk_id == kiosk_id,
        sms_requests.c.purpose == RESET_SMS_PURPOSE, sms_requests.c.phone == phone)).first()
    if row is None or row.verified_at is None:
        raise ApiError(422, "sms_required", "no SMS code for this e-card PIN reset was verified at this kiosk: "
                                            "ask for a code and type it first")
    if services.clock() - row.verified_at > RESET_PROOF_TTL:     # a UtcDateTime column: always aware
        raise ApiError(422, "sms_required", "the SMS check is too old: start the reset again")
    return request_id


def _spend_reset_proof(conn: sa.Connection, request_id: str) -> None:
    """One conditional UPDATE (safe across replicas): the verified code serves this reset only."""
    spent = conn.execute(sms_requests.update().where(
        sms_requests.c.request_id == request_id, sms_requests.c.purpose == RESET_SMS_PURPOSE)
        .values(purpose=RESET_SMS_SPENT)).rowcount
    if spent != 1:
        raise ApiError(409, "sms_already_used", "this SMS check was used by another reset: start again")


def _alert_text(purpose: str, kiosk_id: str, stamp: str) -> str:
    zh = {"set": "设置", "change": "修改", "reset": "重置"}[purpose]
    en = {"set": "set", "change": "changed", "reset": "reset"}[purpose]
    return (f"【电子社保卡】您的电子社保卡密码已于{stamp}在自助终端{kiosk_id}{zh}。如非本人操作，请立即致电12333。"
            f" Your electronic social security card PIN was {en} at kiosk {kiosk_id} on {stamp}."
            " If this was not you, call 12333 now.")
