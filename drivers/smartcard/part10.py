"""PC/SC part 10 secure PIN entry: feature discovery and FEATURE_VERIFY_PIN_DIRECT.

Debian's reader drivers (and vpcd) answer SCardControl with 0x8010001F: then the reader has no
secure PIN entry and the kiosk uses the PIN pad with the PSAM (pin_handoff).
"""

from __future__ import annotations

import struct

from drivers.smartcard.readers import Connection, ReaderError

CM_IOCTL_GET_FEATURE_REQUEST = 0x42000D48      # SCARD_CTL_CODE(3400) on pcsc-lite
FEATURE_VERIFY_PIN_DIRECT = 0x06


def features(conn: Connection) -> dict[int, int]:
    """Feature tag -> control code; empty when the reader has none (or refuses the request)."""
    try:
        raw = conn.control(CM_IOCTL_GET_FEATURE_REQUEST, b"")
    except ReaderError:
        return {}
    found: dict[int, int] = {}
    i = 0
    while i + 6 <= len(raw):
        tag, length = raw[i], raw[i + 1]
        if length == 4:
            found[tag] = int.from_bytes(raw[i + 2:i + 6], "big")
        i += 2 + length
    return found


def verify_pin_structure(timeout_s: int = 30, pin_length: int = 6) -> bytes:
    """PIN_VERIFY_STRUCTURE for ``00 20 00 00 03 <BCD>``: BCD, left-justified, Enter validates."""
    apdu = bytes([0x00, 0x20, 0x00, 0x00, pin_length // 2]) + b"\xFF" * (pin_length // 2)
    return struct.pack(
        "<BBBBBHBBHB3sI",
        timeout_s, timeout_s,
        0x81,                   # bmFormatString: units = bytes, offset 0, left, BCD
        pin_length // 2,        # bmPINBlockString: no length field, block of 3 bytes
        0x00,                   # bmPINLengthFormat
        (pin_length << 8) | pin_length,   # wPINMaxExtraDigit: min, max
        0x02,                   # bEntryValidationCondition: validation key
        0x01,                   # bNumberMessage
        0x0804,                 # wLangId: zh-CN
        0x00,                   # bMsgIndex
        b"\x00\x00\x00",        # bTeoPrologue
        len(apdu),
    ) + apdu


def verify_pin_direct(conn: Connection, control_code: int, timeout_s: int = 30) -> int:
    """Let the reader's own keypad take the PIN and send VERIFY; returns the card's status word."""
    answer = conn.control(control_code, verify_pin_structure(timeout_s))
    return int.from_bytes(answer[-2:], "big") if len(answer) >= 2 else 0x6F00
