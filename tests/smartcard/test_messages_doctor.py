"""Citizen sentences for every outcome (both languages) and the doctor's smart-card checks."""

from __future__ import annotations

from dataclasses import replace

import pytest

from drivers.api import Completion, CompletionCode, DeviceStatus
from drivers.smartcard.api import CardOutcome, PinResult
from kiosk.config import KioskConfig
from kiosk.doctor import Verdict
from kiosk.doctor.smartcard import checks
from kiosk.i18n import catalog, set_language, translate
from kiosk.messages import card as messages


def test_every_outcome_has_a_sentence_with_a_chinese_translation():
    zh = catalog("zh_CN")
    assert set(messages.OUTCOME) == set(CardOutcome)
    for outcome, msgid in messages.OUTCOME.items():
        assert msgid in zh, outcome
        assert translate(msgid, "zh_CN") != msgid
    for msgid in (messages.TRIES_LEFT, messages.TIMED_OUT, messages.CANCELED, *messages.STATUS.values()):
        assert msgid in zh


def test_sentences_say_what_to_do_next():
    set_language("en")
    try:
        assert messages.sentence(CardOutcome.WRONG_PIN, 2) == "Wrong PIN. 2 tries left before the PIN locks."
        wrong = Completion("verifyPin", CompletionCode.SUCCESS, PinResult(CardOutcome.WRONG_PIN, tries_left=1))
        assert "1 tries left" in messages.for_completion(wrong)
        removed = Completion("readCard", CompletionCode.NO_MEDIA, error_code="cardRemoved")
        assert "insert it again" in messages.for_completion(removed)
        assert "12333" in messages.sentence(CardOutcome.CARD_LOCKED)
        assert messages.status_sentence(DeviceStatus.ONLINE) is None
    finally:
        set_language("zh_CN")
    assert "还可尝试2次" in messages.sentence(CardOutcome.WRONG_PIN, 2)


def test_doctor_says_ok_for_the_demo_backend():
    results = checks(KioskConfig())
    assert [r.verdict for r in results] == [Verdict.OK]
    assert "virtual" in results[0].detail


@pytest.mark.pcsc
def test_doctor_finds_readers_psam_and_reports_secure_pin_entry(pcsc_stack):
    config = KioskConfig()
    config = replace(config, smartcard=replace(config.smartcard, backend="pcsc"))
    results = {r.name: r for r in checks(config)}
    assert results["card reader"].verdict is Verdict.OK and "Virtual PCD 00 00" in results["card reader"].detail
    assert results["PSAM"].verdict is Verdict.OK
    assert results["secure PIN entry"].verdict is Verdict.OK
    assert "not offered" in results["secure PIN entry"].detail


@pytest.mark.pcsc
def test_doctor_says_what_to_do_when_no_reader_matches(pcsc_stack):
    config = KioskConfig()
    config = replace(config, smartcard=replace(config.smartcard, backend="pcsc", citizen_reader_pattern="^ACS"))
    results = {r.name: r for r in checks(config)}
    assert results["card reader"].verdict is Verdict.PROBLEM
    assert "citizen_reader_pattern" in results["card reader"].todo
