"""Visits: a kiosk reads a person's data only for the person of its current visit (issue 17).

When a citizen signs in (social-security card, resident ID card, the e-card, or, for retiree
certification only, a typed ID number), the kiosk opens a visit with that evidence and gets a
short-lived visit token bound to the kiosk and the person. Every endpoint that answers with a
person's data (summary, face template, SMS to the bound phone, bank verification, e-card PIN)
wants ``X-Visit-Token`` for that very person; anything else is ``403`` and is recorded
(``visit_refusals``, readable at ``GET /v1/operator/visit-refusals``).

What the evidence proves: an e-card visit is opened by the backend itself when it redeems a
one-time code (``backend/ecard.py``); a card visit must name the person as the bureau knows them
(ID number and name, as printed on the card); a typed visit proves nothing and is allowed only
because the face match decides the retiree certification that uses it. In every case a kiosk has
one current visit (opening one ends the previous), openings are rate-limited per kiosk
(``auth.visits_per_kiosk_per_hour``), and each is a row an auditor can read: a stolen kiosk key
can no longer page through the population unseen.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from backend.clock import format_rfc3339
from backend.db import BigId, UtcDateTime, metadata, persons
from backend.errors import ApiError
from kiosk.privacy import mask_id_number

if TYPE_CHECKING:                       # backend.db imports this module: no import cycle at run time
    from backend.context import Services

log = logging.getLogger(__name__)

EVIDENCE = ("sscard", "id_card", "e_card", "typed")
HEADER = "x-visit-token"

kiosk_visits = sa.Table(
    "kiosk_visits", metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),         # sha256 hex; the token is never stored
    sa.Column("kiosk_id", sa.String(64), nullable=False),
    sa.Column("id_number", sa.String(18), nullable=False),
    sa.Column("evidence", sa.String(16), nullable=False),
    sa.Column("opened_at", UtcDateTime(), nullable=False),
    sa.Column("expires_at", UtcDateTime(), nullable=False),
    sa.Column("ended_at", UtcDateTime()),
)
sa.Index("ix_kiosk_visits_kiosk_opened", kiosk_visits.c.kiosk_id, kiosk_visits.c.opened_at)

visit_refusals = sa.Table(
    "visit_refusals", metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("kiosk_id", sa.String(64), nullable=False),
    sa.Column("person_masked", sa.String(24), nullable=False),       # never the full ID number
    sa.Column("operation", sa.String(64), nullable=False),
    sa.Column("reason", sa.String(32), nullable=False),
    sa.Column("at", UtcDateTime(), nullable=False),
)
sa.Index("ix_visit_refusals_at", visit_refusals.c.at)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def open_visit(services: Services, kiosk_id: str, id_number: str, evidence: str,
               name: str | None = None) -> dict[str, Any]:
    """Open this kiosk's visit for one person (ending its previous one); returns the token."""
    id_number = id_number.upper()
    if evidence not in EVIDENCE:
        raise ApiError(422, "malformed", f"evidence must be one of {', '.join(EVIDENCE)}", field="evidence")
    now = services.clock()
    cfg = services.config.auth
    refusal: ApiError | None = None
    with services.engine.begin() as conn:
        opened = conn.execute(sa.select(sa.func.count()).select_from(kiosk_visits).where(
            kiosk_visits.c.kiosk_id == kiosk_id, kiosk_visits.c.opened_at > now - timedelta(hours=1))).scalar_one()
        known = conn.execute(sa.select(persons.c.name).where(persons.c.id_number == id_number)).first()
        if opened >= cfg.visits_per_kiosk_per_hour:
            refusal = ApiError(429, "visit_rate_limited", f"this kiosk opened {opened} visits in the last hour "
                               f"(limit {cfg.visits_per_kiosk_per_hour}); an operator must check it",
                               retry_after_s=3600)
        elif known is None:
            raise ApiError(404, "unknown_person", "no record of this person at the bureau: please go to the counter")
        elif evidence in ("sscard", "id_card") and (name is None or name.strip() != known.name):
            refusal = ApiError(403, "evidence_mismatch", "the card's holder does not match the bureau's record "
                               "of this ID number: go to the counter", field="name")
        if refusal is None:
            return _insert(conn, services, kiosk_id, id_number, evidence)
        _record(conn, now, kiosk_id, id_number, "open_visit", refusal.error)   # committed, then refused
    raise refusal


def open_for_ecard(conn: sa.Connection, services: Services, kiosk_id: str, id_number: str) -> dict[str, Any]:
    """The visit an e-card redemption opens (the backend checked the code itself)."""
    return _insert(conn, services, kiosk_id, id_number.upper(), "e_card")


def _insert(conn: sa.Connection, services: Services, kiosk_id: str, id_number: str,
            evidence: str) -> dict[str, Any]:
    now = services.clock()
    expires = now + timedelta(seconds=services.config.auth.visit_ttl_s)
    # One current visit per kiosk: the previous person's token stops working now.
    conn.execute(kiosk_visits.update().where(kiosk_visits.c.kiosk_id == kiosk_id, kiosk_visits.c.ended_at.is_(None))
                 .values(ended_at=now))
    token = secrets.token_urlsafe(24)
    conn.execute(kiosk_visits.insert().values(token_hash=_hash(token), kiosk_id=kiosk_id, id_number=id_number,
                                              evidence=evidence, opened_at=now, expires_at=expires))
    return {"visit_token": token, "evidence": evidence, "expires_at": format_rfc3339(expires)}


def end_visit(services: Services, kiosk_id: str, token: str | None = None) -> dict[str, Any]:
    """End the visit ``token`` names (only this kiosk's), or every open visit of the kiosk."""
    where = [kiosk_visits.c.kiosk_id == kiosk_id, kiosk_visits.c.ended_at.is_(None)]
    if token:
        where.append(kiosk_visits.c.token_hash == _hash(token))
    with services.engine.begin() as conn:
        ended = conn.execute(kiosk_visits.update().where(*where).values(ended_at=services.clock())).rowcount
    return {"ended": ended}


def require(services: Services, kiosk_id: str, token: str | None, id_number: str, operation: str) -> str:
    """The person-data gate: ``token`` must be this kiosk's current, unexpired visit of ``id_number``.
    Returns the visit's evidence (``EVIDENCE``): an e-card visit may ask for what a card visit reads
    off the card (the bank verification's name)."""
    now = services.clock()
    id_number = id_number.upper()
    with services.engine.begin() as conn:
        row = conn.execute(sa.select(kiosk_visits).where(kiosk_visits.c.token_hash == _hash(token))).mappings() \
            .first() if token else None
        if row is None or row["kiosk_id"] != kiosk_id:
            # Another kiosk's token is as good as none: a token never works away from its kiosk.
            reason = "visit_required" if not token else "visit_unknown"
            problem = "no visit of this kiosk is open" if not token else "the visit token is not this kiosk's"
        elif row["ended_at"] is not None or row["expires_at"] <= now:
            reason, problem = "visit_expired", "the visit has ended or expired: sign the person in again"
        elif row["id_number"] != id_number:
            reason, problem = "other_person", "the data asked for is not the person of this visit"
        else:
            return str(row["evidence"])
        _record(conn, now, kiosk_id, id_number, operation, reason)
    log.warning("person data refused outside the visit", extra={"kiosk": kiosk_id, "operation": operation,
                                                               "reason": reason})
    raise ApiError(403, reason, f"{problem}; a kiosk reads a person's data only for the person it signed in "
                   "(X-Visit-Token from POST /v1/visits or the e-card redemption)")


def _record(conn: sa.Connection, now: Any, kiosk_id: str, id_number: str, operation: str, reason: str) -> None:
    conn.execute(visit_refusals.insert().values(kiosk_id=kiosk_id, person_masked=mask_id_number(id_number)[:24],
                                                operation=operation[:64], reason=reason, at=now))


def refusals(services: Services, limit: int = 200) -> dict[str, Any]:
    with services.reader.connect() as conn:
        rows = conn.execute(sa.select(visit_refusals).order_by(visit_refusals.c.id.desc()).limit(limit)) \
            .mappings().all()
    return {"refusals": [{"kiosk_id": r["kiosk_id"], "person_masked": r["person_masked"],
                          "operation": r["operation"], "reason": r["reason"], "at": format_rfc3339(r["at"])}
                         for r in rows]}
