"""A PIN write whose answer was lost: "outcome unknown", then reconciled on the card's next read.

A card pulled (or a reader gone silent) after the kiosk sent CHANGE PIN, RESET or UNBLOCK may or
may not have acted: the card can apply the command and lose only its answer. The flow then
commits an ``outcome_unknown`` record and notes the write here (in memory only, for
:data:`KEEP_S`). The next time that card is read at this kiosk, before anything else, the kiosk
asks the card itself and commits ``outcome_reconciled`` (and, when the card did act, the
operation's own record, marked ``reconciled``), and tells the person plainly what happened:

- UNBLOCK: offered only for a locked PIN, so the tries counter decides (full again = done;
  still locked = not done).
- RESET: when the counter was below its maximum before, a full counter means done. Otherwise a
  VERIFY with the new PIN's block decides (right = done); a wrong answer spends one try of the
  PIN that the card still has, and the person is told.
- CHANGE: a VERIFY with the new PIN's block (right = done); if wrong, a VERIFY with the old PIN's
  block, which gives the spent try back (right = not done).

The blocks are the pad's encrypted ISO 9564 blocks (never digits); they are dropped once used or
after :data:`KEEP_S`.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from drivers.smartcard.api import CardOutcome, PinBlockInput, card_outcome
from kiosk.flows.base import Choice
from kiosk.i18n import _
from kiosk.messages import reconcile as R

log = logging.getLogger(__name__)

KEEP_S = 15 * 60.0
# The outcomes after which a write's effect on the card is unknown (the command may have reached it).
# NO_CARD is not among them: the card was already out when the command began, nothing was sent.
UNKNOWN_AFTER = frozenset({CardOutcome.CARD_REMOVED, CardOutcome.CARD_MUTE, CardOutcome.READER_GONE,
                           CardOutcome.SERVICE_DOWN})


@dataclass
class PendingWrite:
    op: str                                  # "pin_change" / "pin_reset" / "pin_unblock"
    card_number: str
    id_number: str | None
    record_id: str                           # the outcome_unknown record
    payload: dict[str, Any]                  # the operation's record payload, if it did happen
    tries_before: int | None = None
    max_tries: int = 3
    new_block: bytes | None = None
    old_block: bytes | None = None
    at: float = field(default_factory=time.monotonic)


class PendingWrites:
    """The writes waiting for their card, by card number and holder (one kiosk process)."""

    def __init__(self) -> None:
        self._items: dict[tuple[str, str | None], PendingWrite] = {}
        self._lock = threading.Lock()

    def add(self, pending: PendingWrite) -> None:
        with self._lock:
            self._items[(pending.card_number, pending.id_number)] = pending

    def take(self, card_number: str, id_number: str | None) -> PendingWrite | None:
        with self._lock:
            pending = self._items.pop((card_number, id_number), None)
            for key in [k for k, p in self._items.items() if time.monotonic() - p.at > KEEP_S]:
                del self._items[key]
        if pending is not None and time.monotonic() - pending.at > KEEP_S:
            return None
        return pending

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


PENDING = PendingWrites()


def write_unknown(completion: Any) -> bool:
    """Whether a write's completion leaves its effect on the card unknown."""
    return completion.code.value == "timeOut" or (not completion.ok and card_outcome(completion) in UNKNOWN_AFTER)


def note_unknown(ctx: Any, op: str, completion: Any, payload: dict[str, Any], *, tries_before: int | None = None,
                 new_block: bytes | None = None, old_block: bytes | None = None) -> None:
    """Record "outcome unknown" for a write whose answer was lost, and keep it for the card's return."""
    reason = "card_timeout" if completion.code.value == "timeOut" else f"card_{card_outcome(completion).value}"
    record_id = ctx.commit("outcome_unknown", {"service": ctx.service, "operation": op, "reason": reason,
                                               **({"id_number": ctx.id_number} if ctx.id_number else {})})
    PENDING.add(PendingWrite(op, ctx.card_number, ctx.id_number, record_id, payload, tries_before,
                             ctx.config.smartcard.max_pin_tries, new_block, old_block))
    log.warning("card write outcome unknown; reconciled when the card comes back",
                extra={"service": ctx.service, "operation": op, "reason": reason})


def reconcile_on_read(ctx: Any) -> None:
    """Called right after a card is read: settle a pending write on this card, tell the person."""
    pending = PENDING.take(ctx.card_number, ctx.id_number)
    if pending is None:
        return
    applied, how = _ask_the_card(ctx, pending)
    ctx.commit("outcome_reconciled", {"service": ctx.service, "operation": pending.op, "unknown_record": pending.record_id,
                                      "applied": applied, "by": how,
                                      **({"id_number": ctx.id_number} if ctx.id_number else {})})
    if applied:
        ctx.commit(pending.op, {**pending.payload, "reconciled": True})
    if applied is None:
        message = R.STILL_UNKNOWN
    elif applied:
        message = R.APPLIED_UNBLOCK if pending.op == "pin_unblock" else R.APPLIED
    else:
        message = R.NOT_APPLIED
    log.info("card write reconciled", extra={"service": ctx.service, "operation": pending.op,
                                             "applied": applied, "by": how})
    ctx.ask("write_reconciled", message, [Choice("continue", R.CONTINUE)], operation=_(R.OPERATION[pending.op]))


def _ask_the_card(ctx: Any, pending: PendingWrite) -> tuple[bool | None, str]:
    """(did the card act, how we know); None when the card does not say."""
    card = ctx.deps.card
    tries = ctx.card_command(card.pin_tries_left())
    result = tries.result if tries.ok else None
    if result is None:
        return None, "tries_counter_unreadable"
    blocked = result.outcome is CardOutcome.BLOCKED
    full = not blocked and result.tries_left is not None and result.tries_left >= pending.max_tries
    if pending.op == "pin_unblock":
        return (not blocked), "tries_counter"
    if pending.op == "pin_reset" and pending.tries_before is not None and pending.tries_before < pending.max_tries:
        return full, "tries_counter"
    if blocked or pending.new_block is None:
        return (False, "tries_counter") if blocked and pending.op == "pin_change" else (None, "tries_counter")
    new = ctx.card_command(card.verify_pin(PinBlockInput(pending.new_block)))
    pending.new_block = None
    new_outcome = card_outcome(new)
    if new_outcome in (CardOutcome.OK, CardOutcome.INITIAL_PIN_NOT_ALLOWED):
        return True, "verify_new_pin"
    if new_outcome is not CardOutcome.WRONG_PIN:
        return None, "verify_new_pin"
    if pending.old_block is not None:
        old = ctx.card_command(card.verify_pin(PinBlockInput(pending.old_block)))
        pending.old_block = None
        if card_outcome(old) in (CardOutcome.OK, CardOutcome.INITIAL_PIN_NOT_ALLOWED):
            return False, "verify_old_pin"
    return False, "verify_new_pin"
