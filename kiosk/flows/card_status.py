"""Service 1, card status: read the card -> PIN -> name (masked), masked ID, card number, dates,
state (normal, initial PIN, PIN locked, expired, reported lost) and the tries left. A card still on
its initial PIN may only be queried and is led straight to the PIN change. An e-card visit (no card)
gets the bureau's record instead (kiosk/flows/ecard_visit.py)."""

from __future__ import annotations

from typing import Any

from drivers.smartcard.api import CardInfo, CardOutcome
from kiosk.flows.base import Choice, ResultLine
from kiosk.flows.common import FlowContext, FlowOutcome, service_flow
from kiosk.flows.ecard_visit import account_status, ecard_identity
from kiosk.flows.pin_steps import change_pin_steps, verify_pin
from kiosk.messages import card as card_messages
from kiosk.messages import flows as M
from kiosk.privacy import mask_id_number, mask_name

SERVICE = "card_status"


@service_flow(SERVICE, 3)
def card_status(ctx: FlowContext) -> FlowOutcome:
    identity = ecard_identity(ctx)
    if identity is not None:            # no card in this visit: the bureau's record, chip not read
        return account_status(ctx, identity)
    ctx.require("card", "pinpad", "store")
    info = ctx.read_card(1)
    verified = verify_pin(ctx, 2, "pin", M.PIN_TITLE, M.PIN_INSTRUCTION)
    if verified.initial:
        answer = ctx.ask("initial_pin", M.INITIAL_PIN_QUESTION,
                         [Choice("change", M.CHANGE_PIN_NOW), Choice("status_only", M.ONLY_SHOW_STATUS,
                                                                      note=M.ONLY_SHOW_STATUS_NOTE)])
        if answer == "change":
            assert verified.block is not None
            ctx.total = 5
            return change_pin_steps(ctx, verified.block, 3, from_initial=True)
    bureau_state = _bureau_card_state(ctx)
    state = _state(ctx, info, verified.initial, verified.blocked, bureau_state)
    tries = 0 if verified.blocked else verified.tries_left
    ctx.commit("card_status", {"id_number": ctx.id_number, "state": state, "pin_verified": not verified.blocked})
    ctx.step("status", 3, M.STATUS_TITLE, M.STATUS_INSTRUCTION)
    lines = [ResultLine(M.LABEL_NAME, mask_name(info.holder.name)),
             ResultLine(M.LABEL_ID_NUMBER, mask_id_number(info.holder.ssn)),
             ResultLine(M.LABEL_CARD_NUMBER, info.issuer.card_number),
             ResultLine(M.LABEL_ISSUED, info.issuer.issue_date.isoformat()),
             ResultLine(M.LABEL_EXPIRES, info.issuer.expiry_date.isoformat()),
             ResultLine(M.LABEL_STATE, M.CARD_STATE[state]),
             ResultLine(M.LABEL_TRIES_LEFT, "" if tries is None else str(tries))]
    if bureau_state is None:
        lines.append(ResultLine(M.LABEL_BUREAU, M.BUREAU_NOT_CHECKED))
    message = card_messages.OUTCOME[CardOutcome.BLOCKED] if state == "pin_locked" else M.STATE_MESSAGE[state]
    return ctx.done(M.STATUS_TITLE, message, lines, ok=state == "normal", code=state)


def _bureau_card_state(ctx: FlowContext) -> str | None:
    """The bureau's view (reported lost) when online; None when it could not be asked."""
    from kiosk.backend_client import PersonSummary

    if ctx.deps.client is None or ctx.id_number is None:
        return None
    answer: Any = ctx.deps.client.person_summary(ctx.id_number)
    ctx.token.check()
    if isinstance(answer, PersonSummary):
        return str(answer.data.get("card_state") or "normal")
    return "unknown" if type(answer).__name__ == "NotFound" else None


def _state(ctx: FlowContext, info: CardInfo, initial: bool, blocked: bool, bureau: str | None) -> str:
    if bureau == "reported_lost":
        return "reported_lost"
    if blocked:
        return "pin_locked"
    if info.issuer.expiry_date < ctx.deps.today():
        return "expired"
    if initial:
        return "initial_pin"
    return "normal"
