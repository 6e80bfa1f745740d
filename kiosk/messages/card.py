"""What the kiosk tells a citizen for each card outcome: short sentences that say what to do next.

msgids are English (``N_``); the Chinese is in locale/zh_CN/LC_MESSAGES/card.po. Use
:func:`sentence` (one outcome) or :func:`for_completion` (any card command's completion).
"""

from __future__ import annotations

from drivers.api import Completion, DeviceStatus
from drivers.smartcard.api import CardOutcome, PinResult, card_outcome
from kiosk.i18n import N_, _

OUTCOME: dict[CardOutcome, str] = {
    CardOutcome.OK: N_("Done."),
    CardOutcome.WRONG_PIN: N_("Wrong PIN. Please enter it again."),
    CardOutcome.BLOCKED: N_("Your card's PIN is locked. Choose \"Unlock PIN\", or go to the service counter "
                            "with your ID card."),
    CardOutcome.INITIAL_PIN_NOT_ALLOWED: N_("Your card still has its initial PIN. Please set a new PIN first."),
    CardOutcome.CANNOT_REVERT_TO_INITIAL: N_("The new PIN cannot be the initial PIN. Please choose another one."),
    CardOutcome.INVALID_PIN_FORMAT: N_("A PIN has 6 digits. Please enter it again."),
    CardOutcome.PIN_MISMATCH: N_("The two new PINs are different. Please enter the new PIN again."),
    CardOutcome.CARD_REMOVED: N_("The card was taken out too early. Please insert it again and wait."),
    CardOutcome.CARD_MUTE: N_("Your card cannot be read. Please take it out, insert it again with the chip "
                              "facing up, or go to the service counter."),
    CardOutcome.NO_CARD: N_("Please insert your social security card, chip first."),
    CardOutcome.UNKNOWN_CARD: N_("This is not a social security card. Please insert your social security card."),
    CardOutcome.CARD_LOCKED: N_("Your card is locked. Please go to the service counter with your ID card, "
                                "or call 12333."),
    CardOutcome.NOT_SUPPORTED: N_("Your card does not support this service here. Please go to the service counter."),
    CardOutcome.SECURITY_NOT_SATISFIED: N_("Please enter your card's PIN first, then try again."),
    CardOutcome.AUTH_FAILED: N_("Your card could not be verified. Please go to the service counter with your "
                                "ID card, or call 12333."),
    CardOutcome.MALFORMED_DATA: N_("The data on your card cannot be read. Please go to the service counter."),
    CardOutcome.UNKNOWN_STATUS: N_("Your card gave an unexpected answer. Please try again, or go to the service "
                                   "counter."),
    CardOutcome.PSAM_MISSING: N_("This service is not available at this kiosk now. Please use another kiosk or "
                                 "go to the service counter."),
    CardOutcome.PSAM_ERROR: N_("This service is not available at this kiosk now. Please use another kiosk or "
                               "go to the service counter."),
    CardOutcome.READER_GONE: N_("The card reader is not working. Please use another kiosk or call 12333."),
    CardOutcome.SERVICE_DOWN: N_("The card reader is restarting. Please wait a moment and try again."),
    CardOutcome.SECURE_PIN_ENTRY: N_("PIN entry on the card reader did not finish. Please try again."),
    CardOutcome.WEAK_PIN: N_("This PIN is too easy to guess. Please choose another one."),
}

TRIES_LEFT: str = N_("Wrong PIN. {n} tries left before the PIN locks.")
TIMED_OUT: str = N_("The card did not answer in time. Please take it out, insert it again and try again.")
CANCELED: str = N_("Canceled.")

STATUS: dict[DeviceStatus, str] = {
    DeviceStatus.NO_MEDIA: N_("Please insert your social security card, chip first."),
    DeviceStatus.OFFLINE: N_("The card reader is not working. Please use another kiosk or call 12333."),
    DeviceStatus.NO_DEVICE: N_("The card reader is not working. Please use another kiosk or call 12333."),
    DeviceStatus.SERVICE_DOWN: N_("The card reader is restarting. Please wait a moment and try again."),
    DeviceStatus.HARDWARE_ERROR: N_("Your card cannot be read. Please take it out, insert it again with the chip "
                                    "facing up, or go to the service counter."),
}


def sentence(outcome: CardOutcome, tries_left: int | None = None) -> str:
    """The sentence for an outcome, in the current language."""
    if outcome is CardOutcome.WRONG_PIN and tries_left is not None:
        return _(TRIES_LEFT).format(n=tries_left)
    return _(OUTCOME[outcome])


def for_completion(completion: Completion[object]) -> str:
    """The sentence for any card command's completion (timeouts and cancels included)."""
    code = completion.code.value
    if code == "timeOut":
        return _(TIMED_OUT)
    if code == "canceled":
        return _(CANCELED)
    result = completion.result
    tries = result.tries_left if isinstance(result, PinResult) else None
    return sentence(card_outcome(completion), tries)


def status_sentence(status: DeviceStatus) -> str | None:
    """What to show for the reader's status; None when there is nothing to say (online)."""
    msgid = STATUS.get(status)
    return _(msgid) if msgid else None
