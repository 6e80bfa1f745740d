"""The e-card PIN (电子社保卡密码) on screen: set (first use), change, reset when forgotten.

The PIN belongs to the e-card platform (backend/ecard_pin.py), not to the card: the kiosk only
moves pad-encrypted blocks. Per operation the platform hands out a working key wrapped under this
kiosk's e-card master key (loaded into the pad by the key ceremony); the pad encrypts each entry
under it with the citizen's ID number as PAN; the platform's one audited function decrypts, runs
the card PIN's weak-PIN policy (kiosk/pin_policy.py) and keeps a slow hash. Wrong old PINs count
toward the platform's lock; a reset needs the walk-in reset's face check (liveness + 1:1 match)
and SMS code to the bound phone (the same FlowContext steps), proven to the platform.

Who: the e-card visit's citizen, or the card holder read from the card in a card visit.
"""

from __future__ import annotations

import dataclasses
import hmac
import logging
from typing import Any, NoReturn

from kiosk.backend_client import EcardPinDone, EcardPinSession, NotFound, Rejected, ServiceUnavailable
from kiosk.flows.base import Choice, NextStep, ResultLine
from kiosk.flows.common import (
    FlowContext,
    FlowOutcome,
    face_fields,
    service_flow,
    sms_check_from_backend,
    sms_from_backend,
    weak_rule_message,
)
from kiosk.flows.ecard_visit import ecard_identity
from kiosk.identity import IdentitySource
from kiosk.messages import ecard_pin as EP
from kiosk.messages import flows as M
from kiosk.pin_policy import RULE_MESSAGES, WeakPinRule

log = logging.getLogger(__name__)

SERVICE = "ecard_pin"
PAD_KEY = "ecard"                  # the pad's working-key name under the e-card master key
RECORD_TYPE = "ecard_pin"
SMS_PURPOSE = "ecard_pin_reset"
# Refusals at the start of an operation that send the citizen back to the choice, with what to pick.
_CHOOSE_AGAIN = {
    "pin_already_set": (EP.ALREADY_SET, EP.ALREADY_SET_TODO),
    "pin_not_set": (EP.NOT_SET, EP.NOT_SET_TODO),
    "pin_locked": (EP.LOCKED, EP.LOCKED_TODO),
}


class _ChooseAgain(Exception):
    """Back to the set / change / reset question (the citizen touched Try again)."""


@service_flow(SERVICE, 5)
def ecard_pin(ctx: FlowContext) -> FlowOutcome:
    ctx.require("pinpad", "client", "store")
    if ctx.config.pinpad.pin_block_format != "iso0":
        # The platform decodes format-0 blocks (PAN-bound); equal blocks also prove equal entries.
        log.error("e-card PIN needs pin_block_format iso0", extra={"service": SERVICE})
        _not_ready(ctx, "pin_block_format")
    id_number, method = _citizen(ctx)
    while True:
        mode = ctx.ask("ecard_pin_mode", EP.CHOOSE, [
            Choice("set", EP.CHOICE_SET, note=EP.CHOICE_SET_NOTE),
            Choice("change", EP.CHOICE_CHANGE, note=EP.CHOICE_CHANGE_NOTE),
            Choice("reset", EP.CHOICE_RESET, note=EP.CHOICE_RESET_NOTE)])
        try:
            if mode == "reset":
                return _reset(ctx, id_number, method)
            return _set_or_change(ctx, id_number, method, "change" if mode == "change" else "set")
        except _ChooseAgain:
            continue


def _citizen(ctx: FlowContext) -> tuple[str, str]:
    """(ID number, how the visit was identified): the e-card sign-in, else the card in the reader."""
    identity = ecard_identity(ctx)
    if identity is not None:
        return identity.id_number, identity.source.value
    ctx.require("card")
    ctx.read_card(1)
    assert ctx.id_number is not None
    return ctx.id_number, IdentitySource.SOCIAL_SECURITY_CARD.value


# -- the platform's answers -------------------------------------------------------------------------

def _not_ready(ctx: FlowContext, reason: str) -> NoReturn:
    ctx.fail(f"ecard_pin_{reason}", ctx.guidance(EP.NOT_READY, M.USE_ANOTHER_KIOSK, (NextStep.COUNTER, NextStep.HOME)))


def _backend_down(ctx: FlowContext) -> NoReturn:
    ctx.fail("backend_unavailable", ctx.guidance(M.BACKEND_DOWN, EP.DOWN_TODO, (NextStep.COUNTER, NextStep.HOME)))


def _choose_again(ctx: FlowContext, reason: str, what: str, todo: str, **extra: Any) -> NoReturn:
    """Record why, say what to choose instead; Try again goes back to the choice."""
    ctx.offer_retry(reason, ctx.guidance(what, todo, (NextStep.RETRY, NextStep.COUNTER, NextStep.HOME)),
                    step=ctx.current_step or "ecard_pin_mode", **extra)
    raise _ChooseAgain(reason)


def _open(ctx: FlowContext, id_number: str, purpose: str) -> EcardPinSession:
    """A working key for one operation from the platform, loaded into the pad and KCV-checked."""
    answer: Any = ctx.deps.client.ecard_pin_session(id_number, purpose)
    ctx.token.check()
    if isinstance(answer, ServiceUnavailable):
        _backend_down(ctx)
    if isinstance(answer, NotFound):
        ctx.fail("no_ecard", ctx.guidance(EP.NO_ECARD, EP.NO_ECARD_TODO, (NextStep.COUNTER, NextStep.HOME)))
    if isinstance(answer, Rejected):
        if answer.error in _CHOOSE_AGAIN:
            _choose_again(ctx, answer.error, *_CHOOSE_AGAIN[answer.error])
        log.error("e-card PIN session refused", extra={"service": SERVICE, "error": answer.error})
        _not_ready(ctx, answer.error)
    assert isinstance(answer, EcardPinSession)
    loaded = ctx.await_(ctx.deps.pinpad.load_work_key(PAD_KEY, answer.wrapped_key, answer.kcv))
    if not loaded.ok:
        # No e-card master key in the pad (no ceremony), or it differs from the platform's.
        log.error("e-card PIN working key refused by the pad", extra={"service": SERVICE,
                                                                      "error": loaded.error_code or loaded.code})
        _not_ready(ctx, "pad_key")
    return answer


def _enter(ctx: FlowContext, session: EcardPinSession, key: str, index: int, title: str, instruction: str,
           **kw: Any) -> bytes:
    return ctx.enter_pin(key, index, title, instruction, pan=session.pan, key_name=PAD_KEY, pin_title=EP.PAD_TITLE,
                         **kw)


def _new_twice(ctx: FlowContext, session: EcardPinSession, index: int) -> tuple[bytes, bytes]:
    """The new e-card PIN twice. Format-0 blocks are deterministic per key and PAN, so equal blocks
    mean equal PINs: a slip is caught here without spending the platform's session."""
    while True:
        first = _enter(ctx, session, "ecard_new_pin", index, EP.NEW_TITLE, EP.NEW_INSTRUCTION)
        second = _enter(ctx, session, "ecard_new_pin_again", index + 1, EP.NEW_AGAIN_TITLE, EP.NEW_AGAIN_INSTRUCTION)
        if len(first) == len(second) and hmac.compare_digest(first, second):
            return first, second
        what = RULE_MESSAGES[WeakPinRule.MISMATCH]
        choice = ctx.show_error(ctx.guidance(what, EP.CHOOSE_AGAIN_TODO, (NextStep.RETRY, NextStep.HOME)))
        if choice is not NextStep.RETRY:
            ctx.fail("pin_mismatch", ctx.guidance(what, M.START_AGAIN, (NextStep.HOME,)), step="ecard_new_pin_again",
                     show=False)


def _submit(ctx: FlowContext, session: EcardPinSession, blocks: dict[str, bytes], index: int,
            **proof: Any) -> EcardPinDone | Rejected:
    ctx.step("ecard_pin_saving", index, EP.SAVING_TITLE, EP.SAVING_INSTRUCTION)
    answer: Any = ctx.deps.client.ecard_pin_submit(session.session_id, blocks, **proof)
    if isinstance(answer, ServiceUnavailable):
        # The request may have reached the platform: say so, do not claim nothing changed.
        ctx.fail("backend_unavailable", ctx.guidance(EP.UNCERTAIN, EP.UNCERTAIN_TODO,
                                                     (NextStep.COUNTER, NextStep.HOME)))
    if isinstance(answer, NotFound):
        _not_ready(ctx, answer.error)
    return answer


def _weak_retry(ctx: FlowContext, answer: Rejected) -> None:
    """The platform refused the new PIN by the policy (the rule named): choose another, or leave."""
    rule = str(answer.details.get("rule", ""))
    what = weak_rule_message(rule)
    ctx.offer_retry("weak_pin", ctx.guidance(what, EP.CHOOSE_AGAIN_TODO, (NextStep.RETRY, NextStep.HOME)),
                    step="ecard_new_pin", rule=rule)


def _session_over(ctx: FlowContext) -> None:
    """The platform's PIN session (5 minutes, one submission) ended before the PINs arrived: nothing
    changed; Try again opens a fresh session and asks for the PINs again."""
    ctx.offer_retry("session_over", ctx.guidance(EP.SESSION_OVER, EP.SESSION_OVER_TODO, (NextStep.RETRY, NextStep.HOME)),
                    step="ecard_pin_saving")


def _retry_or_stop(ctx: FlowContext, answer: Rejected, what: str) -> None:
    """The refusals every submission can meet: a weak new PIN and an expired session return for
    another try (after the person chose Try again); anything else stops, pointing to the counter."""
    if answer.error == "weak_pin":
        _weak_retry(ctx, answer)
    elif answer.error == "session_over":
        _session_over(ctx)
    else:
        log.error(what, extra={"service": SERVICE, "error": answer.error})
        ctx.fail(f"ecard_pin_{answer.error}", ctx.counter_guidance(M.SOMETHING_WENT_WRONG))


def _done(ctx: FlowContext, purpose: str, method: str, done: EcardPinDone, **checks: Any) -> FlowOutcome:
    assert ctx.id_number is not None
    ctx.commit(RECORD_TYPE, {"id_number": ctx.id_number, "purpose": purpose, "method": method,
                             "alert_sent": done.alert_sent, **checks})
    title = {"set": EP.SET_TITLE, "change": EP.CHANGED_TITLE, "reset": EP.RESET_TITLE}[purpose]
    lines = [ResultLine(EP.LABEL_ALERT, EP.ALERT_SENT)] if done.alert_sent else []
    return ctx.done(title, EP.DONE_MESSAGE, lines)


# -- set and change ---------------------------------------------------------------------------------

def _set_or_change(ctx: FlowContext, id_number: str, method: str, purpose: str) -> FlowOutcome:
    tries_left: int | None = None
    while True:
        session = _open(ctx, id_number, purpose)          # a session serves one submission
        blocks: dict[str, bytes] = {}
        if purpose == "change":
            instruction = EP.OLD_TRIES if tries_left is not None else EP.OLD_INSTRUCTION
            blocks["old"] = _enter(ctx, session, "ecard_old_pin", 2, EP.OLD_TITLE, instruction,
                                   tries_left=tries_left, n=tries_left if tries_left is not None else 0)
        blocks["new"], blocks["repeat"] = _new_twice(ctx, session, 3)
        answer = _submit(ctx, session, blocks, 5)
        if isinstance(answer, EcardPinDone):
            return _done(ctx, purpose, method, answer)
        if answer.error == "wrong_pin":
            tries_left = int(answer.details.get("tries_left", 0))
            ctx.offer_retry("wrong_pin", ctx.guidance(EP.WRONG_PIN, EP.WRONG_PIN_TODO, (NextStep.RETRY, NextStep.HOME),
                                                      n=tries_left), step="ecard_old_pin", tries_left=tries_left)
            continue
        if answer.error == "pin_locked":
            _choose_again(ctx, "pin_locked", EP.LOCKED, EP.LOCKED_TODO, tries_left=0)
        _retry_or_stop(ctx, answer, "e-card PIN submission refused")


# -- reset ------------------------------------------------------------------------------------------

def _reset(ctx: FlowContext, id_number: str, method: str) -> FlowOutcome:
    """Face liveness + 1:1 match and the SMS code to the bound phone (the walk-in reset's steps),
    then the new PIN twice; the platform checks the proof with the blocks."""
    from kiosk.flows.pin_reset import require_person_with_phone

    ctx.require("camera", "face")
    ctx.total = 7
    client = ctx.deps.client
    require_person_with_phone(ctx, id_number)
    consent = ctx.consent(2)
    decision = ctx.face_check(3, ctx.reference_template(id_number), consent)

    def check(key: str, code: bytearray) -> Any:
        # The verified request's id is the proof the platform asks for with the blocks.
        return dataclasses.replace(sms_check_from_backend(client.verify_sms(key, code)), value=key)

    request_id = ctx.sms_code(4, send=lambda: sms_from_backend(client.request_sms(SMS_PURPOSE, id_number=id_number)),
                              check=check)
    checks = {"checks": ["face", "sms"], **face_fields(decision)}
    while True:
        session = _open(ctx, id_number, "reset")
        new, repeat = _new_twice(ctx, session, 5)
        answer = _submit(ctx, session, {"new": new, "repeat": repeat}, 7, face_passed=True,
                         sms_request_id=request_id)
        if isinstance(answer, EcardPinDone):
            return _done(ctx, "reset", method, answer, **checks)
        _retry_or_stop(ctx, answer, "e-card PIN reset refused")
