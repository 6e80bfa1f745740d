"""Service 6, temporary loss report of the social-security card (社保卡临时挂失) and its cancellation.

The visit must be identified by the resident ID card (the session decides, kiosk/identity.py): the
card itself is lost. Person known with a bound phone -> report or cancel -> consent -> face liveness
+ 1:1 match -> SMS code to the bound phone -> record ``card_loss`` (synced; the backend marks the
card reported lost, backend/card_loss.py) and a local state, so that this kiosk refuses the card at
once even before the record is synced. A lost card inserted later is refused in
:func:`lost_card_check` (called by every card read) with what to do.
"""

from __future__ import annotations

from typing import Any

from kiosk.flows.base import Choice, NextStep, ResultLine
from kiosk.flows.common import (
    FlowContext,
    FlowOutcome,
    face_fields,
    service_flow,
    sms_check_from_backend,
    sms_from_backend,
)
from kiosk.flows.retiree import person_key
from kiosk.identity import IdentitySource
from kiosk.messages import card_loss as L
from kiosk.messages import flows as M
from kiosk.privacy import mask_id_number, mask_name

SERVICE = "card_loss"
STATE_NAMESPACE = "card_loss"          # hashed ID -> "reported" | "cancelled" (this kiosk's last action)
LOST = "reported_lost"


@service_flow(SERVICE, 5)
def card_loss(ctx: FlowContext) -> FlowOutcome:
    deps = ctx.deps
    ctx.require("pinpad", "camera", "face", "client", "store")
    identity = deps.identity
    if identity is None or identity.source not in (IdentitySource.ID_CARD, IdentitySource.E_CARD):
        ctx.fail("needs_id_card", ctx.guidance(L.NEEDS_ID_CARD, L.NEEDS_ID_CARD_TODO, (NextStep.HOME,)),
                 step="identify")
    id_number = identity.id_number
    ctx.id_number = id_number
    if identity.source is IdentitySource.ID_CARD:       # an e-card's visit came with its redemption
        ctx.begin_visit("id_card", id_number, identity.name)
    from kiosk.flows.pin_reset import require_person_with_phone

    summary = require_person_with_phone(ctx, id_number)
    lost = is_lost(ctx, id_number, summary)
    ctx.step("loss_action", 1, L.SERVICE_TITLE, L.QUESTION)
    action = ctx.ask("loss_action", L.QUESTION, [
        Choice("report", L.REPORT, enabled=not lost, note=L.ALREADY_LOST_NOTE if lost else L.REPORT_NOTE),
        Choice("cancel", L.CANCEL, enabled=lost, note="" if lost else L.NOT_LOST_NOTE)])
    consent = ctx.consent(2)
    decision = ctx.face_check(3, ctx.reference_template(id_number), consent)
    client = deps.client
    ctx.sms_code(4, send=lambda: sms_from_backend(client.request_sms("card_loss", id_number=id_number)),
                 check=lambda key, code: sms_check_from_backend(client.verify_sms(key, code)))
    report = action == "report"
    ctx.commit("card_loss", {"id_number": id_number, "action": "report" if report else "cancel",
                             "method": identity.source.value, "checks": ["id_card", "face", "sms"],
                             **face_fields(decision)},
               state={(STATE_NAMESPACE, person_key(id_number)): "reported" if report else "cancelled"})
    title, message = (L.REPORTED_TITLE, L.REPORTED_MESSAGE) if report else (L.CANCELLED_TITLE, L.CANCELLED_MESSAGE)
    ctx.step("loss_done", 5, title, message)
    lines = [ResultLine(M.LABEL_NAME, mask_name(identity.name)) if identity.name else None,
             ResultLine(M.LABEL_ID_NUMBER, mask_id_number(id_number)), ResultLine(L.LABEL_ACTION, title)]
    return ctx.done(title, message, [line for line in lines if line is not None], code=action)


def is_lost(ctx: FlowContext, id_number: str, summary: Any = None) -> bool:
    """This kiosk's own last action wins until the backend has it; otherwise the bureau's state."""
    local = ctx.deps.store.get_state(STATE_NAMESPACE, person_key(id_number)) if ctx.deps.store else None
    if local == "reported":
        return True
    if summary is None and ctx.deps.client is not None:
        from kiosk.backend_client import PersonSummary

        answer = ctx.deps.client.person_summary(id_number)
        summary = answer if isinstance(answer, PersonSummary) else None
    bureau_lost = summary is not None and summary.data.get("card_state") == LOST
    return bureau_lost and local != "cancelled"


# Services that read a lost card on purpose: card status shows the holder the lost state (after
# the PIN) with what to do; every other service refuses the card.
SHOWS_LOST_STATE = frozenset({"card_status"})


def lost_card_check(ctx: FlowContext, id_number: str) -> None:
    """Refuse a card reported lost, with what to do (every card read calls it)."""
    if ctx.service in SHOWS_LOST_STATE:
        return
    if is_lost(ctx, id_number):
        ctx.fail("card_reported_lost", ctx.guidance(L.CARD_LOST, L.CARD_LOST_TODO, (NextStep.ANOTHER_CARD,
                                                                                      NextStep.COUNTER)),
                 step="read_card")
