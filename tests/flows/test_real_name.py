"""Real-name registration through the bank simulator of the embedded backend: the not-connected bank
shown disabled with its note, the notice, bank card and phone typed on the pad, the SMS code from the
reserved phone, the account created; a mismatch leads to the four next steps."""

from __future__ import annotations

import pytest
from flowhelpers import Kiosk

from kiosk.flows.base import NextStep
from kiosk.messages import flows as M


def account(kiosk: Kiosk, name: str, bank: str = "ICBC") -> tuple[str, str, str]:
    id_number, phone = kiosk.person(name, template=None)
    card_number = f"62220202{id_number[-8:]}000"
    kiosk.seed_bank_account(bank_code=bank, card_number=card_number, name=name, id_number=id_number,
                            phone=phone, kind="debit")
    return id_number, phone, card_number


def test_registration_with_a_connected_bank(kiosk: Kiosk) -> None:
    id_number, phone, card_number = account(kiosk, "唐国平")
    kiosk.insert(id_number, "唐国平")
    p = kiosk.presenter(answers={"bank": "ICBC", "bank_notice": "agree"},
                        entries=[("bank_card", card_number), ("phone", phone), ("sms_code", kiosk.latest_code(phone))])
    outcome = kiosk.run("real_name", p)
    assert outcome is not None and outcome.ok and outcome.code == "created", p.errors
    banks = {k: (enabled, note) for k, enabled, note in p.of_kind("ask")[0].data["options"]}
    assert len(banks) == 12 and sum(enabled for enabled, _ in banks.values()) == 11
    assert banks["GZCB"][0] is False and "正在接入" in banks["GZCB"][1]
    assert p.of_kind("ask")[1].text == M.BANK_NOTICE
    assert p.result.data["lines"][M.LABEL_BANK] == "中国工商银行"
    [record] = kiosk.records_of(outcome)
    assert record["type"] == "registration"
    assert record["payload"] == {"id_number": id_number, "bank_code": "ICBC", "outcome": "created"}
    assert card_number not in str(record) and phone not in str(record)


def test_mismatch_offers_the_four_next_steps_then_another_bank(kiosk: Kiosk) -> None:
    id_number, phone, card_number = account(kiosk, "韩雪梅", bank="CCB")
    kiosk.insert(id_number, "韩雪梅")
    p = kiosk.presenter(answers={"bank": ["ICBC", "CCB"], "bank_notice": "agree"},
                        entries=[("bank_card", card_number), ("phone", phone),         # not an ICBC card
                                 ("bank_card", card_number), ("phone", phone), ("sms_code", kiosk.latest_code(phone))],
                        errors=[NextStep.ANOTHER_CARD])
    outcome = kiosk.run("real_name", p)
    assert outcome is not None and outcome.ok, p.errors
    [mismatch] = p.errors
    assert mismatch.key == M.BANK_MISMATCH and mismatch.text == M.BANK_MISMATCH_TODO
    assert set(mismatch.data["actions"]) == {NextStep.RETRY, NextStep.ANOTHER_CARD, NextStep.COUNTER,
                                             NextStep.CALL_HOTLINE}
    assert mismatch.data["hotline"] == "12333"
    records = kiosk.records_of(outcome)
    assert [(r["type"], r["payload"].get("reason")) for r in records] == [
        ("attempt_failed", "bank_mismatch"), ("registration", None)]


def test_mismatch_and_leave_is_recorded(kiosk: Kiosk) -> None:
    id_number, phone, _ = account(kiosk, "曹志刚")
    kiosk.insert(id_number, "曹志刚")
    p = kiosk.presenter(answers={"bank": "ICBC", "bank_notice": "agree"},
                        entries=[("bank_card", "6222020299999999999"), ("phone", phone)],
                        errors=[NextStep.CALL_HOTLINE])
    outcome = kiosk.run("real_name", p)
    assert outcome is not None and outcome.code == "bank_mismatch" and outcome.next_step is NextStep.CALL_HOTLINE
    [record] = kiosk.records_of(outcome)
    assert record["payload"]["shown"] == M.BANK_MISMATCH and "sms_code" not in p.step_keys


def test_the_disabled_bank_cannot_be_used(kiosk: Kiosk) -> None:
    id_number, phone, card_number = account(kiosk, "彭丽华")
    kiosk.insert(id_number, "彭丽华")
    p = kiosk.presenter(answers={"bank": ["GZCB", "ICBC"], "bank_notice": "agree"},
                        entries=[("bank_card", card_number), ("phone", phone), ("sms_code", kiosk.latest_code(phone))],
                        errors=[NextStep.RETRY])
    outcome = kiosk.run("real_name", p)
    assert outcome is not None and outcome.ok
    assert p.errors[0].key == M.BANK_NOT_CONNECTED and p.errors[0].data["bank"] == "广州银行"


def test_declining_the_notice_types_nothing(kiosk: Kiosk) -> None:
    id_number, _, _ = account(kiosk, "蒋文")
    kiosk.insert(id_number, "蒋文")
    p = kiosk.presenter(answers={"bank": "ICBC", "bank_notice": "decline"})
    outcome = kiosk.run("real_name", p)
    assert outcome is not None and outcome.code == "notice_declined" and not p.of_kind("plain_entry")


def test_card_pulled_while_typing_the_phone(kiosk: Kiosk) -> None:
    id_number, phone, card_number = account(kiosk, "谢天明")
    kiosk.insert(id_number, "谢天明")
    before = len(kiosk.records())
    p = kiosk.presenter(answers={"bank": "ICBC", "bank_notice": "agree"},
                        entries=[("bank_card", card_number), ("phone", phone)],
                        hooks={"entry:phone": kiosk.remove_card})
    outcome = kiosk.run("real_name", p)
    assert outcome is None and kiosk.last_cancel_reason == "card_removed"
    assert len(kiosk.records()) == before and kiosk.sms_messages(phone) == []


def test_resend_is_offered_after_the_cooldown_and_reuses_the_bank_verification(kiosk: Kiosk) -> None:
    """"Resend" asks the backend for a new code for the same verification (request_sms with
    verification_id): the bank is not asked again, and the new code registers the account."""
    import dataclasses
    import time

    import sqlalchemy as sa

    from backend.db import bank_verifications

    id_number, phone, card_number = account(kiosk, "宋玉兰")
    kiosk.insert(id_number, "宋玉兰")
    backend = kiosk.backend.services
    real_config = backend.config
    # A 3 s cooldown instead of 60 s, in the backend's own config (it tells the kiosk the cooldown).
    backend.config = dataclasses.replace(real_config, sms=dataclasses.replace(real_config.sms, resend_after_s=3))
    p = kiosk.presenter(answers={"bank": "ICBC", "bank_notice": "agree", "sms_options": ["resend", "resend"]},
                        entries=[("bank_card", card_number), ("phone", phone), ("sms_code", ["cancel"]),
                                 ("sms_code", ["cancel"]), ("sms_code", kiosk.latest_code(phone))],
                        hooks={"entry:sms_code": [lambda: None, lambda: time.sleep(3.2), lambda: None]})
    try:
        outcome = kiosk.run("real_name", p)
    finally:
        backend.config = real_config
    assert outcome is not None and outcome.ok and outcome.code == "created", p.errors
    first, second = [s for s in p.of_kind("ask") if s.key == "sms_options"]
    resend = [{k: (enabled, note) for k, enabled, note in ask.data["options"]}["resend"] for ask in (first, second)]
    assert resend == [(False, M.SMS_RESEND_WAIT), (True, "")] and 1 <= first.data["seconds"] <= 3
    codes = [m for m in kiosk.sms_messages(phone) if "验证码" in m["text"]]
    assert len(codes) == 2, "one code with the verification, one resent after the cooldown (none while disabled)"
    with backend.engine.connect() as conn:
        verifications = conn.execute(sa.select(sa.func.count()).select_from(bank_verifications)
                                     .where(bank_verifications.c.id_number == id_number)).scalar()
    assert verifications == 1, "resend must not run the bank check again"
    [record] = kiosk.records_of(outcome)
    assert record["type"] == "registration" and phone not in str(record)


def test_request_sms_takes_exactly_one_target(kiosk: Kiosk) -> None:
    client = kiosk.deps.client
    with pytest.raises(ValueError, match="verification_id"):
        client.request_sms("registration", phone="13800138000", verification_id="x")
    with pytest.raises(ValueError):
        client.request_sms("registration")
