"""Masking of personal data for screens, logs and records that must not hold it in the clear."""

from __future__ import annotations

import re

# 18-digit resident ID (last may be X) and the old 15-digit form.
ID_NUMBER_RE = re.compile(r"(?<![0-9A-Za-z])(\d{6})(\d{8}|\d{5})(\d{3}[\dXx]|\d{1})(?![0-9A-Za-z])")
_STANDALONE_PIN_RE = re.compile(r"(?<!\d)\d{6}(?!\d)")


def mask_id_number(id_number: str) -> str:
    """4401**********1234: region prefix and last four kept, like the bureau's own printouts."""
    s = id_number.strip()
    if len(s) < 8:
        return "*" * len(s)
    return s[:4] + "*" * (len(s) - 8) + s[-4:]


def mask_phone(phone: str) -> str:
    """138****5678."""
    s = phone.strip()
    if len(s) < 7:
        return "*" * len(s)
    return s[:3] + "*" * (len(s) - 7) + s[-4:]


def mask_card_number(number: str) -> str:
    """Bank or social-security card numbers: keep the last four."""
    s = number.strip()
    return "*" * max(0, len(s) - 4) + s[-4:]


def mask_name(name: str) -> str:
    """张*明 / 王*: keep the family name (first character) and, for 3+ characters, the last."""
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def scrub_text(text: str) -> str:
    """Last line of defence for free text headed to a log: mask ID numbers, blank 6-digit runs.

    A standalone six-digit number could be a PIN or an SMS code, so it is replaced outright.
    Code should never hand secrets to a logger; this only catches mistakes.
    """
    text = ID_NUMBER_RE.sub(lambda m: mask_id_number(m.group(0)), text)
    return _STANDALONE_PIN_RE.sub("******", text)
