"""What a citizen reads when a PIN pad command ends badly: what happened, and what to do next.

Keys are the driver's ``Completion.error_code`` (drivers.pinpad.api.PinPadErrorCode), falling back
to the ``CompletionCode``. Texts are English msgids (N_) translated when shown (locale/.../pinpad.po).
"""

from __future__ import annotations

from dataclasses import dataclass

from drivers.api import Completion, CompletionCode
from drivers.pinpad.api import PinPadErrorCode
from kiosk.i18n import N_, _


@dataclass(frozen=True)
class PadMessage:
    what: str            # msgid: what happened
    todo: str            # msgid: what to do next (retry, counter, 12333)
    retry: bool          # whether offering "try again" makes sense

    def render(self) -> tuple[str, str]:
        return _(self.what), _(self.todo)


_CANCELED = PadMessage(N_("PIN entry was canceled."),
                       N_("Touch Try again to enter it again, or go to the counter."), True)
_TIMEOUT = PadMessage(N_("No key was pressed for a while."),
                      N_("Please try again and press Enter (确认) after the last digit."), True)
_NOT_READY = PadMessage(N_("The PIN pad is not ready for secure entry."),
                        N_("Please go to the counter or call 12333. Staff have been told."), False)
_NOT_RESPONDING = PadMessage(N_("The PIN pad is not responding."),
                             N_("Please wait a moment and try again, or go to the counter."), True)
_REFUSED = PadMessage(N_("The PIN pad could not do this."),
                      N_("Please try again. If it happens again, go to the counter."), True)
_TOO_SHORT = PadMessage(N_("Not enough digits were entered."),
                        N_("Please enter all the digits, then press Enter (确认)."), True)

BY_ERROR_CODE: dict[str, PadMessage] = {
    PinPadErrorCode.KCV_MISMATCH: _NOT_READY,
    PinPadErrorCode.KEY_NOT_LOADED: _NOT_READY,
    PinPadErrorCode.MASTER_KEY_INVALID: _NOT_READY,
    PinPadErrorCode.CEREMONY_MODE_OFF: _NOT_READY,
    PinPadErrorCode.SELF_TEST_FAILED: _NOT_READY,
    PinPadErrorCode.PAD_TIMEOUT: _TIMEOUT,
    PinPadErrorCode.NO_ANSWER: _NOT_RESPONDING,
    PinPadErrorCode.BAD_FRAME: _NOT_RESPONDING,
    PinPadErrorCode.NAK: _NOT_RESPONDING,
    PinPadErrorCode.UNKNOWN_STATUS: _NOT_RESPONDING,
    PinPadErrorCode.PORT_GONE: _NOT_RESPONDING,
    PinPadErrorCode.OFFLINE: _NOT_RESPONDING,
    PinPadErrorCode.BAD_PARAMETER: _REFUSED,
    PinPadErrorCode.INVALID_COMMAND: _REFUSED,
    PinPadErrorCode.BAD_INPUT: _REFUSED,
    PinPadErrorCode.TOO_SHORT: _TOO_SHORT,
}

BY_COMPLETION: dict[CompletionCode, PadMessage] = {
    CompletionCode.CANCELED: _CANCELED,
    CompletionCode.TIMEOUT: _TIMEOUT,
    CompletionCode.HARDWARE_ERROR: _NOT_RESPONDING,
    CompletionCode.INVALID_DATA: _REFUSED,
    CompletionCode.UNSUPPORTED: _NOT_READY,
    CompletionCode.COMMAND_ERROR: _REFUSED,
    CompletionCode.USER_ERROR: _REFUSED,
    CompletionCode.FRAUD_ATTEMPT: _NOT_READY,
    CompletionCode.NO_MEDIA: _REFUSED,
}


def message_for(completion: Completion[object]) -> PadMessage | None:
    """The message for a failed PIN pad command; None for a success."""
    if completion.ok:
        return None
    by_code = BY_ERROR_CODE.get(completion.error_code)
    return by_code or BY_COMPLETION.get(completion.code, _NOT_RESPONDING)


# Texts for the PIN entry screen (ui/widgets/pin_entry.py renders them).
PIN_TITLE = N_("Enter your card PIN on the PIN pad")
PLAIN_TITLE = N_("Enter the number on the PIN pad")
PIN_SHIELD_HINT = N_("Cover the keys with your other hand while you type.")
