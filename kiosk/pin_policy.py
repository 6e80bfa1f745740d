"""The weak-PIN policy: one module, used by every flow that sets a PIN.

The rules (DOMAIN.md, source 000: "no simple PINs such as a birthday or a phone number"):
exactly six digits; not all the same digit; not an ascending or descending run; not the region's
initial PIN; not the old PIN; not a date of birth taken from the ID number (YYMMDD, MMDDYY,
DDMMYY, YYYYMM, MMYYYY); not the last six digits of the ID number; not the last six digits of
the bound phone.

The new PIN exists in clear only inside the audited function that builds the card APDU (see
docs/pin-threat-model.md); that function calls :meth:`PinPolicy.check` with the digits in a
``bytearray``. The check compares bytes in place, never makes a ``str`` of the PIN, and its
error names the rule, never the digits.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

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


@dataclass(frozen=True)
class PinPolicy:
    """The policy for one citizen: built from the card holder's data and the bound phone."""

    initial_pin: str
    id_number: str | None = None
    bound_phone: str | None = None

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

    @staticmethod
    def check_confirmation(first: bytearray, second: bytearray) -> None:
        if first != second:
            raise WeakPinError(WeakPinRule.MISMATCH)
