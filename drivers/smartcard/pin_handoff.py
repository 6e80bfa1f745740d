"""THE audited place where a PIN becomes card APDU data. Keep it small; review every change.

A PIN arrives either as a bytearray of ASCII digits (zeroed here once used) or as an encrypted
ISO 9564 block from the PIN pad (:class:`PinBlockInput`): format 0, under the PIN working key
the PSAM made, PAN = the digits of the card number (EF05 tag 07, no check digit). Only the PSAM
can decrypt the block; its answer (BCD digits) goes straight into the APDU buffer. Every buffer
holding PIN material is a bytearray zeroed in a ``finally``; the APDU goes out with
``secret=True`` (trace shows its length only); errors name the step, never a digit.

Python's immutable copies (the ``bytes`` pyscard needs for SCardTransmit) cannot be wiped: they
live for one call and are never logged or kept.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum

from drivers.smartcard.api import (
    CardError,
    CardOutcome,
    NewPinCheck,
    PinBlockInput,
    PinInput,
    PinRefused,
    PinResult,
)
from drivers.smartcard.psam import Psam
from drivers.smartcard.status import checked_pin_answer
from drivers.smartcard.transport import Transport

PIN_LENGTH = 6
PIN_BLOCK_FORMAT = 0        # ISO 9564 format 0, PAN = card number digits


class PinOp(StrEnum):
    VERIFY = "verify"
    CHANGE = "change"
    RESET = "reset"


@dataclass(frozen=True)
class PinContext:
    card_number: str            # PAN for the pad's PIN block
    initial_pin_bcd: bytes      # to detect the initial-PIN state (-35) and refuse it as new (-36)
    psam: Psam | None
    algorithm: str = "des"      # the card's, for the reset block's padding
    max_tries: int = 3          # the card's PIN try limit: a higher 63Cx is an anomaly
    new_pin_check: NewPinCheck | None = None    # the caller's weak-PIN policy (CHANGE, RESET)


def initial_pin_bcd(initial_pin: str) -> bytes:
    return bytes.fromhex(initial_pin + "F" * (len(initial_pin) % 2)) if initial_pin else b""


def reset_plain_block(algorithm: str, bcd_pin: bytes | bytearray) -> bytearray:
    """The new PIN inside RESET before the PSAM encrypts it: L || BCD, padded 80 00.. to a block."""
    block = 16 if algorithm == "sm4" else 8
    plain = bytearray(block * ((len(bcd_pin) + 2 + block - 1) // block))   # filled in place: no copies
    plain[0] = len(bcd_pin)
    plain[1:1 + len(bcd_pin)] = bcd_pin
    plain[1 + len(bcd_pin)] = 0x80
    return plain


def _to_bcd(pin: PinInput, ctx: PinContext) -> bytearray:
    """BCD digits padded with F, in a fresh bytearray. Zeroes a digit input."""
    if isinstance(pin, PinBlockInput):
        if ctx.psam is None:
            raise CardError(CardOutcome.PSAM_MISSING, "a PIN block needs the PSAM to decrypt it")
        bcd = ctx.psam.decrypt_pin_block(pin.block, ctx.card_number, PIN_BLOCK_FORMAT)
    else:
        try:
            if len(pin) != PIN_LENGTH or any(not 0x30 <= c <= 0x39 for c in pin):
                raise CardError(CardOutcome.INVALID_PIN_FORMAT, f"a PIN has {PIN_LENGTH} digits")
            bcd = bytearray((pin[i] - 0x30) << 4 | (pin[i + 1] - 0x30) for i in range(0, PIN_LENGTH, 2))
        finally:
            pin[:] = bytes(len(pin))
    if len(bcd) != PIN_LENGTH // 2 or any(b >> 4 > 9 or b & 0xF > 9 for b in bcd):
        bcd[:] = bytes(len(bcd))
        raise CardError(CardOutcome.INVALID_PIN_FORMAT, f"a PIN has {PIN_LENGTH} digits")
    return bcd


def _ascii_digits(bcd: bytearray) -> bytearray:
    digits = bytearray(2 * len(bcd))
    for i, byte in enumerate(bcd):
        digits[2 * i], digits[2 * i + 1] = 0x30 + (byte >> 4), 0x30 + (byte & 0xF)
    return digits


def _refused_by_policy(check: NewPinCheck, new_bcd: bytearray, old_bcd: bytearray | None) -> str | None:
    """Run the caller's check on ASCII copies that are zeroed whatever happens."""
    new = _ascii_digits(new_bcd)
    old = _ascii_digits(old_bcd) if old_bcd is not None else None
    try:
        check(new, old)
        return None
    except PinRefused as exc:
        return exc.rule
    finally:
        new[:] = bytes(len(new))
        if old is not None:
            old[:] = bytes(len(old))


def _new_pin_refusal(new_bcd: bytearray, old_bcd: bytearray | None, ctx: PinContext) -> PinResult | None:
    """Why a new PIN may not be set (the initial PIN, or the caller's policy), or None."""
    if hmac.compare_digest(new_bcd, ctx.initial_pin_bcd):
        return PinResult(CardOutcome.CANNOT_REVERT_TO_INITIAL, sw=0)
    if ctx.new_pin_check is not None:
        rule = _refused_by_policy(ctx.new_pin_check, new_bcd, old_bcd)
        if rule is not None:
            return PinResult(CardOutcome.WEAK_PIN, sw=0, refused_rule=rule)
    return None


@contextmanager
def _bcd_pins(pins: Sequence[PinInput], ctx: PinContext) -> Iterator[list[bytearray]]:
    """The PINs as BCD buffers, in order. On the way out, whatever happens (a return, a card
    error, a bad digit in the second PIN), every buffer in the list is zeroed (the caller appends
    the ones it builds from them) and so is every PIN given as digits."""
    buffers: list[bytearray] = []
    try:
        for pin in pins:
            buffers.append(_to_bcd(pin, ctx))
        yield buffers
    finally:
        for buf in buffers:
            buf[:] = bytes(len(buf))
        for pin in pins:
            if isinstance(pin, bytearray):
                pin[:] = bytes(len(pin))


def check_new_pin(new: PinInput, old: PinInput | None, ctx: PinContext) -> PinResult:
    """Check only, nothing sent to the card: would CHANGE (``old`` given) or RESET accept ``new``?
    Lets the flow refuse a weak PIN right after its first entry. Answers OK, WEAK_PIN (with the
    rule) or CANNOT_REVERT_TO_INITIAL, never the digits; the same rules run again in the command."""
    pins: list[PinInput] = [new] if old is None else [old, new]
    with _bcd_pins(pins, ctx) as buffers:
        refusal = _new_pin_refusal(buffers[-1], buffers[0] if old is not None else None, ctx)
        return refusal if refusal is not None else PinResult(CardOutcome.OK, sw=0)


def run_pin_command(t: Transport, op: PinOp, pins: list[PinInput], ctx: PinContext) -> PinResult:
    """VERIFY (pins = [pin]), CHANGE (pins = [old, new]) or RESET (pins = [new]; the caller has
    done the external authentication with the PIN-unblock key, a GET CHALLENGE, and
    ``psam.begin_session`` with that challenge)."""
    with _bcd_pins(pins, ctx) as buffers:
        is_initial = hmac.compare_digest(buffers[0], ctx.initial_pin_bcd)
        if op is not PinOp.VERIFY:
            refusal = _new_pin_refusal(buffers[-1], buffers[0] if op is PinOp.CHANGE else None, ctx)
            if refusal is not None:
                return refusal
        if op is PinOp.VERIFY:
            answer = t.send(0x00, 0x20, 0x00, 0x00, buffers[0], secret=True)
        elif op is PinOp.CHANGE:
            data = bytearray(len(buffers[0]) + 1 + len(buffers[1]))       # old || FF || new, in place
            buffers.append(data)
            data[:len(buffers[0])] = buffers[0]
            data[len(buffers[0])] = 0xFF
            data[len(buffers[0]) + 1:] = buffers[1]
            answer = t.send(0x80, 0x5E, 0x01, 0x00, data, secret=True)
        else:
            if ctx.psam is None:
                raise CardError(CardOutcome.PSAM_MISSING, "a PIN reset needs the PSAM")
            plain = reset_plain_block(ctx.algorithm, buffers[0])
            buffers.append(plain)
            encrypted = ctx.psam.encrypt(plain)
            buffers.append(encrypted)
            header = bytes([0x84, 0x24, 0x00, 0x01, len(encrypted) + 4])
            data = bytearray(encrypted)
            buffers.append(data)
            data += ctx.psam.mac(header + bytes(encrypted))
            answer = t.send(0x84, 0x24, 0x00, 0x01, data, secret=True)
        result = checked_pin_answer(t, answer, op.value.upper(), ctx.max_tries,
                                    verified_on_success=op is not PinOp.RESET)
        if op is PinOp.VERIFY and result.ok and is_initial:
            return PinResult(CardOutcome.INITIAL_PIN_NOT_ALLOWED, verified=True, sw=answer.sw)
        if op is PinOp.RESET and answer.sw == 0x6988:
            return PinResult(CardOutcome.AUTH_FAILED, sw=answer.sw)
        return result
