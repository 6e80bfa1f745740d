"""ISO 9564-1 PIN blocks: formats 0, 1, 3 (8 bytes) and 4 (16 bytes, AES/SM4).

PIN digits are passed and returned as ``bytearray`` of ASCII digits so callers can zero them;
this module zeroes every intermediate buffer it makes. Nothing here logs or formats a PIN.
"""

from __future__ import annotations

import os
from enum import IntEnum

from drivers.crypto.ciphers import BlockCipher, xor


class PinBlockFormat(IntEnum):
    ISO0 = 0    # = ANSI X9.8: PIN field XOR PAN field
    ISO1 = 1    # no PAN, transaction-unique fill
    ISO3 = 3    # like 0, random A-F fill
    ISO4 = 4    # 16-byte block for 128-bit ciphers, two-pass encryption


class PinBlockError(ValueError):
    """A PIN block does not decode; the message never contains digits."""


def _check_pin(pin: bytearray) -> None:
    if not 4 <= len(pin) <= 12 or any(not 0x30 <= c <= 0x39 for c in pin):
        raise PinBlockError("a PIN has 4 to 12 decimal digits")


def _pan_digits(pan: str) -> str:
    digits = "".join(ch for ch in pan if ch.isdigit())
    if not digits:
        raise PinBlockError("the PAN or card number has no digits")
    return digits


def pan_field_8(pan: str, has_check_digit: bool = True) -> bytes:
    """0000 + the rightmost 12 PAN digits excluding the check digit (formats 0 and 3).

    ``has_check_digit=False`` when the caller passes an account number without its Luhn digit
    (IBM CCA's examples do), or a social-security card number, which has none.
    """
    digits = _pan_digits(pan)
    if has_check_digit:
        digits = digits[:-1]
    digits = digits[-12:].rjust(12, "0")
    return bytes.fromhex("0000" + digits)


def pan_field_16(pan: str) -> bytes:
    """Format 4: length nibble (PAN length - 12) then the PAN, padded with zeros to 32 nibbles."""
    digits = _pan_digits(pan)
    if len(digits) < 12:
        digits = digits.rjust(12, "0")
    nibbles = f"{len(digits) - 12:X}" + digits
    return bytes.fromhex(nibbles.ljust(32, "0"))


def _nibbles_to_bytes(nibbles: bytearray) -> bytearray:
    out = bytearray(len(nibbles) // 2)
    for i in range(len(out)):
        out[i] = (nibbles[2 * i] << 4) | nibbles[2 * i + 1]
    return out


def pin_field(pin: bytearray, fmt: PinBlockFormat) -> bytearray:
    """The clear PIN field (8 bytes for 0/1/3, 16 for 4)."""
    _check_pin(pin)
    nibbles = bytearray([int(fmt), len(pin)]) + bytearray(c - 0x30 for c in pin)
    try:
        if fmt is PinBlockFormat.ISO4:
            nibbles += bytearray([0xA]) * (16 - len(nibbles))
            field = _nibbles_to_bytes(nibbles) + bytearray(os.urandom(8))
        else:
            if fmt is PinBlockFormat.ISO0:
                fill = [0xF] * (16 - len(nibbles))
            elif fmt is PinBlockFormat.ISO3:
                fill = [0xA + b % 6 for b in os.urandom(16 - len(nibbles))]
            else:
                fill = [b & 0xF for b in os.urandom(16 - len(nibbles))]
            nibbles += bytearray(fill)
            field = _nibbles_to_bytes(nibbles)
    finally:
        nibbles[:] = bytes(len(nibbles))
    return field


def encrypt_pin_block(pin: bytearray, pan: str, fmt: PinBlockFormat, cipher: BlockCipher,
                      expand_to_16: bool = True, pan_has_check_digit: bool = True) -> bytes:
    """Encrypt a PIN into a block under ``cipher``.

    Formats 0/1/3 under a 16-byte-block cipher (SM4): the 8-byte clear block is followed by 8
    zero bytes when ``expand_to_16`` (the layout a published bank example matches; see
    docs/pinpad-protocol.md). Format 4: encrypt(PIN field) XOR PAN field, encrypted again.
    """
    clear = pin_field(pin, fmt)
    try:
        if fmt is PinBlockFormat.ISO4:
            if cipher.block_size != 16:
                raise PinBlockError("format 4 needs a 128-bit block cipher (AES or SM4)")
            return cipher.encrypt(xor(cipher.encrypt(bytes(clear)), pan_field_16(pan)))
        if fmt in (PinBlockFormat.ISO0, PinBlockFormat.ISO3):
            mixed = bytearray(xor(bytes(clear), pan_field_8(pan, pan_has_check_digit)))
        else:
            mixed = bytearray(clear)
        try:
            if cipher.block_size == 16:
                if not expand_to_16:
                    raise PinBlockError("an 8-byte PIN block under a 16-byte cipher needs expand_to_16")
                mixed += bytes(8)
            return cipher.encrypt(bytes(mixed))
        finally:
            mixed[:] = bytes(len(mixed))
    finally:
        clear[:] = bytes(len(clear))


def decrypt_pin_block(block: bytes, pan: str, fmt: PinBlockFormat, cipher: BlockCipher,
                      pan_has_check_digit: bool = True) -> bytearray:
    """Recover the PIN digits (ASCII, in a bytearray the caller must zero).

    The fill is checked as independent libraries do (format 0: every fill nibble F; format 3:
    every fill nibble A-F; format 4: A fill): with a short PIN and a short card number the PAN
    only touches fill nibbles, so without this check a block made for one card decodes to the
    same PIN under any other card number. The check is what binds the block to its PAN. Under a
    16-byte cipher the 8-byte formats' expansion (8 zero bytes) must be zero as well.
    """
    if len(block) != cipher.block_size:
        raise PinBlockError(f"expected a {cipher.block_size}-byte PIN block, got {len(block)} bytes")
    if fmt is PinBlockFormat.ISO4:
        clear = bytearray(cipher.decrypt(xor(cipher.decrypt(block), pan_field_16(pan))))
    else:
        clear = bytearray(cipher.decrypt(block))
        expansion_ok = not any(clear[8:])
        clear[8:] = b""
        if not expansion_ok:
            clear[:] = bytes(len(clear))
            raise PinBlockError("PIN block does not decode (wrong key, PAN or format)")
        if fmt in (PinBlockFormat.ISO0, PinBlockFormat.ISO3):
            mixed = bytearray(xor(bytes(clear), pan_field_8(pan, pan_has_check_digit)))
            clear[:] = bytes(len(clear))
            clear = mixed
    try:
        control, length = clear[0] >> 4, clear[0] & 0xF
        if control != int(fmt) or not 4 <= length <= 12:
            raise PinBlockError("PIN block does not decode (wrong key, PAN or format)")
        digits = bytearray()
        for i in range(length):
            byte = clear[1 + (i // 2)]
            nibble = (byte >> 4) if i % 2 == 0 else (byte & 0xF)
            if nibble > 9:
                digits[:] = bytes(len(digits))
                raise PinBlockError("PIN block does not decode (wrong key, PAN or format)")
            digits.append(0x30 + nibble)
        if not _fill_ok(clear, length, fmt):
            digits[:] = bytes(len(digits))
            raise PinBlockError("PIN block fill is not the format's (wrong key, PAN or format)")
        return digits
    finally:
        clear[:] = bytes(len(clear))


def _fill_ok(clear: bytearray, length: int, fmt: PinBlockFormat) -> bool:
    """The fill nibbles after the PIN, up to nibble 16 (format 4's random half is not fill)."""
    for i in range(2 + length, 16):
        nibble = (clear[i // 2] >> 4) if i % 2 == 0 else (clear[i // 2] & 0xF)
        if fmt is PinBlockFormat.ISO0 and nibble != 0xF:
            return False
        if fmt is PinBlockFormat.ISO3 and nibble < 0xA:
            return False
        if fmt is PinBlockFormat.ISO4 and nibble != 0xA:
            return False
    return True
