"""Service 5, real-name registration for the bureau's unified online platform (DOMAIN.md, 001).

Name and ID number from the card (in an e-card visit: the signed-in identity) -> choose a cooperating bank (one not yet connected is shown
disabled with its note) -> the notice that bank data only verifies identity -> bank card number and
the phone reserved at that bank, typed on the pad -> the bank verifies -> SMS code to that phone ->
account created -> record. The card's own bank account is never linked: only the card the citizen
types is used, and only to verify identity. A mismatch leads to the four next steps (check the
data, another cooperating bank's card, update at the bank counter, call 12333).
"""

from __future__ import annotations

from typing import Any

from kiosk.config.schema import Bank
from kiosk.flows.base import Choice, NextStep, ResultLine
from kiosk.flows.common import FlowContext, FlowOutcome, FlowStop, SmsCheck, SmsSent, service_flow
from kiosk.flows.ecard_visit import ecard_identity
from kiosk.i18n import language
from kiosk.identity import IdentitySource
from kiosk.messages import flows as M
from kiosk.privacy import mask_id_number, mask_name

SERVICE = "real_name"


def bank_name(bank: Bank) -> str:
    return bank.name_zh if language() == "zh_CN" else bank.name_en


def bank_choices(banks: list[Bank]) -> list[Choice]:
    zh = language() == "zh_CN"
    return [Choice(b.code, bank_name(b), enabled=b.connected,
                   note="" if b.connected else (b.note_zh if zh else b.note_en)) for b in banks]


@service_flow(SERVICE, 6)
def real_name(ctx: FlowContext) -> FlowOutcome:
    deps = ctx.deps
    identity = ecard_identity(ctx)
    ctx.require(*(("pinpad", "client", "store") if identity is not None else ("card", "pinpad", "client", "store")))
    if not deps.config.banks:
        ctx.fail("no_banks", ctx.guidance(M.SERVICE_NOT_AVAILABLE, M.USE_ANOTHER_KIOSK, (NextStep.COUNTER, NextStep.HOME)),
                 step="start")
    name: str | None
    if identity is not None:
        # An e-card visit: the signed-in identity, not a card read. The kiosk knows only the masked
        # name; the backend asks the bank with its own record of the visit's person (name=None).
        name, id_number, shown_name = None, identity.id_number, identity.name
    else:
        info = ctx.read_card(1)
        name, id_number = info.holder.name, info.holder.ssn
        shown_name = name
    bank = _choose_bank(ctx)
    _notice(ctx)
    while True:
        card_number = _typed(ctx, "bank_card", 3, M.BANK_CARD_TITLE, M.BANK_CARD_INSTRUCTION, 12, 19, bank=bank_name(bank))
        phone = _typed(ctx, "phone", 4, M.PHONE_TITLE, M.PHONE_INSTRUCTION, 11, 11, bank=bank_name(bank))
        ctx.step("bank_verify", 5, M.BANK_VERIFY_TITLE, M.PLEASE_WAIT)
        answer = deps.client.verify_bank(name=name, id_number=id_number, bank_code=bank.code,
                                         card_number=card_number, phone=phone)
        ctx.token.check()
        verified = _bank_answer(ctx, answer, bank)
        if verified == "again":
            continue
        if verified == "another_bank":
            bank = _choose_bank(ctx)
            continue
        break
    verification_id = str(verified["verification_id"])

    def send() -> Any:
        # A new code for the same bank verification (the bank is not asked again).
        from kiosk.backend_client import SmsRequested

        answer = deps.client.request_sms("registration", verification_id=verification_id)
        if isinstance(answer, SmsRequested):
            # register_account answers by the verification, not by the SMS request id.
            return SmsSent(verification_id, answer.phone_masked, answer.resend_after_s, answer.expires_in_s)
        return answer

    def check(key: str, code: bytearray) -> SmsCheck:
        return _register(deps.client.register_account(key, code))

    first = _sms_sent(verified)
    registered = ctx.sms_code(6, send, check, first=first)
    outcome = str(registered.get("outcome") or "created")
    ctx.commit("registration", {"id_number": id_number, "bank_code": bank.code, "outcome": outcome,
                                **({"method": IdentitySource.E_CARD.value} if identity is not None else {})})
    lines = [ResultLine(M.LABEL_NAME, shown_name if "*" in shown_name else mask_name(shown_name)),
             ResultLine(M.LABEL_ID_NUMBER, mask_id_number(id_number)),
             ResultLine(M.LABEL_BANK, bank_name(bank))]
    message = M.ALREADY_REGISTERED if outcome == "already_registered" else M.REGISTERED_MESSAGE
    return ctx.done(M.REGISTERED_TITLE, message, lines, code=outcome)


def _choose_bank(ctx: FlowContext) -> Bank:
    banks = list(ctx.config.banks)
    while True:
        ctx.step("bank", 2, M.BANK_TITLE, M.BANK_INSTRUCTION)
        code = ctx.ask("bank", M.BANK_QUESTION, bank_choices(banks))
        bank = next((b for b in banks if b.code == code), None)
        if bank is not None and bank.connected:
            return bank
        # The screen shows it disabled; a scripted or stale answer still gets the reason.
        choice = ctx.show_error(ctx.guidance(M.BANK_NOT_CONNECTED, M.CHOOSE_ANOTHER_BANK, (NextStep.RETRY, NextStep.HOME),
                                             bank=bank_name(bank) if bank else code))
        if choice is not NextStep.RETRY:
            ctx.fail("bank_not_connected", ctx.guidance(M.BANK_NOT_CONNECTED, M.START_AGAIN, (NextStep.HOME,),
                                                        bank=bank_name(bank) if bank else code), show=False)


def _notice(ctx: FlowContext) -> None:
    answer = ctx.ask("bank_notice", M.BANK_NOTICE, [Choice("agree", M.AGREE), Choice("decline", M.DISAGREE)])
    if answer != "agree":
        ctx.fail("notice_declined", ctx.guidance(M.NOTICE_DECLINED, M.NOTICE_DECLINED_TODO, (NextStep.COUNTER, NextStep.HOME)),
                 step="bank_notice")


def _typed(ctx: FlowContext, kind: str, index: int, title: str, instruction: str, min_len: int, max_len: int,
           **fmt: Any) -> str:
    typed = ctx.enter_plain(kind, index, title, instruction, min_len=min_len, max_len=max_len, **fmt)
    assert typed is not None
    text = typed.decode("ascii")
    typed[:] = bytes(len(typed))
    return text


def _bank_answer(ctx: FlowContext, answer: Any, bank: Bank) -> Any:
    """The verification data on success; "again" / "another_bank" when the citizen retries."""
    from kiosk.backend_client import BankVerification, ServiceUnavailable

    if isinstance(answer, ServiceUnavailable):
        ctx.fail_backend_down()
    if not isinstance(answer, BankVerification):
        ctx.fail("bank_refused", ctx.guidance(M.BANK_REFUSED, M.BANK_MISMATCH_TODO, (NextStep.COUNTER, NextStep.HOME)))
    data = answer.data
    outcome = str(data.get("outcome"))
    if outcome == "ok":
        return data
    if outcome == "bank_not_connected":
        what, todo = M.BANK_NOT_CONNECTED, M.CHOOSE_ANOTHER_BANK
        actions: tuple[NextStep, ...] = (NextStep.ANOTHER_CARD, NextStep.HOME)
    elif outcome == "credit_card":
        what, todo, actions = M.CREDIT_CARD, M.USE_DEBIT_CARD, (NextStep.RETRY, NextStep.ANOTHER_CARD, NextStep.HOME)
    else:   # mismatch, phone_mismatch: the bank's record differs
        what, todo = M.BANK_MISMATCH, M.BANK_MISMATCH_TODO
        actions = (NextStep.RETRY, NextStep.ANOTHER_CARD, NextStep.COUNTER, NextStep.CALL_HOTLINE)
    guidance = ctx.guidance(what, todo, actions, bank=bank_name(bank))
    ctx.commit("attempt_failed", ctx.failure_payload("bank_verify", f"bank_{outcome}", what, bank_code=bank.code))
    if ctx.failures.fail("bank"):
        ctx.fail("bank_failed", ctx.guidance(what, M.BANK_MISMATCH_TODO,
                                             (NextStep.COUNTER, NextStep.CALL_HOTLINE, NextStep.HOME), bank=bank_name(bank)),
                 step="bank_verify", record=lambda: ctx.record_ids[-1])
    choice = ctx.show_error(guidance)
    if choice is NextStep.RETRY:
        return "again"
    if choice is NextStep.ANOTHER_CARD:
        return "another_bank"
    raise FlowStop(FlowOutcome(ctx.service, False, f"bank_{outcome}", tuple(ctx.record_ids), choice))


def _sms_sent(data: dict[str, Any]) -> SmsSent:
    sms = data.get("sms") or {}
    return SmsSent(str(data["verification_id"]), str(sms.get("phone_masked", "")),
                   int(sms.get("resend_after_s", 60)), int(sms.get("expires_in_s", 300)))


def _register(answer: Any) -> SmsCheck:
    from kiosk.backend_client import NotFound, Registration, Rejected

    if isinstance(answer, Registration):
        data = answer.data
        if data.get("ok"):
            return SmsCheck("ok", value=data)
        return SmsCheck(str(data.get("outcome") or "wrong_code"), int(data.get("attempts_left") or 0))
    if isinstance(answer, Rejected) and answer.status == 410:
        return SmsCheck("expired")
    if isinstance(answer, (Rejected, NotFound)):
        return SmsCheck("unknown_request")
    return SmsCheck("unavailable")
