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

import binascii
import json
import logging
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from backend import bulk, card_loss, validate
from backend.clock import parse_rfc3339
from backend.context import Services
from backend.crypto import canonical_json, public_key_of, record_signing_bytes, verify_with
from backend.db import kiosks, notifications, persons, records
from backend.errors import ApiError
from backend.notify import deliver_pending, notification_text

log = logging.getLogger(__name__)

ENVELOPE_KEYS = frozenset({"id", "kiosk_id", "seq", "created_at", "type", "operator_id", "payload", "sig"})
TYPE_RE = re.compile(r"[a-z][a-z0-9_]{1,39}")      # fullmatch: "pin_change\n" is not a type
# Lower-case canonical UUIDv7 of the RFC 9562 variant: what uuid.UUID(x).version == 7 and
# str(uuid.UUID(x)) == x accept.
UUID7_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
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
    person_id: str | None          # payload.id_number, upper-cased (the check digit X)
    signed: bytes                  # canonical JSON without sig: what the signature covers
    sig: bytes                     # the decoded signature (decoded once, here)

    def stored_text(self) -> str:
        """The canonical JSON with ``sig`` (the evidence stored), built from ``signed`` instead of
        serialising the record again: keys sort as ..., "seq", "sig", "type", and both the type
        (TYPE_RE) and the base64 signature serialise as they are."""
        tail = b',"type":"' + self.type.encode("ascii") + b'"}'
        if not self.signed.endswith(tail):          # cannot happen for a parsed envelope; stay exact
            return canonical_json(self.raw).decode("utf-8")
        return (self.signed[:-len(tail)] + b',"sig":"' + self.raw["sig"].encode("ascii") + b'"' + tail).decode("utf-8")


def _malformed(record_id: str | None, reason: str, field: str | None = None) -> ApiError:
    if field is None:
        return ApiError(422, "malformed", reason, record_id)
    return ApiError(422, "malformed", reason, record_id, field=field)


def parse_envelope(obj: Any, index: int, max_record_bytes: int = 1_000_000) -> Envelope:
    """Shape and storability of one record; every refusal names the record and the field."""
    if not isinstance(obj, dict):
        raise _malformed(None, f"record {index} is not a JSON object")
    rid = obj.get("id") if isinstance(obj.get("id"), str) else None
    if obj.keys() != ENVELOPE_KEYS:             # one comparison on the usual path
        missing = ENVELOPE_KEYS - obj.keys()
        extra = obj.keys() - ENVELOPE_KEYS
        if missing:
            raise _malformed(rid, f"record {index} lacks {', '.join(sorted(missing))}", sorted(missing)[0])
        raise _malformed(rid, f"record {index} has unknown fields {', '.join(sorted(extra))}", sorted(extra)[0])
    if not isinstance(obj["id"], str) or not UUID7_RE.fullmatch(obj["id"]):
        # The regex is the fast path (uuid.UUID cost ~25 us per record); this names what is wrong.
        try:
            uuid.UUID(obj["id"])
        except (ValueError, TypeError, AttributeError):
            raise _malformed(None, f"record {index}: id is not a UUID string", "id") from None
        raise _malformed(None, f"record {index}: id must be a lower-case UUIDv7 string", "id")

    def bad(field: str, reason: str) -> ApiError:
        return _malformed(rid, f"record {index}: {field}: {reason}", field)

    try:
        signed = record_signing_bytes(obj) if validate.plainly_storable_json(obj) else None
    except UnicodeEncodeError:                 # a lone surrogate: the walk below names the field
        signed = None
    if signed is None or not validate.plainly_storable_text(signed):
        try:
            validate.check_tree(obj)
        except validate.Unstorable as exc:
            raise bad(exc.field or "record", exc.reason) from None
        signed = record_signing_bytes(obj)
    if not isinstance(obj["kiosk_id"], str) or not 1 <= len(obj["kiosk_id"]) <= 64:
        raise bad("kiosk_id", "must be a string of 1 to 64 characters")
    seq = obj["seq"]
    if not isinstance(seq, int) or isinstance(seq, bool) or not 1 <= seq <= validate.MAX_SEQ:
        raise bad("seq", f"must be an integer from 1 to {validate.MAX_SEQ}")
    try:
        created_at = validate.check_instant(parse_rfc3339(obj["created_at"]), "created_at")
    except validate.Unstorable as exc:
        raise bad("created_at", exc.reason) from None
    except (ValueError, TypeError) as exc:
        raise bad("created_at", str(exc)) from None
    if not isinstance(obj["type"], str) or not TYPE_RE.fullmatch(obj["type"]):
        raise bad("type", "must be a lower-case word of 2 to 40 characters such as \"pin_change\"")
    operator_id = obj["operator_id"]
    if operator_id is not None and (not isinstance(operator_id, str) or not 1 <= len(operator_id) <= 64):
        raise bad("operator_id", "must be a string (1 to 64 characters) or null")
    if not isinstance(obj["payload"], dict):
        raise bad("payload", "must be a JSON object")
    try:
        # Strict (no text after padding, no excess padding), and a third of b64decode's cost.
        sig = binascii.a2b_base64(obj["sig"], strict_mode=True)
    except (ValueError, TypeError):
        raise bad("sig", "is not base64") from None
    if len(sig) != 64:
        raise bad("sig", "must be a 64-byte Ed25519 signature")
    idn = obj["payload"].get("id_number")
    person_id = None
    if idn is not None:
        try:
            person_id = validate.check_id_number(idn)
        except validate.Unstorable as exc:
            raise bad("payload.id_number", exc.reason) from None
    if obj["type"] == "certification" and idn is None:
        raise bad("payload.id_number", "a certification needs payload.id_number")
    if len(signed) > max_record_bytes:
        raise bad("payload", f"the record is {len(signed)} bytes, over the {max_record_bytes}-byte limit "
                  "for one record")
    return Envelope(raw=obj, id=obj["id"], seq=seq, created_at=created_at, type=obj["type"],
                    operator_id=operator_id, payload=obj["payload"], person_id=person_id, signed=signed,
                    sig=sig)


def _parse_batch(services: Services, body: Any) -> tuple[str, list[Envelope]]:
    """Shape of the batch and of every envelope; no database access, no signature yet."""
    if not isinstance(body, dict) or not isinstance(body.get("kiosk_id"), str) \
            or not isinstance(body.get("records"), list):
        raise _malformed(None, "expected {\"kiosk_id\": string, \"records\": [envelope, ...]}")
    if set(body) - {"kiosk_id", "records"}:
        raise _malformed(None, f"unknown batch fields {', '.join(sorted(set(body) - {'kiosk_id', 'records'}))}")
    kiosk_id = body["kiosk_id"]
    try:
        validate.check_text(kiosk_id, "kiosk_id")
    except validate.Unstorable as exc:
        raise _malformed(None, str(exc), "kiosk_id") from None
    if not body["records"]:
        raise _malformed(None, "the batch holds no records")
    if len(body["records"]) > services.config.ingest.max_batch:
        raise ApiError(413, "batch_too_large",
                       f"at most {services.config.ingest.max_batch} records per batch; split the batch")
    envelopes = []
    seen: set[str] = set()
    limit = services.config.ingest.max_record_bytes
    for i, obj in enumerate(body["records"]):
        env = parse_envelope(obj, i, limit)
        if env.raw["kiosk_id"] != kiosk_id:
            raise ApiError(403, "kiosk_mismatch",
                           f"record {i} belongs to kiosk {env.raw['kiosk_id']!r}, the batch to {kiosk_id!r}", env.id)
        if env.id in seen:
            raise _malformed(env.id, f"record {i}: the same id appears twice in the batch", "id")
        seen.add(env.id)
        envelopes.append(env)
    return kiosk_id, envelopes


def _add_months(day: date, months: int) -> date:
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    for dom in (day.day, 30, 29, 28):
        try:
            return date(year, month, dom)
        except ValueError:
            continue
    raise AssertionError("unreachable")


@dataclass
class _Person:
    phone: str | None
    certified_until: date | None
    deceased: bool


def _load_persons(conn: Connection, fresh: list[Envelope]) -> dict[str, _Person]:
    """The persons this batch's records name, in one query for the whole batch. Certified persons
    are locked (their date is read, then written) in one sorted pass: two kiosks' batches naming
    the same people in a different order then wait for each other instead of deadlocking. Persons
    only notified share the statement (one round trip fewer per batch), unlocked on PostgreSQL."""
    named = sorted({e.person_id for e in fresh if e.person_id
                    and (e.type == "certification" or e.type in NOTIFY_TYPES)})
    found: dict[str, _Person] = {}
    if not named:
        return found
    if bulk.on_postgresql(conn):
        # Only the certified are locked (a row lock is a WAL record and a dirtied page each); the
        # persons only notified are read in the same statement, unlocked (their phone is read once).
        certified = sorted({e.person_id for e in fresh if e.person_id and e.type == "certification"})
        notified = sorted(set(named) - set(certified))
        rows = bulk.fetch(conn, "WITH locked AS (SELECT id_number, phone, certified_until, deceased FROM persons "
                                "WHERE id_number = ANY(%s::text[]) ORDER BY id_number FOR UPDATE) "
                                "SELECT * FROM locked UNION ALL SELECT id_number, phone, certified_until, deceased "
                                "FROM persons WHERE id_number = ANY(%s::text[])",
                          (bulk.text_array(certified), bulk.text_array(notified)))
        for id_number, phone, certified_until, deceased in rows:
            found[id_number] = _Person(phone, certified_until, bool(deceased))
        return found
    cols = (persons.c.id_number, persons.c.phone, persons.c.certified_until, persons.c.deceased)
    for r in conn.execute(sa.select(*cols).where(bulk.any_of(conn, persons.c.id_number, named))
                          .order_by(persons.c.id_number).with_for_update()):
        found[r.id_number] = _Person(r.phone, r.certified_until, bool(r.deceased))
    return found


def _apply(services: Services, conn: Connection, kiosk_id: str, env: Envelope, people: dict[str, _Person],
           effects: dict[str, list[dict[str, Any]]]) -> tuple[str, str]:
    """Business effects of one new record -> (outcome, message); the writes are collected in
    ``effects`` and made for the whole batch at once, in the ingest transaction."""
    idn = env.person_id                      # upper-cased: the check digit X may arrive lower-case
    if env.type == "certification":
        return _apply_certification(services, env, people.get(idn) if idn else None, idn, effects)
    if env.type == card_loss.RECORD_TYPE:
        return card_loss.apply(conn, kiosk_id, env.id, env.created_at, env.payload, idn)
    if env.type in NOTIFY_TYPES:
        person = people.get(idn) if idn else None
        if person is None or not person.phone:
            return "ok", "Recorded; no bound phone to notify."
        effects["notifications"].append({
            "record_id": env.id, "phone": person.phone,
            "text": notification_text(env.type, kiosk_id, env.created_at), "created_at": services.clock()})
        return "ok", "Recorded; the bound phone will be notified."
    return "ok", "Recorded."


def _apply_certification(services: Services, env: Envelope, person: _Person | None, idn: str | None,
                         effects: dict[str, list[dict[str, Any]]]) -> tuple[str, str]:
    if env.payload.get("result") != PASSED:
        return "ok", "Recorded (the certification did not pass; nothing changes)."
    if person is None:
        return "unknown_person", ("No person with this ID number is known to the bureau; "
                                  "the result is kept for staff review.")
    if person.deceased:
        return "deceased", ("The bureau records this person as deceased; the certification was not "
                            "applied and is passed to staff for review.")
    on_day = env.created_at.date()
    until = person.certified_until
    if until is not None and until >= on_day:
        return "already_certified", (f"Already certified until {until.isoformat()} by an earlier result; "
                                     "this one is kept and changes nothing.")
    new_until = _add_months(on_day, services.config.certification.period_months)
    person.certified_until = new_until       # a later record of this batch sees it
    effects["certified"].append({"b_id": idn, "b_until": new_until})
    return "ok", f"Certified until {new_until.isoformat()}."


def _update_certified(conn: Connection, certified: list[dict[str, Any]]) -> None:
    """The batch's new certified_until dates (one per person: a second certification of the same
    person in the batch finds the first's date), in one statement on PostgreSQL."""
    if bulk.on_postgresql(conn):
        # Found through the primary key (= ANY): joined to unnest(...), the planner chose a sequential
        # scan of the whole persons table for every batch. One date per person, the batch's last
        # (records far apart in time can certify the same person twice in one batch).
        latest = {c["b_id"]: c["b_until"] for c in certified}
        ids = bulk.text_array(list(latest))
        bulk.fetch(conn, "UPDATE persons SET certified_until = (%s::date[])[array_position(%s::text[], "
                         "id_number::text)] WHERE id_number = ANY(%s::text[])",
                   ("{" + ",".join(d.isoformat() for d in latest.values()) + "}", ids, ids))
        return
    conn.execute(persons.update().where(persons.c.id_number == sa.bindparam("b_id"))
                 .values(certified_until=sa.bindparam("b_until")), certified)


def ingest_batch(services: Services, body: Any) -> dict[str, Any]:
    kiosk_id, envelopes = _parse_batch(services, body)
    now = services.clock()
    results: dict[str, dict[str, str]] = {}
    with services.engine.connect() as conn:
        with conn.begin():
            fresh = _ingest_in(services, conn, kiosk_id, envelopes, now, results)
        if any(e.type in NOTIFY_TYPES for e in fresh) and _written_in(services) is None:
            # This batch's notifications, and any left behind by a replica that stopped mid-way,
            # claimed on the same connection (one pool checkout and ping fewer).
            deliver_pending(services, conn=conn)
    log.info("batch ingested", extra={"kiosk": kiosk_id, "accepted": len(fresh),
                                      "duplicates": len(envelopes) - len(fresh)})
    return {"results": [results[e.id] for e in envelopes]}


def _ingest_in(services: Services, conn: Connection, kiosk_id: str, envelopes: list[Envelope], now: datetime,
               results: dict[str, dict[str, str]]) -> list[Envelope]:
    """The ingest transaction on ``conn``: returns the new records (written with their effects)."""
    max_gap = services.config.ingest.max_seq_gap
    # One lookup per batch: the kiosk's key and last seq, locked (replicas serialise per kiosk).
    row = _kiosk_locked(conn, kiosk_id)
    if row is None:
        raise ApiError(401, "unknown_kiosk", f"kiosk {kiosk_id!r} is not enrolled; run `kiosk enroll` with a token")
    verifier = public_key_of(bytes(row[1]))
    last_seq = row[0]
    stored = _stored(conn, [e.id for e in envelopes])
    fresh: list[Envelope] = []
    for i, env in enumerate(envelopes):
        old = stored.get(env.id)
        if old is not None:
            # Byte-identical to evidence whose signature was verified when it was stored:
            # a resend is recognised without verifying it again.
            if old[0] != env.stored_text():
                raise ApiError(409, "id_conflict",
                               "a different record with this id was accepted before; ids must be unique", env.id)
            results[env.id] = {"id": env.id, "status": "duplicate", "outcome": old[1], "message": old[2]}
            continue
        if not verify_with(verifier, env.sig, env.signed):
            raise ApiError(401, "bad_signature",
                           f"record {i}: the signature does not verify with the kiosk's enrolled key", env.id)
        if env.seq <= last_seq:
            raise ApiError(409, "out_of_order",
                           f"seq {env.seq} is not above the kiosk's last accepted seq {last_seq}; "
                           "send records in order", env.id)
        if env.seq > last_seq + max_gap:
            raise ApiError(422, "malformed",
                           f"record {i}: seq: {env.seq} is more than {max_gap} above the kiosk's last "
                           f"accepted seq {last_seq}; the kiosk's counter is damaged", env.id, field="seq")
        last_seq = env.seq
        fresh.append(env)
    people = _load_persons(conn, fresh)
    effects: dict[str, list[dict[str, Any]]] = {"notifications": [], "certified": []}
    rows = []
    for env in fresh:
        outcome, message = _apply(services, conn, kiosk_id, env, people, effects)
        results[env.id] = {"id": env.id, "status": "accepted", "outcome": outcome, "message": message}
        rows.append({
            "id": env.id, "kiosk_id": kiosk_id, "seq": env.seq, "type": env.type,
            "operator_id": env.operator_id, "person_id": env.person_id,
            "created_at": env.created_at, "received_at": now, "day": env.created_at.date().isoformat(),
            "envelope": env.stored_text(), "outcome": outcome, "message": message,
        })
    if effects["certified"]:
        _update_certified(conn, effects["certified"])
    notes = effects["notifications"]
    write_in = _written_in(services)
    if notes and write_in is not None:
        # A gateway that is a table (the development one): the messages are written in this
        # transaction and the notifications stored as sent; a claim and two more commits per
        # batch fewer (bench/backend_ingest.py, the realistic mix), and exactly once.
        for note in notes:
            note["sent_at"], note["attempts"] = note["created_at"], 1
        write_in(conn, [(note["phone"], note["text"]) for note in notes])
    bulk.insert(conn, notifications, notes)
    if rows:
        bulk.insert(conn, records, rows)
        if bulk.on_postgresql(conn):
            bulk.fetch(conn, "UPDATE kiosks SET last_seq = %s WHERE kiosk_id = %s", (last_seq, kiosk_id))
        else:
            conn.execute(kiosks.update().where(kiosks.c.kiosk_id == kiosk_id).values(last_seq=last_seq))
    return fresh


def _written_in(services: Services) -> Callable[[Connection, list[tuple[str, str]]], None] | None:
    """The SMS gateway's ``write_in(conn, messages)`` when it writes in the caller's transaction."""
    return getattr(services.sms_gateway, "write_in", None)


def _kiosk_locked(conn: Connection, kiosk_id: str) -> tuple[int, bytes] | None:
    """(last_seq, public_key) of the kiosk, its row locked; None when it is not enrolled."""
    if bulk.on_postgresql(conn):
        rows = bulk.fetch(conn, "SELECT last_seq, public_key FROM kiosks WHERE kiosk_id = %s FOR UPDATE",
                          (kiosk_id,))
        return (rows[0][0], rows[0][1]) if rows else None
    row = conn.execute(sa.select(kiosks.c.last_seq, kiosks.c.public_key)
                       .where(kiosks.c.kiosk_id == kiosk_id).with_for_update()).first()
    return None if row is None else (row.last_seq, row.public_key)


def _stored(conn: Connection, ids: list[str]) -> dict[str, tuple[str, str, str]]:
    """id -> (envelope, outcome, message) of the records among ``ids`` already stored."""
    if bulk.on_postgresql(conn):
        return {r[0]: (r[1], r[2], r[3]) for r in bulk.fetch(
            conn, "SELECT id, envelope, outcome, message FROM records WHERE id = ANY(%s::text[])",
            (bulk.text_array(ids),))}
    return {r.id: (r.envelope, r.outcome, r.message) for r in conn.execute(
        sa.select(records.c.id, records.c.envelope, records.c.outcome, records.c.message)
        .where(bulk.any_of(conn, records.c.id, ids)))}


def envelope_of(row_envelope: str) -> dict[str, Any]:
    return json.loads(row_envelope)
