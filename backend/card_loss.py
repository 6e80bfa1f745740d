"""Temporary loss report of the social-security card (社保卡临时挂失) and its cancellation.

A kiosk records a ``card_loss`` result (payload ``action``: "report" or "cancel", after ID card +
face + SMS on the kiosk) and syncs it like every result; ingest applies it here, in the ingest
transaction: the person's ``card_state`` becomes "reported_lost" (the state it had is kept in
``card_loss_reports`` and restored on cancellation). Every kiosk then learns it from the person
summary and refuses the card with what to do. Staff read the state with
``GET /v1/operator/card-loss/{id_number}``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from backend.clock import format_rfc3339
from backend.db import UtcDateTime, metadata, persons
from backend.errors import ApiError

if TYPE_CHECKING:                      # backend.context imports backend.db, which imports this module
    from backend.context import Services

RECORD_TYPE = "card_loss"
LOST = "reported_lost"

card_loss_reports = sa.Table(
    "card_loss_reports", metadata,
    sa.Column("id_number", sa.String(18), primary_key=True),
    sa.Column("state", sa.String(12), nullable=False),              # "reported" | "cancelled"
    sa.Column("previous_card_state", sa.String(20), nullable=False),
    sa.Column("reported_at", UtcDateTime(), nullable=False),         # the kiosk's created_at
    sa.Column("report_record", sa.String(36), nullable=False),
    sa.Column("cancelled_at", UtcDateTime()),
    sa.Column("cancel_record", sa.String(36)),
    sa.Column("kiosk_id", sa.String(64), nullable=False),
)


def apply(conn: Connection, kiosk_id: str, record_id: str, created_at: Any, payload: dict[str, Any],
          id_number: str | None) -> tuple[str, str]:
    """Business effect of one new ``card_loss`` record -> (outcome, message)."""
    action = payload.get("action")
    if id_number is None or action not in ("report", "cancel"):
        return "invalid", "A card loss record needs payload.id_number and action \"report\" or \"cancel\"; kept for review."
    person = conn.execute(sa.select(persons.c.card_state).where(persons.c.id_number == id_number)
                          .with_for_update()).first()
    if person is None:
        return "unknown_person", "No person with this ID number is known to the bureau; kept for staff review."
    state = person.card_state
    if action == "report":
        if state == LOST:
            return "already_reported", "The card was already reported lost; nothing changes."
        conn.execute(card_loss_reports.delete().where(card_loss_reports.c.id_number == id_number))
        conn.execute(card_loss_reports.insert().values(
            id_number=id_number, state="reported", previous_card_state=state, reported_at=created_at,
            report_record=record_id, kiosk_id=kiosk_id))
        conn.execute(persons.update().where(persons.c.id_number == id_number).values(card_state=LOST))
        return "ok", f"The card is reported lost as of {format_rfc3339(created_at)}."
    if state != LOST:
        return "not_reported", "The card was not reported lost; nothing changes."
    previous = conn.execute(sa.select(card_loss_reports.c.previous_card_state)
                            .where(card_loss_reports.c.id_number == id_number)).scalar() or "normal"
    conn.execute(card_loss_reports.update().where(card_loss_reports.c.id_number == id_number)
                 .values(state="cancelled", cancelled_at=created_at, cancel_record=record_id))
    conn.execute(persons.update().where(persons.c.id_number == id_number).values(card_state=previous))
    return "ok", "The loss report is cancelled; the card can be used again."


def status(services: Services, id_number: str) -> dict[str, Any]:
    """For staff: the person's card state and the last loss report, if any."""
    idn = id_number.upper()
    with services.reader.connect() as conn:
        card_state = conn.execute(sa.select(persons.c.card_state).where(persons.c.id_number == idn)).scalar()
        report = conn.execute(sa.select(card_loss_reports).where(card_loss_reports.c.id_number == idn)
                              ).mappings().first()
    if card_state is None:
        raise ApiError(404, "unknown_person", "no record of this person at the bureau")
    out: dict[str, Any] = {"card_state": card_state, "report": None}
    if report is not None:
        out["report"] = {"state": report["state"], "reported_at": format_rfc3339(report["reported_at"]),
                         "kiosk_id": report["kiosk_id"],
                         "cancelled_at": format_rfc3339(report["cancelled_at"]) if report["cancelled_at"] else None}
    return out
