"""UUIDv7 (RFC 9562) ids for records: time-ordered, unique without coordination.

Python 3.11 has no ``uuid.uuid7``. Layout: 48-bit Unix milliseconds, version 7, 12-bit
``rand_a`` used as a counter within one millisecond (so ids from one process sort in creation
order), the RFC variant, 62 random bits. Uniqueness rests on the 62 random bits; order between
kiosks or across a clock step back rests on the record's ``seq``, not on the id.
"""

from __future__ import annotations

import os
import threading
import time
import uuid

_lock = threading.Lock()
_last_ms = -1
_counter = 0


def uuid7(now_ms: int | None = None) -> uuid.UUID:
    global _last_ms, _counter
    with _lock:
        ms = int(time.time() * 1000) if now_ms is None else now_ms
        if ms <= _last_ms:
            ms = _last_ms
            _counter += 1
            if _counter > 0xFFF:           # 4096 ids in one millisecond: borrow the next one
                ms += 1
                _counter = int.from_bytes(os.urandom(2), "big") & 0x3FF
        else:
            _counter = int.from_bytes(os.urandom(2), "big") & 0x3FF   # headroom for the counter
        _last_ms = ms
        rand_b = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
        value = ((ms & ((1 << 48) - 1)) << 80) | (0x7 << 76) | (_counter << 64) | (0b10 << 62) | rand_b
    return uuid.UUID(int=value)


def uuid7_str() -> str:
    return str(uuid7())


def uuid7_time_ms(value: uuid.UUID | str) -> int:
    """The millisecond timestamp inside a UUIDv7."""
    u = uuid.UUID(str(value))
    return u.int >> 80
