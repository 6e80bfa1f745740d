"""PIN steps shared by card status and PIN change: the old PIN with the card's tries counter, and
the change itself (new PIN twice, weak-PIN policy inside the card call, record, result)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NoReturn

from drivers.smartcard.api import CardOutcome, PinBlockInput
from kiosk.flows.base import Choice, NextStep
from kiosk.flows.common import FlowContext, FlowOutcome, policy_check
from kiosk.flows.reconcile import note_unknown, write_unknown
from kiosk.messages import card as card_messages
from kiosk.messages import flows as M


@dataclass(frozen=True)
class Verified:
    block: bytes | None          # the old PIN's encrypted block (None when the PIN is locked)
    initial: bool = False        # right, but still the region's initial PIN
    blocked: bool = False        # the PIN is locked (before or during this visit)
    tries_left: int | None = None


def tries_left(ctx: FlowContext) -> tuple[int | None, bool]:
    """The card's own counter: (tries left or None, locked)."""
    completion = ctx.card_command(ctx.deps.card.pin_tries_left())
    if not completion.ok or completion.result is None:
        ctx.fail_card(completion, "pin_tries")
    result = completion.result
    if result.outcome is CardOutcome.BLOCKED:
        return 0, True
    return result.tries_left, False


def verify_pin(ctx: FlowContext, index: int, key: str, title: str, instruction: str) -> Verified:
    """Ask the PIN until the card accepts it; each wrong PIN is recorded and shows the tries left;
    before the LAST try is spent the citizen is warned and asked to confirm."""
    left, blocked = tries_left(ctx)
    start_tries = left
    if blocked:
        return Verified(None, blocked=True, tries_left=0)
    while True:
        if left == 1:
            answer = ctx.ask("last_try", M.LAST_TRY_WARNING, [Choice("continue", M.LAST_TRY_CONTINUE),
                                                              Choice("stop", M.LAST_TRY_STOP, note=M.LAST_TRY_STOP_NOTE)])
            if answer != "continue":
                ctx.fail("last_try_declined", ctx.guidance(M.LAST_TRY_DECLINED, M.USE_RESET_OR_COUNTER,
                                                           (NextStep.COUNTER, NextStep.HOME)), step=key)
        block = ctx.enter_pin(key, index, title, instruction, tries_left=left)
        completion = ctx.card_command(ctx.deps.card.verify_pin(PinBlockInput(block)))
        if not completion.ok or completion.result is None:
            ctx.fail_card(completion, key)
        result = completion.result
        if result.outcome in (CardOutcome.OK, CardOutcome.INITIAL_PIN_NOT_ALLOWED):
            return Verified(block, initial=result.outcome is CardOutcome.INITIAL_PIN_NOT_ALLOWED,
                            tries_left=start_tries)
        if result.outcome is CardOutcome.BLOCKED or (result.outcome is CardOutcome.WRONG_PIN and result.tries_left == 0):
            ctx.commit("attempt_failed", ctx.failure_payload(key, "wrong_pin_locked", card_messages.OUTCOME[CardOutcome.BLOCKED],
                                                             tries_left=0))
            return Verified(None, blocked=True, tries_left=0)
        if result.outcome is CardOutcome.WRONG_PIN:
            left = result.tries_left
            ctx.offer_retry("wrong_pin", ctx.guidance(card_messages.TRIES_LEFT, M.WRONG_PIN_TODO,
                                                      (NextStep.RETRY, NextStep.HOME), n=left), step=key, tries_left=left)
            continue
        ctx.fail_card(completion, key)


def fail_locked(ctx: FlowContext, step: str) -> NoReturn:
    ctx.fail("pin_locked", ctx.guidance(card_messages.OUTCOME[CardOutcome.BLOCKED], M.USE_RESET_OR_COUNTER,
                                        (NextStep.COUNTER, NextStep.HOME)), step=step, show=True)


def change_pin_steps(ctx: FlowContext, old_block: bytes, index: int, *, from_initial: bool) -> FlowOutcome:
    """New PIN (refused at once when weak) twice -> change on the card with the policy inside the card
    call again -> record -> result."""
    check = policy_check(ctx.pin_policy(phone_check=ctx.phone_suffix_check()))
    while True:
        new_block = ctx.new_pin_twice(index, check, old_block)
        ctx.step("changing", index + 2, M.CHANGING_TITLE, M.KEEP_CARD_IN)
        completion = ctx.card_write(ctx.deps.card.change_pin(PinBlockInput(old_block), PinBlockInput(new_block),
                                                             new_pin_check=check))
        result = completion.result
        if completion.ok and result is not None and result.ok:
            # The card holds the new PIN: record it before anything else (the visit may be ending).
            ctx.commit("pin_change", {"id_number": ctx.id_number, "from_initial": from_initial})
            return ctx.done(M.PIN_CHANGED_TITLE, M.PIN_CHANGED_MESSAGE)
        if write_unknown(completion):    # the card may have acted: settled when it comes back
            note_unknown(ctx, "pin_change", completion, {"id_number": ctx.id_number, "from_initial": from_initial},
                         new_block=new_block, old_block=old_block)
        ctx.check_removed_after_write(completion)
        ctx.token.check()
        if ctx.new_pin_refused(result):
            continue
        if result is not None and result.outcome is CardOutcome.BLOCKED:
            fail_locked(ctx, "changing")
        ctx.fail_card(completion, "changing")
