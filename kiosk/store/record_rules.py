"""What a record must look like before the kiosk signs it: the backend's own rules (docs/backend.md).

A record the backend cannot store would be refused and dead-lettered after the visit, when
nobody can correct it; checked here, the flow that makes it gets a named error at once. Text
that came from a card's fixed-width fields loses its NUL/space padding here (the only cleaning:
anything else wrong is refused, never silently changed).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

TYPE_RE = re.compile(r"[a-z][a-z0-9_]{1,39}")
ID_NUMBER_RE = re.compile(r"[0-9]{15}|[0-9]{17}[0-9Xx]")
MAX_DEPTH = 30                      # the backend allows 32 levels for the whole envelope
MAX_RECORD_BYTES = 1_000_000        # the backend's ingest.max_record_bytes default
_SURROGATE_RE = re.compile("[\ud800-\udfff]")


class RecordRefused(ValueError):
    """The record would be refused by the backend; ``field`` names what is wrong."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"record field {field}: {reason}")
        self.field = field
        self.reason = reason


def clean_card_text(value: str) -> str:
    """Fixed-width card fields are padded with NULs and/or spaces on the right: drop the padding."""
    return value.rstrip("\x00 ")


def _check_text(value: str, field: str) -> None:
    if "\x00" in value:
        raise RecordRefused(field, "contains a NUL character")
    if _SURROGATE_RE.search(value):
        raise RecordRefused(field, "contains a lone UTF-16 surrogate (not valid Unicode)")


def _clean_tree(value: Any, field: str, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise RecordRefused(field, f"nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, str):
        value = value.rstrip("\x00")          # NUL padding from a card; a NUL inside is refused
        _check_text(value, field)
        return value
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        if not -(2**63) <= value < 2**63:
            raise RecordRefused(field, "integer out of the 64-bit range")
        return value
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise RecordRefused(field, "NaN and infinity are not JSON")
        return value
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise RecordRefused(field, "object keys must be strings")
            _check_text(key, f"{field}.{key!r}")
            out[key] = _clean_tree(item, f"{field}.{key}", depth + 1)
        return out
    if isinstance(value, (list, tuple)):
        return [_clean_tree(item, f"{field}[{i}]", depth + 1) for i, item in enumerate(value)]
    raise RecordRefused(field, f"{type(value).__name__} is not a JSON value")


def checked_record(type_: str, operator_id: str | None, payload: Mapping[str, Any]) -> dict[str, Any]:
    """-> the payload, cleaned; raises :class:`RecordRefused` for anything the backend would refuse."""
    if not isinstance(type_, str) or not TYPE_RE.fullmatch(type_):
        raise RecordRefused("type", "must be a lower-case word of 2 to 40 characters, e.g. \"pin_change\"")
    if operator_id is not None:
        if not isinstance(operator_id, str) or not 1 <= len(operator_id) <= 64:
            raise RecordRefused("operator_id", "must be 1 to 64 characters or absent")
        _check_text(operator_id, "operator_id")
    body = _clean_tree(payload, "payload", 1)
    idn = body.get("id_number")
    if idn is not None:
        if isinstance(idn, str):
            idn = body["id_number"] = clean_card_text(idn)
        if not isinstance(idn, str) or not ID_NUMBER_RE.fullmatch(idn):
            raise RecordRefused("payload.id_number", "must be a 15-digit or 18-character resident ID number")
    if type_ == "certification" and idn is None:
        raise RecordRefused("payload.id_number", "a certification needs the person's ID number")
    return body


def check_size(envelope_bytes: int) -> None:
    if envelope_bytes > MAX_RECORD_BYTES:
        raise RecordRefused("payload", f"the record is {envelope_bytes} bytes, over {MAX_RECORD_BYTES}")
