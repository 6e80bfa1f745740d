"""Card status and real-name registration in an e-card visit (issue 11).

An e-card visit has no card in the reader: who the citizen is comes from the platform's redemption
of their code (the backend opened the visit itself, kiosk/ecard/signin.py). Account status then shows
what the social security office records (the person summary: card state as the bureau knows it,
masked name and ID number) and says plainly that the card's chip was not read; real-name
registration verifies the bank card against the signed-in identity instead of the card's holder.
A card visit (or a visit with no identity yet) keeps reading the card.
"""

from __future__ import annotations

import logging
from typing import Any

from drivers.smartcard.api import CardOutcome
from kiosk.flows.base import ResultLine
from kiosk.flows.common import FlowContext, FlowOutcome
from kiosk.identity import IdentitySource, VisitIdentity
from kiosk.messages import card as card_messages
from kiosk.messages import ecard as E
from kiosk.messages import flows as M
from kiosk.privacy import mask_id_number, mask_name

log = logging.getLogger(__name__)


def ecard_identity(ctx: FlowContext) -> VisitIdentity | None:
    """The visit's identity when it was established by the e-card sign-in, else None."""
    identity = ctx.deps.identity
    if identity is not None and identity.source is IdentitySource.E_CARD and identity.id_number:
        ctx.id_number = identity.id_number
        return identity
    return None


def account_status(ctx: FlowContext, identity: VisitIdentity) -> FlowOutcome:
    """The card's state as the bureau records it, from the person summary of the signed-in person."""
    from kiosk.backend_client import NotFound, PersonSummary, ServiceUnavailable

    ctx.require("client", "store")
    ctx.total = 1
    ctx.step("ecard_status_wait", 1, E.ACCOUNT_TITLE, M.PLEASE_WAIT)
    answer: Any = ctx.deps.client.person_summary(identity.id_number)
    ctx.token.check()
    if isinstance(answer, ServiceUnavailable):
        ctx.fail_backend_down()
    if isinstance(answer, NotFound):
        ctx.fail("unknown_person", ctx.counter_guidance(E.UNKNOWN_PERSON))
    if not isinstance(answer, PersonSummary):
        log.error("person summary refused in an e-card visit", extra={"error": getattr(answer, "error", "")})
        ctx.fail("summary_refused", ctx.counter_guidance(M.SOMETHING_WENT_WRONG))
    data = answer.data
    state = str(data.get("card_state") or "normal")
    ctx.commit("card_status", {"id_number": identity.id_number, "state": state, "pin_verified": False,
                               "method": IdentitySource.E_CARD.value, "chip_read": False})
    ctx.step("status", 1, E.ACCOUNT_TITLE, E.ACCOUNT_INSTRUCTION)
    name = str(data.get("name_masked") or "") or (mask_name(identity.name) if identity.name else "")
    lines = [ResultLine(M.LABEL_NAME, name if "*" in name else mask_name(name)) if name else None,
             ResultLine(M.LABEL_ID_NUMBER, mask_id_number(identity.id_number)),
             ResultLine(M.LABEL_STATE, M.CARD_STATE.get(state, E.STATE_ASK_COUNTER)),
             ResultLine(E.LABEL_CHIP, E.CHIP_NOT_READ)]
    if state == "pin_locked":
        message = card_messages.OUTCOME[CardOutcome.BLOCKED]
    else:
        message = M.STATE_MESSAGE.get(state, E.STATE_ASK_COUNTER)
    return ctx.done(E.ACCOUNT_TITLE, message, [line for line in lines if line is not None],
                    ok=state == "normal", code=state)
