"""The weak-PIN policy: one module, used by every flow that sets a PIN.

The rules (DOMAIN.md, source 000: "no simple PINs such as a birthday or a phone number"):
exactly six digits; not all the same digit; not an ascending or descending run; not the region's
initial PIN; not the old PIN; not a date of birth taken from the ID number (YYMMDD, MMDDYY,
DDMMYY, YYYYMM, MMYYYY); not the last six digits of the ID number; not the last six digits of
the bound phone (known to the kiosk either as the number itself, or, for the bureau's bound phone,
only as a :class:`PhoneSuffixCheck`: a salted scrypt verifier from the person summary).

The new PIN exists in clear only inside the audited function that builds the card APDU (see
docs/pin-threat-model.md); that function calls :meth:`PinPolicy.check` with the digits in a
``bytearray``. The check compares bytes in place, never makes a ``str`` of the PIN, and its
error names the rule, never the digits.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from kiosk.i18n import N_


class WeakPinRule(StrEnum):
    FORMAT = "format"
    ALL_SAME = "all_same"
    SEQUENCE = "sequence"
    INITIAL_PIN = "initial_pin"
    SAME_AS_OLD = "same_as_old"
    BIRTH_DATE = "birth_date"
    ID_SUFFIX = "id_suffix"
    PHONE_SUFFIX = "phone_suffix"
    MISMATCH = "mismatch"          # the two entries of the new PIN differ


# What the citizen is told: which rule, and why it matters.
RULE_MESSAGES: dict[WeakPinRule, str] = {
    WeakPinRule.FORMAT: N_("The PIN must be exactly six digits."),
    WeakPinRule.ALL_SAME: N_("Do not use the same digit six times: such a PIN is guessed first."),
    WeakPinRule.SEQUENCE: N_("Do not use digits in a row such as 123456 or 654321: they are guessed first."),
    WeakPinRule.INITIAL_PIN: N_("Do not use the initial PIN printed for every card: choose your own."),
    WeakPinRule.SAME_AS_OLD: N_("The new PIN must differ from the old PIN."),
    WeakPinRule.BIRTH_DATE: N_("Do not use your date of birth: it is printed on your ID card."),
    WeakPinRule.ID_SUFFIX: N_("Do not use the last six digits of your ID number: others can read them."),
    WeakPinRule.PHONE_SUFFIX: N_("Do not use the last six digits of your phone number: others know it."),
    WeakPinRule.MISMATCH: N_("The two entries of the new PIN were different. Please enter it again."),
}


class WeakPinError(Exception):
    """A refused PIN. Carries the rule only: str() and repr() never contain digits."""

    def __init__(self, rule: WeakPinRule) -> None:
        super().__init__(f"weak PIN refused: {rule.value}")
        self.rule = rule

    @property
    def message(self) -> str:
        return RULE_MESSAGES[self.rule]


def _birth_date_forms(id_number: str) -> list[bytes]:
    digits = id_number.strip().upper()
    if len(digits) == 18:
        yyyy, mm, dd = digits[6:10], digits[10:12], digits[12:14]
    elif len(digits) == 15:   # first-generation 15-digit numbers: YYMMDD at 6..12, 19xx
        yyyy, mm, dd = "19" + digits[6:8], digits[8:10], digits[10:12]
    else:
        return []
    if not (yyyy + mm + dd).isdigit():
        return []
    yy = yyyy[2:]
    forms = {yy + mm + dd, mm + dd + yy, dd + mm + yy, yyyy + mm, mm + yyyy}
    return [f.encode() for f in forms if len(f) == 6]


def _last_six_digits(value: str | None) -> bytes | None:
    """The last six characters when they are all digits (an ID ending in X has no such suffix)."""
    if not value:
        return None
    tail = "".join(value.split())[-6:]
    return tail.encode() if len(tail) == 6 and tail.isdigit() else None


# Bounds on the verifier's scrypt parameters: a wrong or hostile answer must not make one PIN
# check take seconds or hundreds of MiB (the backend's are N=2^14, r=8, p=1: ~50 ms, 16 MiB).
_MAX_N, _MAX_R, _MAX_P = 2**16, 16, 2
_SCRYPT_MAXMEM = 160 * 2**20


@dataclass(frozen=True)
class PhoneSuffixCheck:
    """The bound phone's last six digits as the backend's person summary gives them: never the
    digits, only ``scrypt(digits, salt)``. :meth:`matches` tests a PIN against it in place."""

    salt: bytes = field(repr=False)
    digest: bytes = field(repr=False)
    n: int = 2**14
    r: int = 8
    p: int = 1

    @classmethod
    def from_summary(cls, summary: Mapping[str, Any] | None) -> PhoneSuffixCheck | None:
        """The verifier in a person summary's ``phone_suffix_check``; None when absent or malformed
        (the rule is then not applied, which the caller logs)."""
        raw = (summary or {}).get("phone_suffix_check")
        if not isinstance(raw, Mapping) or raw.get("kdf") != "scrypt":
            return None
        try:
            salt = base64.b64decode(str(raw["salt"]), validate=True)
            digest = base64.b64decode(str(raw["hash"]), validate=True)
            n, r, p = int(raw["n"]), int(raw["r"]), int(raw["p"])
        except (KeyError, TypeError, ValueError, binascii.Error):
            return None
        if not (1 < n <= _MAX_N and n & (n - 1) == 0 and 0 < r <= _MAX_R and 0 < p <= _MAX_P
                and len(salt) >= 16 and 16 <= len(digest) <= 64):
            return None
        return cls(salt, digest, n, r, p)

    def matches(self, pin: bytearray) -> bool:
        """True when ``pin`` is the phone's last six digits. scrypt reads the bytearray through the
        buffer protocol: no str or bytes copy of the PIN is made."""
        derived = hashlib.scrypt(pin, salt=self.salt, n=self.n, r=self.r, p=self.p,
                                 maxmem=_SCRYPT_MAXMEM, dklen=len(self.digest))
        return hmac.compare_digest(derived, self.digest)


@dataclass(frozen=True)
class PinPolicy:
    """The policy for one citizen: built from the card holder's data and the bound phone."""

    initial_pin: str
    id_number: str | None = None
    bound_phone: str | None = None
    phone_suffix_check: PhoneSuffixCheck | None = None

    def check(self, new_pin: bytearray, old_pin: bytearray | None = None) -> None:
        """Raise :class:`WeakPinError` naming the first rule ``new_pin`` breaks."""
        if len(new_pin) != 6 or any(not 0x30 <= c <= 0x39 for c in new_pin):
            raise WeakPinError(WeakPinRule.FORMAT)
        if all(c == new_pin[0] for c in new_pin):
            raise WeakPinError(WeakPinRule.ALL_SAME)
        steps = {new_pin[i + 1] - new_pin[i] for i in range(5)}
        if steps in ({1}, {-1}):
            raise WeakPinError(WeakPinRule.SEQUENCE)
        if new_pin == self.initial_pin.encode():
            raise WeakPinError(WeakPinRule.INITIAL_PIN)
        if old_pin is not None and new_pin == old_pin:
            raise WeakPinError(WeakPinRule.SAME_AS_OLD)
        if self.id_number:
            if any(new_pin == form for form in _birth_date_forms(self.id_number)):
                raise WeakPinError(WeakPinRule.BIRTH_DATE)
            if new_pin == _last_six_digits(self.id_number):
                raise WeakPinError(WeakPinRule.ID_SUFFIX)
        if new_pin == _last_six_digits(self.bound_phone):
            raise WeakPinError(WeakPinRule.PHONE_SUFFIX)
        # Last: the only slow rule (~50 ms), run once the quick ones passed.
        if self.phone_suffix_check is not None and self.phone_suffix_check.matches(new_pin):
            raise WeakPinError(WeakPinRule.PHONE_SUFFIX)

    @staticmethod
    def check_confirmation(first: bytearray, second: bytearray) -> None:
        if first != second:
            raise WeakPinError(WeakPinRule.MISMATCH)
