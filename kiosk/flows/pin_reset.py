"""Service 3, walk-in PIN reset and unlock (forgotten PIN, or a card locked by wrong PINs).

Card (no PIN) -> reset or unlock (unlock only for a locked card whose holder remembers the PIN) ->
the bureau knows the person and a bound phone -> consent -> face liveness + 1:1 match with the
enrolled template -> SMS code to the bound phone, typed on the pad -> new PIN twice + policy ->
reload (or unblock) through the PSAM -> record. Every identity check comes before the card is
touched, in straight-line code: there is no path to the reload that skips one. The backend
unreachable at any point sends the person to the counter.
"""

from __future__ import annotations

from typing import Any

from drivers.smartcard.api import PinBlockInput
from kiosk.flows.base import Choice
from kiosk.flows.common import (
    FlowContext,
    FlowOutcome,
    face_fields,
    policy_check,
    service_flow,
    sms_check_from_backend,
    sms_from_backend,
)
from kiosk.flows.pin_steps import tries_left
from kiosk.flows.reconcile import note_unknown, write_unknown
from kiosk.messages import flows as M
from kiosk.pin_policy import PhoneSuffixCheck

SERVICE = "pin_reset"


@service_flow(SERVICE, 7)
def pin_reset(ctx: FlowContext) -> FlowOutcome:
    deps = ctx.deps
    ctx.require("card", "pinpad", "camera", "face", "client", "store")
    ctx.read_card(1)
    left, blocked = tries_left(ctx)
    mode = _choose_mode(ctx, blocked)
    ctx.total = 5 if mode == "unlock" else 7
    id_number = ctx.id_number
    assert id_number is not None
    phone_check = ctx.phone_suffix_check(require_person_with_phone(ctx, id_number))
    consent = ctx.consent(2)
    decision = ctx.face_check(3, ctx.reference_template(id_number), consent)
    client = deps.client
    purpose = "pin_unblock" if mode == "unlock" else "pin_reset"
    ctx.sms_code(4, send=lambda: sms_from_backend(client.request_sms(purpose, id_number=id_number)),
                 check=lambda key, code: sms_check_from_backend(client.verify_sms(key, code)))
    checks = {"checks": ["face", "sms"], **face_fields(decision)}
    if mode == "unlock":
        return _unlock(ctx, checks)
    return _reset(ctx, checks, phone_check, left)


def _choose_mode(ctx: FlowContext, blocked: bool) -> str:
    """Reset (new PIN) for a forgotten PIN; unlock (same PIN, tries restored) for a locked card whose
    holder remembers the PIN, as the bureau's pages offer both."""
    answer = ctx.ask("reset_or_unlock", M.RESET_OR_UNLOCK, [
        Choice("reset", M.CHOICE_RESET, note=M.CHOICE_RESET_NOTE),
        Choice("unlock", M.CHOICE_UNLOCK, enabled=blocked, note=M.CHOICE_UNLOCK_NOTE if blocked else M.NOT_LOCKED_NOTE)])
    return "unlock" if answer == "unlock" and blocked else "reset"


def require_person_with_phone(ctx: FlowContext, id_number: str) -> Any:
    """The person summary (a PersonSummary of a person with a bound phone), or the flow ends."""
    from kiosk.backend_client import NotFound, PersonSummary, ServiceUnavailable

    answer: Any = ctx.deps.client.person_summary(id_number)
    ctx.token.check()
    if isinstance(answer, ServiceUnavailable):
        ctx.fail_backend_down()
    if isinstance(answer, NotFound):
        ctx.fail("unknown_person", ctx.counter_guidance(M.UNKNOWN_PERSON))
    if not isinstance(answer, PersonSummary):
        ctx.fail("backend_refused", ctx.counter_guidance(M.SMS_REFUSED))
    if not answer.data.get("has_phone"):
        ctx.fail("no_bound_phone", ctx.counter_guidance(M.NO_BOUND_PHONE))
    return answer


def _reset(ctx: FlowContext, checks: dict[str, Any], phone_check: PhoneSuffixCheck | None,
           tries_before: int | None) -> FlowOutcome:
    check = policy_check(ctx.pin_policy(phone_check=phone_check))
    while True:
        new_block = ctx.new_pin_twice(5, check)
        ctx.step("resetting", 7, M.RESETTING_TITLE, M.KEEP_CARD_IN)
        completion = ctx.card_write(ctx.deps.card.reload_pin(PinBlockInput(new_block), new_pin_check=check))
        result = completion.result
        if completion.ok and result is not None and result.ok:
            ctx.commit("pin_reset", {"id_number": ctx.id_number, **checks})
            return ctx.done(M.PIN_RESET_TITLE, M.PIN_RESET_MESSAGE)
        if write_unknown(completion):    # the card may have acted: settled when it comes back
            note_unknown(ctx, "pin_reset", completion, {"id_number": ctx.id_number, **checks},
                         tries_before=tries_before, new_block=new_block)
        ctx.check_removed_after_write(completion)
        ctx.token.check()
        if ctx.new_pin_refused(result):
            continue
        ctx.fail_card(completion, "resetting")


def _unlock(ctx: FlowContext, checks: dict[str, Any]) -> FlowOutcome:
    ctx.step("unlocking", 5, M.UNLOCKING_TITLE, M.KEEP_CARD_IN)
    completion = ctx.card_write(ctx.deps.card.unblock_pin())
    result = completion.result
    if completion.ok and result is not None and result.ok:
        ctx.commit("pin_unblock", {"id_number": ctx.id_number, **checks})
        return ctx.done(M.PIN_UNLOCKED_TITLE, M.PIN_UNLOCKED_MESSAGE)
    if write_unknown(completion):
        note_unknown(ctx, "pin_unblock", completion, {"id_number": ctx.id_number, **checks}, tries_before=0)
    ctx.check_removed_after_write(completion)
    ctx.token.check()
    ctx.fail_card(completion, "unlocking")

