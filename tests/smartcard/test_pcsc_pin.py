"""PIN operations through the real pcscd: verify, change, lock, unblock, reset, PIN blocks, the PSAM."""

from __future__ import annotations

import logging

import pytest
from sc_helpers import swap_psam

from drivers.crypto.ciphers import Sm4, kcv
from drivers.crypto.pinblock import PinBlockFormat, encrypt_pin_block
from drivers.smartcard.api import CardInserted, CardOutcome, PinBlockInput, card_outcome
from drivers.smartcard.virtual.card import CardConfig, VirtualSsCard
from drivers.smartcard.virtual.keys import TEST_PAD_MASTER_KEY, WRONG_MASTER_KEYS
from drivers.smartcard.virtual.psam import VirtualPsam

pytestmark = pytest.mark.pcsc


def _insert(stack, events, **config) -> VirtualSsCard:
    card = VirtualSsCard(CardConfig(**config))
    stack.citizen.insert(card)
    events.wait_for(lambda e: isinstance(e, CardInserted))
    return card


def _pin(service, method, *args):
    done = getattr(service, method)(*args).wait(15)
    assert done.ok, done
    return done.result


def test_verify_reports_the_initial_pin_then_change_then_wrong_tries(pcsc_stack, pcsc_service):
    service, events = pcsc_service
    card = _insert(pcsc_stack, events, generation=3, pin="123456", initial_pin="123456")
    digits = bytearray(b"123456")
    result = _pin(service, "verify_pin", digits)
    assert result.outcome is CardOutcome.INITIAL_PIN_NOT_ALLOWED and result.verified
    assert digits == bytearray(6)                          # the caller's digits are zeroed
    assert _pin(service, "change_pin", bytearray(b"123456"), bytearray(b"123456")).outcome \
        is CardOutcome.CANNOT_REVERT_TO_INITIAL
    assert _pin(service, "change_pin", bytearray(b"123456"), bytearray(b"802413")).ok
    assert card.pin == "802413"
    assert _pin(service, "verify_pin", bytearray(b"802413")).ok
    wrong = _pin(service, "verify_pin", bytearray(b"000000"))
    assert wrong.outcome is CardOutcome.WRONG_PIN and wrong.tries_left == 2
    assert _pin(service, "pin_tries_left").tries_left == 2
    short = service.verify_pin(bytearray(b"12345")).wait(15)
    assert card_outcome(short) is CardOutcome.INVALID_PIN_FORMAT    # refused before the card sees it
    assert card.tries_left == 2


def test_lock_then_unblock_keeps_the_pin_and_reset_sets_a_new_one(pcsc_stack, pcsc_service):
    service, events = pcsc_service
    card = _insert(pcsc_stack, events, generation=3, pin="246810", max_tries=3, t0_get_response=True)
    for left in (2, 1):
        assert _pin(service, "verify_pin", bytearray(b"111111")).tries_left == left
    locked = _pin(service, "verify_pin", bytearray(b"111111"))
    assert locked.outcome is CardOutcome.BLOCKED and card.blocked
    assert _pin(service, "verify_pin", bytearray(b"246810")).outcome is CardOutcome.BLOCKED
    assert _pin(service, "unblock_pin").ok
    assert not card.blocked and card.pin == "246810"
    assert _pin(service, "verify_pin", bytearray(b"246810")).ok
    assert _pin(service, "reload_pin", bytearray(b"975310")).ok
    assert card.pin == "975310" and card.tries_left == 3
    assert _pin(service, "reload_pin", bytearray(b"123456")).outcome is CardOutcome.CANNOT_REVERT_TO_INITIAL


def test_sm4_card_reset_uses_the_sm4_key_set(pcsc_stack, pcsc_service):
    service, events = pcsc_service
    card = _insert(pcsc_stack, events, generation=3, algorithm="sm4", pin="135790")
    info = service.read_card().wait(15)
    assert info.ok and info.result.algorithm == "sm4"
    assert _pin(service, "reload_pin", bytearray(b"864200")).ok
    assert card.pin == "864200"


def test_a_wrong_psam_mac_is_refused_by_the_card(pcsc_stack, pcsc_service):
    service, events = pcsc_service
    swap_psam(pcsc_stack, VirtualPsam(corrupt_mac=True))
    card = _insert(pcsc_stack, events, generation=3, pin="246810")
    try:
        result = _pin(service, "reload_pin", bytearray(b"975310"))
        assert result.outcome is CardOutcome.AUTH_FAILED
        assert card.pin == "246810"
        assert _pin(service, "unblock_pin").outcome is CardOutcome.AUTH_FAILED
    finally:
        swap_psam(pcsc_stack, VirtualPsam())


def test_a_psam_with_other_issuer_keys_fails_external_authentication(pcsc_stack, pcsc_service):
    service, events = pcsc_service
    swap_psam(pcsc_stack, VirtualPsam(master_keys=WRONG_MASTER_KEYS))
    _insert(pcsc_stack, events, generation=3)
    try:
        done = service.read_card().wait(15)
        assert card_outcome(done) is CardOutcome.AUTH_FAILED
        assert _pin(service, "reload_pin", bytearray(b"975310")).outcome is CardOutcome.AUTH_FAILED
    finally:
        swap_psam(pcsc_stack, VirtualPsam())


def test_pin_blocks_from_the_pad_are_decrypted_by_the_psam_only(pcsc_stack, pcsc_service):
    service, events = pcsc_service
    card = _insert(pcsc_stack, events, generation=2, pin="314159", initial_pin="123456")
    done = service.new_pin_working_key().wait(15)
    assert done.ok, done
    key = done.result
    # What the pad does with it: unwrap under its master key, check the KCV, make format-0 blocks.
    working = Sm4(TEST_PAD_MASTER_KEY).decrypt(key.wrapped)
    assert kcv(Sm4(working)) == key.kcv

    def block(pin: bytes) -> PinBlockInput:
        return PinBlockInput(encrypt_pin_block(bytearray(pin), "A12345678", PinBlockFormat.ISO0, Sm4(working),
                                               expand_to_16=True, pan_has_check_digit=False))

    assert _pin(service, "verify_pin", block(b"314159")).ok
    assert _pin(service, "verify_pin", block(b"271828")).outcome is CardOutcome.WRONG_PIN
    assert _pin(service, "change_pin", block(b"314159"), block(b"161803")).ok
    assert card.pin == "161803"
    garbage = service.verify_pin(PinBlockInput(bytes(16))).wait(15)
    assert card_outcome(garbage) is CardOutcome.INVALID_PIN_FORMAT


def test_the_apdu_trace_of_a_pin_flow_holds_no_pin_digits(pcsc_stack, pcsc_service, caplog):
    service, events = pcsc_service
    _insert(pcsc_stack, events, generation=3, pin="864213")
    caplog.set_level(logging.DEBUG)
    _pin(service, "verify_pin", bytearray(b"864213"))
    _pin(service, "change_pin", bytearray(b"864213"), bytearray(b"579135"))
    _pin(service, "reload_pin", bytearray(b"902468"))
    _pin(service, "unblock_pin")
    records = [r for r in caplog.records if r.name == "drivers.smartcard.apdu"]
    assert len(records) > 10
    text = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    for pin in ("864213", "579135", "902468"):
        bcd = " ".join(pin[i:i + 2] for i in range(0, 6, 2))
        # As digits, as BCD in the hex dump; (random challenges could match 4 digits by chance, not 6)
        assert pin not in text and bcd not in text and pin not in text.replace(" ", "")
    assert "84 24 00 01 0C <12 bytes redacted>" in text
    assert "80 5E 01 00 07 <7 bytes redacted>" in text


def test_a_pad_block_made_for_another_card_is_refused_and_spends_no_try(pcsc_stack, pcsc_service):
    """The PSAM's decrypt is bound to the card in the reader: its card number is the PAN."""
    service, events = pcsc_service
    from drivers.smartcard.virtual.card import sample_issuer

    card = _insert(pcsc_stack, events, generation=2, pin="314159", issuer=sample_issuer(2, card_number="B87654321"))
    key = service.new_pin_working_key().wait(15).result
    working = Sm4(TEST_PAD_MASTER_KEY).decrypt(key.wrapped)

    def block(pin: bytes, card_number: str) -> PinBlockInput:
        return PinBlockInput(encrypt_pin_block(bytearray(pin), card_number, PinBlockFormat.ISO0, Sm4(working),
                                               expand_to_16=True, pan_has_check_digit=False))

    foreign = service.verify_pin(block(b"314159", "A12345678")).wait(15)
    assert card_outcome(foreign) is CardOutcome.INVALID_PIN_FORMAT
    assert card.tries_left == 3
    assert _pin(service, "verify_pin", block(b"314159", "B87654321")).ok
