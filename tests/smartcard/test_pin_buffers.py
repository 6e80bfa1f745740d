"""The audited PIN hand-off zeroes every PIN buffer on every way out: the one context manager both
check_new_pin and run_pin_command use (drivers/smartcard/pin_handoff.py)."""

from __future__ import annotations

import pytest

from drivers.smartcard.api import CardError, CardOutcome
from drivers.smartcard.pin_handoff import PinContext, _bcd_pins, check_new_pin, initial_pin_bcd

CTX = PinContext(card_number="1234567890123456", initial_pin_bcd=initial_pin_bcd("123456"), psam=None)


def test_buffers_and_digits_are_zeroed_when_the_body_raises() -> None:
    old, new = bytearray(b"505050"), bytearray(b"830627")
    kept: list[bytearray] = []
    with pytest.raises(RuntimeError), _bcd_pins([old, new], CTX) as buffers:
        assert buffers == [bytearray.fromhex("505050"), bytearray.fromhex("830627")]
        buffers.append(bytearray(b"\x50\x50\x50\xff\x83\x06\x27"))     # one the caller builds
        kept.extend(buffers)
        raise RuntimeError("the card went away")
    assert all(buf == bytearray(len(buf)) for buf in kept) and len(kept) == 3
    assert old == bytearray(6) and new == bytearray(6)


def test_a_bad_second_pin_still_zeroes_the_first() -> None:
    old, new = bytearray(b"505050"), bytearray(b"83a627")
    with pytest.raises(CardError) as raised:
        check_new_pin(new, old, CTX)
    assert raised.value.outcome is CardOutcome.INVALID_PIN_FORMAT
    assert old == bytearray(6) and new == bytearray(6)
    assert "505050" not in str(raised.value) and "83a627" not in str(raised.value)


def test_a_failing_policy_check_leaves_nothing_behind() -> None:
    old, new = bytearray(b"505050"), bytearray(b"830627")
    copies: list[bytearray] = []

    def check(new_digits: bytearray, old_digits: bytearray | None) -> None:
        copies.extend([new_digits, old_digits or bytearray()])
        raise ValueError("policy bug")

    ctx = PinContext(CTX.card_number, CTX.initial_pin_bcd, None, new_pin_check=check)
    with pytest.raises(ValueError):
        check_new_pin(new, old, ctx)
    assert all(c == bytearray(len(c)) for c in copies) and old == bytearray(6) and new == bytearray(6)
