"""The review queue: certifications that need a person's decision, the sealed capture opened
for a reviewer only, and the decision that flows back as a record.

Flagged: an assisted field certification (``result = pending_review``), a certification that
failed every face attempt (the citizen was sent to the counter), and a passed one the bureau could
not apply (``deceased``, ``unknown_person``). The capture is opened in memory for one response and
never stored in the clear; every opening is in the append-only audit log.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa

from backend.console.tables import review_decisions
from backend.context import Services
from backend.crypto import open_sealed
from backend.db import persons, records
from backend.errors import ApiError
from backend.ingest import _add_months
from kiosk.privacy import mask_id_number

REVIEW_OUTCOMES = ("deceased", "unknown_person")
SCAN_LIMIT = 2000                        # newest certifications looked at for the queue


@dataclass(frozen=True)
class Flagged:
    record_id: str
    kiosk_id: str
    created_at: Any
    operator_id: str | None
    why: str                          # assisted | failed | deceased | unknown_person
    id_masked: str
    payload: dict[str, Any]           # the decision data (scores, reason, attestation); no capture
    has_capture: bool
    outcome: str
    message: str


def _why(payload: dict[str, Any], outcome: str) -> str | None:
    if payload.get("result") == "pending_review":
        return "assisted"
    if outcome in REVIEW_OUTCOMES:
        return outcome
    if payload.get("result") == "failed":
        return "failed"
    return None


def _flagged(row: Any) -> Flagged | None:
    envelope = json.loads(row["envelope"])
    payload = envelope["payload"]
    why = _why(payload, row["outcome"])
    if why is None:
        return None
    shown = {k: v for k, v in payload.items() if k not in ("capture", "id_number")}
    return Flagged(row["id"], row["kiosk_id"], row["created_at"], row["operator_id"], why,
                   mask_id_number(payload.get("id_number", "")), shown,
                   isinstance(payload.get("capture"), dict), row["outcome"], row["message"])


def queue(services: Services) -> list[Flagged]:
    decided = sa.select(review_decisions.c.record_id)
    query = (sa.select(records).where(records.c.type == "certification", records.c.id.not_in(decided))
             .order_by(records.c.received_at).limit(SCAN_LIMIT))
    with services.reader.connect() as conn:
        rows = conn.execute(query).mappings().all()
    return [f for f in (_flagged(r) for r in rows) if f is not None]


def get(services: Services, record_id: str) -> tuple[Flagged, dict[str, Any] | None]:
    """The flagged record and its decision, if any; 404 if not a flagged certification."""
    with services.engine.connect() as conn:
        row = conn.execute(sa.select(records).where(records.c.id == record_id)).mappings().first()
        decision = conn.execute(sa.select(review_decisions).where(review_decisions.c.record_id == record_id)) \
            .mappings().first()
    flagged = _flagged(row) if row is not None and row["type"] == "certification" else None
    if flagged is None:
        raise ApiError(404, "not_flagged", "no flagged certification with this id")
    return flagged, dict(decision) if decision else None


def open_capture(services: Services, record_id: str) -> bytes:
    """The JPEG the kiosk sealed: the record field (backend key) around the verifier's SFR1 box."""
    from models.review import open_sealed as open_review_box

    with services.engine.connect() as conn:
        envelope = conn.execute(sa.select(records.c.envelope).where(records.c.id == record_id)).scalar()
    sealed = json.loads(envelope)["payload"].get("capture") if envelope else None
    if not isinstance(sealed, dict):
        raise ApiError(404, "no_capture", "this record carries no sealed capture")
    try:
        box = open_sealed(services.review_key, sealed)
        return open_review_box(box, services.review_key, associated=b"face-review") if box[:4] == b"SFR1" else box
    except (ValueError, KeyError, TypeError) as exc:
        raise ApiError(422, "cannot_open", f"the capture does not open with this backend's key: {exc}") from None


def decide(services: Services, record_id: str, decision: str, reason: str, username: str) -> dict[str, Any]:
    """Approve or reject, once. An approved assisted certification certifies the person now."""
    if decision not in ("approved", "rejected"):
        raise ApiError(422, "malformed", "decision must be approved or rejected")
    reason = reason.strip()
    if len(reason) < 4:
        raise ApiError(422, "reason_required", "give the reason for the decision (at least 4 characters)")
    flagged, existing = get(services, record_id)
    if existing is not None:
        raise ApiError(409, "already_decided", "this certification was decided already")
    now = services.clock()
    until: date | None = None
    with services.engine.begin() as conn:
        if decision == "approved" and flagged.why == "assisted":
            envelope = conn.execute(sa.select(records.c.envelope).where(records.c.id == record_id)).scalar()
            idn = json.loads(envelope)["payload"]["id_number"].upper()
            person = conn.execute(sa.select(persons.c.certified_until).where(persons.c.id_number == idn)
                                  .with_for_update()).mappings().first()
            if person is not None:
                on_day = flagged.created_at.date()
                current = person["certified_until"]
                if current is None or current < on_day:
                    until = _add_months(on_day, services.config.certification.period_months)
                    conn.execute(persons.update().where(persons.c.id_number == idn).values(certified_until=until))
                else:
                    until = current
        conn.execute(review_decisions.insert().values(
            record_id=record_id, kiosk_id=flagged.kiosk_id, decision=decision, reason=reason[:500],
            decided_by=username, decided_at=now, certified_until=until))
    return {"record_id": record_id, "decision": decision, "certified_until": until.isoformat() if until else None}


def decisions(services: Services, kiosk_id: str | None = None, since: Any = None) -> list[dict[str, Any]]:
    query = sa.select(review_decisions).order_by(review_decisions.c.decided_at)
    if kiosk_id is not None:
        query = query.where(review_decisions.c.kiosk_id == kiosk_id)
    if since is not None:
        query = query.where(review_decisions.c.decided_at > since)
    with services.reader.connect() as conn:
        return [dict(r) for r in conn.execute(query.limit(1000)).mappings().all()]
