"""The PIN pad as a service (after XFS4IoT Keyboard / PinPad / KeyManagement).

PIN entry tells the application *that* a digit was pressed, never *which*; its result is an
encrypted PIN block made inside the pad. Plain entry (phone numbers, SMS codes, bank card
numbers) reports every key with its value. Keys live in the pad: the kiosk loads working keys
wrapped under the pad's master key (from the PSAM) and checks each by its key check value.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol, runtime_checkable

from drivers.api import CommandHandle, CompletionCode, DeviceError, DeviceEvent, DeviceStatus, EventListener
from drivers.crypto.pinblock import PinBlockFormat

DEVICE_NAME = "pinpad"


class KeyKind(StrEnum):
    DIGIT_HIDDEN = "digitHidden"   # PIN mode: a digit was pressed (which one never leaves the pad)
    DIGIT = "digit"                # plain mode: ``value`` holds the digit
    CLEAR = "clear"                # everything typed so far is erased
    BACKSPACE = "backspace"        # the last digit is erased
    ENTER = "enter"
    CANCEL = "cancel"


class EntryMode(StrEnum):
    PIN = "pin"
    PLAIN = "plain"


@dataclass(frozen=True)
class KeyEvent(DeviceEvent):
    """One key press during an entry; ``count`` is the number of digits entered after it."""

    kind: KeyKind
    count: int
    mode: EntryMode = EntryMode.PIN
    value: str = ""                # only for KeyKind.DIGIT (plain mode)

    def __repr__(self) -> str:     # plain values are not secret, but keep them out of reprs anyway
        return f"KeyEvent(kind={self.kind.value}, count={self.count}, mode={self.mode.value})"


@dataclass(frozen=True)
class PinEntryResult:
    """The encrypted PIN block and what it was made with; never the digits."""

    block: bytes = field(repr=False)
    format: PinBlockFormat
    digits: int
    key_name: str
    algorithm: str                 # "3des" or "sm4": the cipher of ``key_name``

    def __str__(self) -> str:
        return repr(self)


@dataclass(frozen=True)
class PadInfo:
    version: str
    serial: str
    protocol: str
    wire_form: str


@dataclass(frozen=True)
class KeyLoadResult:
    key_name: str
    algorithm: str
    kcv: bytes                     # the check value the pad answered (matches the expected one)


class PinPadErrorCode(StrEnum):
    """Typed reasons a command ended badly (Completion.error_code); kiosk/messages/pinpad.py
    turns them into sentences for citizens and operators."""

    KCV_MISMATCH = "kcvMismatch"
    CEREMONY_MODE_OFF = "ceremonyModeOff"
    KEY_NOT_LOADED = "keyNotLoaded"
    MASTER_KEY_INVALID = "masterKeyInvalid"
    BAD_PARAMETER = "badParameter"
    INVALID_COMMAND = "invalidCommand"
    SELF_TEST_FAILED = "selfTestFailed"
    PAD_TIMEOUT = "padTimeout"
    NO_ANSWER = "noAnswer"
    BAD_FRAME = "badFrame"
    NAK = "nak"
    UNKNOWN_STATUS = "unknownStatus"
    PORT_GONE = "portGone"
    OFFLINE = "offline"
    BAD_INPUT = "badInput"
    TOO_SHORT = "tooShort"


class PinPadError(DeviceError):
    """A command failed for a pad-specific reason; the message never holds a key, block or PIN."""

    def __init__(self, code: CompletionCode, error_code: PinPadErrorCode, message: str = "") -> None:
        super().__init__(code, message or error_code.value, error_code.value)
        self.pad_error = error_code


@runtime_checkable
class PinPadService(Protocol):
    """What the services layer uses. Every command runs on the pad's one worker thread and ends
    with exactly one Completion; KeyEvents arrive through ``handle.on_event`` and ``subscribe``."""

    name: str

    @property
    def status(self) -> DeviceStatus: ...

    @property
    def status_detail(self) -> str: ...

    def wait_online(self, timeout: float) -> bool: ...

    def start(self) -> None: ...
    def stop(self) -> None: ...
    def subscribe(self, listener: EventListener) -> Callable[[], None]: ...

    def info(self) -> CommandHandle[PadInfo]: ...

    def start_pin_entry(self, pan: str, min_len: int = 6, max_len: int = 6, timeout_s: float | None = None,
                        auto_end: bool = False, key_name: str = "pin",
                        pan_has_check_digit: bool = False) -> CommandHandle[PinEntryResult]: ...

    def start_plain_entry(self, max_len: int, timeout_s: float | None = None, min_len: int = 1,
                          auto_end: bool = False) -> CommandHandle[str]: ...

    def start_navigation(self, timeout_s: float = 300.0) -> CommandHandle[None]: ...

    def load_master_key(self, key: bytes, expected_kcv: bytes = b"",
                        master_index: int | None = None) -> CommandHandle[KeyLoadResult]: ...

    def load_work_key(self, name: str, wrapped_key: bytes, expected_kcv: bytes) -> CommandHandle[KeyLoadResult]: ...

    def reset(self, erase_keys: bool = False) -> CommandHandle[None]: ...
