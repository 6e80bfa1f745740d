"""What the database can store: checks every value of a request before it reaches SQL.

A value PostgreSQL cannot hold (a NUL in text), a string that is not valid Unicode (a lone
UTF-16 surrogate), a nesting no reader needs, an integer no column holds or a timestamp outside
the years a kiosk can live in would otherwise surface as a 500 or a 503 deep in the write. Each
check raises :class:`Unstorable` naming the field, so the caller can refuse the one record (4xx)
and the kiosk can dead-letter it and carry on with the rest.
"""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, datetime
from typing import Any

MAX_DEPTH = 32                 # nesting of JSON objects/arrays in a body or a record's payload
MAX_INT_DIGITS = 19            # an integer with more digits than int64 has is never meaningful here
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)    # kiosks did not exist before; a clock reset to 1970 is wrong
LATEST = datetime(2100, 1, 1, tzinfo=UTC)      # leaves date arithmetic (certification + months) in range
MAX_SEQ = 2**53 - 1            # JSON-safe and far above any kiosk's lifetime of records
ID_NUMBER_RE = re.compile(r"[0-9]{15}|[0-9]{17}[0-9Xx]")   # 15-digit (1st gen) or 18 with check X
_SURROGATE_RE = re.compile("[\ud800-\udfff]")


class Unstorable(ValueError):
    """A value that must be refused; ``field`` is its dotted path (``payload.id_number``)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}" if field else reason)
        self.field = field
        self.reason = reason


def check_text(value: str, field: str) -> None:
    if "\x00" in value:
        raise Unstorable(field, "contains a NUL character; clean the text (card fields are NUL-padded)")
    if _SURROGATE_RE.search(value):
        raise Unstorable(field, "contains a lone UTF-16 surrogate; it is not valid Unicode text")


def check_tree(value: Any, field: str = "", depth: int = 0) -> None:
    """Every string (keys too) storable, nesting at most MAX_DEPTH, integers within int64."""
    if depth > MAX_DEPTH:
        raise Unstorable(field, f"nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, str):
        check_text(value, field)
    elif isinstance(value, bool) or value is None:
        return
    elif isinstance(value, float):
        if not math.isfinite(value):            # 1e999 parses as infinity; JSON has no such number
            raise Unstorable(field, "a number out of range (infinite)")
    elif isinstance(value, int):
        if not -(2**63) <= value < 2**63:
            raise Unstorable(field, "integer out of the 64-bit range")
    elif isinstance(value, dict):
        for key, item in value.items():
            check_text(key, f"{field}.{key!r}" if field else repr(key))
            check_tree(item, f"{field}.{key}" if field else key, depth + 1)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            check_tree(item, f"{field}[{i}]", depth + 1)


_DIGITS_AS_ZERO = bytes.maketrans(b"0123456789", b"0" * 10)
_LONG_DIGIT_RUN = b"0" * 19


def plainly_storable_json(value: object) -> bool:
    """Cheap pre-test before serialising: a dict (the envelope); the text test decides."""
    return isinstance(value, dict)


def plainly_storable_text(canonical: bytes) -> bool:
    """The fast path of :func:`check_tree` on canonical JSON (C-speed scans): no escaped NUL, no
    non-finite number, no 19-digit run, and too few brackets to nest past MAX_DEPTH. False only
    means "walk the tree" (which then names the field), never "refuse"."""
    if canonical.count(b"{") + canonical.count(b"[") > MAX_DEPTH:
        return False
    # Substring scans instead of one alternation regex: a third of the CPU per record.
    return b"\\u0000" not in canonical and b"Infinity" not in canonical and b"NaN" not in canonical \
        and _LONG_DIGIT_RUN not in canonical.translate(_DIGITS_AS_ZERO)


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise Unstorable("", f"an integer of more than {MAX_INT_DIGITS} digits")
    return int(text)


def _no_constant(name: str) -> Any:
    raise Unstorable("", f"{name} is not JSON")


def loads(raw: bytes, *, check: bool = True) -> Any:
    """Strict JSON: UTF-8, no NaN/Infinity, no huge integers, bounded depth, storable strings.

    ``check=False`` leaves the strings and depth to the caller, which can then name the record
    (the batch endpoint checks each envelope by itself)."""
    try:
        value = json.loads(raw, parse_int=_bounded_int, parse_constant=_no_constant)
    except Unstorable:
        raise
    except RecursionError:
        raise Unstorable("", f"the JSON is nested deeper than {MAX_DEPTH} levels") from None
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError) as exc:
        raise Unstorable("", f"the body is not JSON ({type(exc).__name__})") from None
    if check:
        check_tree(value)
    return value


def check_instant(value: datetime, field: str) -> datetime:
    if not EARLIEST <= value < LATEST:
        raise Unstorable(field, f"{value.isoformat()} is outside {EARLIEST.year}..{LATEST.year - 1}; "
                         "check the kiosk's clock")
    return value


def check_id_number(value: Any, field: str = "payload.id_number") -> str:
    """A resident ID number as the bureau stores it: 15 digits, or 17 digits and a check digit/X."""
    if not isinstance(value, str) or not ID_NUMBER_RE.fullmatch(value):
        raise Unstorable(field, "must be a 15-digit or 18-character resident ID number (digits, last may be X)")
    return value.upper()
