"""Time: one injectable clock for the whole service (tests move it instead of sleeping)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


def parse_rfc3339(text: str) -> datetime:
    """An RFC 3339 timestamp with an offset (``Z`` or ``+08:00``) -> aware UTC datetime."""
    if not isinstance(text, str) or "T" not in text.upper():
        raise ValueError("expected an RFC 3339 timestamp such as 2026-11-23T08:15:00Z")
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise ValueError("RFC 3339 timestamp lacks a UTC offset (add Z)")
    try:
        return value.astimezone(UTC)
    except OverflowError:                # year 1 with a positive offset, year 9999 with a negative one
        raise ValueError("RFC 3339 timestamp is out of range") from None


def format_rfc3339(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
