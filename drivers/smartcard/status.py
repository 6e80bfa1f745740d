"""Status words -> typed outcomes (ISO 7816-4 and the social-security card specification)."""

from __future__ import annotations

from drivers.smartcard.anomalies import AnomalyKind
from drivers.smartcard.api import CardOutcome, PinResult
from drivers.smartcard.transport import Response, Transport

_OUTCOMES = {
    0x9000: CardOutcome.OK,
    0x6983: CardOutcome.BLOCKED,              # authentication method blocked
    0x6982: CardOutcome.SECURITY_NOT_SATISFIED,
    0x6985: CardOutcome.SECURITY_NOT_SATISFIED,  # conditions of use not satisfied
    0x6300: CardOutcome.AUTH_FAILED,           # external authentication refused
    0x6988: CardOutcome.AUTH_FAILED,           # secure-messaging data (MAC) incorrect
    0x6984: CardOutcome.AUTH_FAILED,           # reference data unusable (no fresh challenge)
    0x6A82: CardOutcome.UNKNOWN_CARD,          # application or file not found
    0x6A81: CardOutcome.CARD_LOCKED,           # function not supported / application blocked
    0x9303: CardOutcome.CARD_LOCKED,           # application permanently locked
    0x6A80: CardOutcome.INVALID_PIN_FORMAT,    # wrong data in the command (PIN commands)
    0x6D00: CardOutcome.NOT_SUPPORTED,
    0x6E00: CardOutcome.NOT_SUPPORTED,
}


def outcome_for(sw: int) -> CardOutcome:
    if sw & 0xFFF0 == 0x63C0:
        return CardOutcome.BLOCKED if sw & 0x0F == 0 else CardOutcome.WRONG_PIN
    return _OUTCOMES.get(sw, CardOutcome.UNKNOWN_STATUS)


def pin_result(sw: int, verified_on_success: bool = True) -> PinResult:
    """The card's answer to VERIFY / CHANGE PIN / RESET / UNBLOCK as a PinResult."""
    outcome = outcome_for(sw)
    tries = sw & 0x0F if sw & 0xFFF0 == 0x63C0 else None
    if outcome is CardOutcome.BLOCKED:
        tries = 0
    return PinResult(outcome, tries_left=tries, verified=outcome is CardOutcome.OK and verified_on_success, sw=sw)


def checked_pin_answer(t: Transport, answer: Response, what: str, max_tries: int,
                       verified_on_success: bool = True) -> PinResult:
    """A PIN command's answer, refusing what a real card never says: data with the answer
    (VERIFY, CHANGE, RESET and UNBLOCK answer a status word only) and a tries counter above the
    card's configured maximum (63CF on a 3-try card). Both raise (UNKNOWN_STATUS), counted."""
    if answer.data:
        kind = AnomalyKind.DATA_ON_VERIFY if what.startswith("VERIFY") else AnomalyKind.DATA_ON_PIN_COMMAND
        raise t.refuse(kind, what, answer)
    if answer.sw & 0xFFF0 == 0x63C0 and answer.sw & 0x0F > max_tries:
        raise t.refuse(AnomalyKind.TRIES_ABOVE_MAX, what, answer)
    return pin_result(answer.sw, verified_on_success)
