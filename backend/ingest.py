"""Record ingest: validate the whole batch, then write it in one transaction, exactly once.

Order of work for ``POST /v1/records:batch``:
1. shape of the batch, the kiosk is enrolled, every envelope well-formed, for this kiosk and
   correctly signed (no database writes yet; any failure refuses the whole batch);
2. one transaction with the kiosk's row locked (``SELECT ... FOR UPDATE``; replicas serialise
   per kiosk): ids already stored are duplicates and return their original result, new ids must
   carry a seq above the kiosk's last accepted seq, then records and their business effects
   (certification dates, notifications) are written together;
3. after commit, pending notifications go out through the SMS gateway.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from backend import card_loss
from backend.clock import parse_rfc3339
from backend.context import Services
from backend.crypto import b64d, canonical_json, record_signing_bytes, verify_ed25519
from backend.db import kiosks, notifications, persons, records
from backend.errors import ApiError
from backend.notify import deliver_pending, notification_text

log = logging.getLogger(__name__)

ENVELOPE_KEYS = frozenset({"id", "kiosk_id", "seq", "created_at", "type", "operator_id", "payload", "sig"})
TYPE_RE = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
NOTIFY_TYPES = frozenset({"pin_change", "pin_reset", "pin_unblock"})
PASSED = "passed"


@dataclass
class Envelope:
    raw: dict[str, Any]
    id: str
    seq: int
    created_at: datetime
    type: str
    operator_id: str | None
    payload: dict[str, Any]


def _malformed(record_id: str | None, reason: str) -> ApiError:
    return ApiError(422, "malformed", reason, record_id)


def parse_envelope(obj: Any, index: int) -> Envelope:
    if not isinstance(obj, dict):
        raise _malformed(None, f"record {index} is not a JSON object")
    rid = obj.get("id") if isinstance(obj.get("id"), str) else None
    missing = ENVELOPE_KEYS - obj.keys()
    extra = obj.keys() - ENVELOPE_KEYS
    if missing:
        raise _malformed(rid, f"record {index} lacks {', '.join(sorted(missing))}")
    if extra:
        raise _malformed(rid, f"record {index} has unknown fields {', '.join(sorted(extra))}")
    try:
        parsed = uuid.UUID(obj["id"])
    except (ValueError, TypeError, AttributeError):
        raise _malformed(rid, f"record {index}: id is not a UUID string") from None
    if parsed.version != 7 or str(parsed) != obj["id"]:
        raise _malformed(rid, f"record {index}: id must be a lower-case UUIDv7 string")
    if not isinstance(obj["kiosk_id"], str) or not obj["kiosk_id"]:
        raise _malformed(rid, f"record {index}: kiosk_id must be a non-empty string")
    seq = obj["seq"]
    if not isinstance(seq, int) or isinstance(seq, bool) or not 1 <= seq < 2**63:
        raise _malformed(rid, f"record {index}: seq must be an integer of at least 1")
    try:
        created_at = parse_rfc3339(obj["created_at"])
    except (ValueError, TypeError) as exc:
        raise _malformed(rid, f"record {index}: created_at: {exc}") from None
    if not isinstance(obj["type"], str) or not TYPE_RE.match(obj["type"]):
        raise _malformed(rid, f"record {index}: type must be a lower-case word such as \"pin_change\"")
    if obj["operator_id"] is not None and (not isinstance(obj["operator_id"], str) or len(obj["operator_id"]) > 64):
        raise _malformed(rid, f"record {index}: operator_id must be a string (at most 64) or null")
    if not isinstance(obj["payload"], dict):
        raise _malformed(rid, f"record {index}: payload must be a JSON object")
    try:
        sig = b64d(obj["sig"])
    except ValueError:
        raise _malformed(rid, f"record {index}: sig is not base64") from None
    if len(sig) != 64:
        raise _malformed(rid, f"record {index}: sig must be a 64-byte Ed25519 signature")
    idn = obj["payload"].get("id_number")
    if idn is not None and (not isinstance(idn, str) or not 15 <= len(idn) <= 18):
        raise _malformed(rid, f"record {index}: payload.id_number must be a 15- or 18-character string")
    if obj["type"] == "certification" and idn is None:
        raise _malformed(rid, f"record {index}: a certification needs payload.id_number")
    return Envelope(raw=obj, id=obj["id"], seq=seq, created_at=created_at, type=obj["type"],
                    operator_id=obj["operator_id"], payload=obj["payload"])


def _validate_batch(services: Services, body: Any) -> tuple[str, bytes, list[Envelope]]:
    if not isinstance(body, dict) or not isinstance(body.get("kiosk_id"), str) \
            or not isinstance(body.get("records"), list):
        raise _malformed(None, "expected {\"kiosk_id\": string, \"records\": [envelope, ...]}")
    if set(body) - {"kiosk_id", "records"}:
        raise _malformed(None, f"unknown batch fields {', '.join(sorted(set(body) - {'kiosk_id', 'records'}))}")
    kiosk_id = body["kiosk_id"]
    if not body["records"]:
        raise _malformed(None, "the batch holds no records")
    if len(body["records"]) > services.config.ingest.max_batch:
        raise ApiError(413, "batch_too_large",
                       f"at most {services.config.ingest.max_batch} records per batch; split the batch")
    with services.engine.connect() as conn:
        key = conn.execute(sa.select(kiosks.c.public_key).where(kiosks.c.kiosk_id == kiosk_id)).scalar()
    if key is None:
        raise ApiError(401, "unknown_kiosk", f"kiosk {kiosk_id!r} is not enrolled; run `kiosk enroll` with a token")
    envelopes = []
    seen: set[str] = set()
    for i, obj in enumerate(body["records"]):
        env = parse_envelope(obj, i)
        if env.raw["kiosk_id"] != kiosk_id:
            raise ApiError(403, "kiosk_mismatch",
                           f"record {i} belongs to kiosk {env.raw['kiosk_id']!r}, the batch to {kiosk_id!r}", env.id)
        if env.id in seen:
            raise _malformed(env.id, f"record {i}: the same id appears twice in the batch")
        seen.add(env.id)
        if not verify_ed25519(bytes(key), b64d(env.raw["sig"]), record_signing_bytes(env.raw)):
            raise ApiError(401, "bad_signature",
                           f"record {i}: the signature does not verify with the kiosk's enrolled key", env.id)
        envelopes.append(env)
    return kiosk_id, bytes(key), envelopes


def _add_months(day: date, months: int) -> date:
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    for dom in (day.day, 30, 29, 28):
        try:
            return date(year, month, dom)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def _apply(services: Services, conn: Connection, kiosk_id: str, env: Envelope) -> tuple[str, str]:
    """Business effects of one new record, in the ingest transaction -> (outcome, message)."""
    idn = env.payload.get("id_number")
    idn = idn.upper() if idn else None       # the check digit X may arrive lower-case
    if env.type == "certification":
        return _apply_certification(services, conn, env, idn)
    if env.type == card_loss.RECORD_TYPE:
        return card_loss.apply(conn, kiosk_id, env.id, env.created_at, env.payload, idn)
    if env.type in NOTIFY_TYPES:
        phone = None
        if idn is not None:
            phone = conn.execute(sa.select(persons.c.phone).where(persons.c.id_number == idn)).scalar()
        if not phone:
            return "ok", "Recorded; no bound phone to notify."
        conn.execute(notifications.insert().values(
            record_id=env.id, phone=phone, text=notification_text(env.type, kiosk_id, env.created_at),
            created_at=services.clock()))
        return "ok", "Recorded; the bound phone will be notified."
    return "ok", "Recorded."


def _apply_certification(services: Services, conn: Connection, env: Envelope, idn: str) -> tuple[str, str]:
    if env.payload.get("result") != PASSED:
        return "ok", "Recorded (the certification did not pass; nothing changes)."
    person = conn.execute(sa.select(persons.c.certified_until, persons.c.deceased)
                          .where(persons.c.id_number == idn)).mappings().first()
    if person is None:
        return "unknown_person", ("No person with this ID number is known to the bureau; "
                                  "the result is kept for staff review.")
    if person["deceased"]:
        return "deceased", ("The bureau records this person as deceased; the certification was not "
                            "applied and is passed to staff for review.")
    on_day = env.created_at.date()
    until = person["certified_until"]
    if until is not None and until >= on_day:
        return "already_certified", (f"Already certified until {until.isoformat()} by an earlier result; "
                                     "this one is kept and changes nothing.")
    new_until = _add_months(on_day, services.config.certification.period_months)
    conn.execute(persons.update().where(persons.c.id_number == idn).values(certified_until=new_until))
    return "ok", f"Certified until {new_until.isoformat()}."


def ingest_batch(services: Services, body: Any) -> dict[str, Any]:
    kiosk_id, key, envelopes = _validate_batch(services, body)
    now = services.clock()
    results: dict[str, dict[str, str]] = {}
    with services.engine.begin() as conn:
        row = conn.execute(sa.select(kiosks.c.last_seq, kiosks.c.public_key)
                           .where(kiosks.c.kiosk_id == kiosk_id).with_for_update()).first()
        if row is None:
            raise ApiError(401, "unknown_kiosk", f"kiosk {kiosk_id!r} is not enrolled")
        if bytes(row.public_key) != key:
            raise ApiError(409, "kiosk_rekeyed", "the kiosk's key changed while the batch was checked; send it again")
        last_seq = row.last_seq
        stored = {
            r.id: r for r in conn.execute(
                sa.select(records.c.id, records.c.kiosk_id, records.c.envelope, records.c.outcome, records.c.message)
                .where(records.c.id.in_([e.id for e in envelopes])))
        }
        fresh: list[Envelope] = []
        for env in envelopes:
            old = stored.get(env.id)
            if old is not None:
                if old.envelope != canonical_json(env.raw).decode("utf-8"):
                    raise ApiError(409, "id_conflict",
                                   "a different record with this id was accepted before; ids must be unique", env.id)
                results[env.id] = {"id": env.id, "status": "duplicate", "outcome": old.outcome,
                                   "message": old.message}
                continue
            if env.seq <= last_seq:
                raise ApiError(409, "out_of_order",
                               f"seq {env.seq} is not above the kiosk's last accepted seq {last_seq}; "
                               "send records in order", env.id)
            last_seq = env.seq
            fresh.append(env)
        # Lock the certified persons in one sorted pass: two kiosks' batches naming the same
        # people in a different order then wait for each other instead of deadlocking.
        certified = sorted({e.payload["id_number"].upper() for e in fresh if e.type == "certification"})
        if certified:
            conn.execute(sa.select(persons.c.id_number).where(persons.c.id_number.in_(certified))
                         .order_by(persons.c.id_number).with_for_update())
        rows = []
        for env in fresh:
            outcome, message = _apply(services, conn, kiosk_id, env)
            results[env.id] = {"id": env.id, "status": "accepted", "outcome": outcome, "message": message}
            rows.append({
                "id": env.id, "kiosk_id": kiosk_id, "seq": env.seq, "type": env.type,
                "operator_id": env.operator_id,
                "person_id": env.payload["id_number"].upper() if env.payload.get("id_number") else None,
                "created_at": env.created_at, "received_at": now, "day": env.created_at.date().isoformat(),
                "envelope": canonical_json(env.raw).decode("utf-8"), "outcome": outcome, "message": message,
            })
        if rows:
            conn.execute(records.insert(), rows)
            conn.execute(kiosks.update().where(kiosks.c.kiosk_id == kiosk_id).values(last_seq=last_seq))
    if any(e.type in NOTIFY_TYPES for e in fresh):
        # This batch's notifications, and any left behind by a replica that stopped mid-way.
        deliver_pending(services)
    log.info("batch ingested", extra={"kiosk": kiosk_id, "accepted": len(fresh),
                                      "duplicates": len(envelopes) - len(fresh)})
    return {"results": [results[e.id] for e in envelopes]}


def envelope_of(row_envelope: str) -> dict[str, Any]:
    return json.loads(row_envelope)
