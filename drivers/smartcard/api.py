"""What the services layer sees of the smart-card layer: typed data, outcomes, events, CardService.

Every card command returns a :class:`drivers.api.CommandHandle` running on the card device's one
worker thread. A command that reached the card and got an answer completes ``SUCCESS`` with a
typed result (PIN commands: a :class:`PinResult` whose ``outcome`` may be ``WRONG_PIN``); a
command that could not be carried out completes with a non-success code and ``error_code`` set
to a :class:`CardOutcome` value (use :func:`card_outcome` to read it back).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Protocol, runtime_checkable

from drivers.api import CommandHandle as CommandHandle
from drivers.api import (
    Completion,
    CompletionCode,
    DeviceError,
    DeviceEvent,
    DeviceStatus,
    EventListener,
    MediaInserted,
    MediaRemoved,
)

CITIZEN_DEVICE = "smartcard.citizen"


class CardOutcome(StrEnum):
    """Every way a card command can end, named after the national reader API where it has a code."""

    OK = "ok"
    WRONG_PIN = "wrongPin"                          # 63Cx, x tries left
    BLOCKED = "pinBlocked"                          # 6983 (or 63C0)
    INITIAL_PIN_NOT_ALLOWED = "initialPin"          # -35: correct, but still the initial PIN
    CANNOT_REVERT_TO_INITIAL = "cannotRevertToInitial"  # -36: the new PIN is the initial PIN
    INVALID_PIN_FORMAT = "invalidPinFormat"         # not 6 digits (checked before the card sees it)
    PIN_MISMATCH = "pinMismatch"                    # new PIN entered twice differently (services)
    CARD_REMOVED = "cardRemoved"                    # pulled during the command
    CARD_MUTE = "cardMute"                          # in the reader but not answering
    NO_CARD = "noCard"                              # no card in the citizen's reader
    UNKNOWN_CARD = "unknownCard"                    # no SSSE application (6A82 on SELECT)
    CARD_LOCKED = "cardLocked"                      # application or card blocked (6A81, 9303)
    NOT_SUPPORTED = "notSupported"                  # 6D00/6E00/6A81 for a command
    SECURITY_NOT_SATISFIED = "securityNotSatisfied"  # 6982
    AUTH_FAILED = "authFailed"                      # 6300/6988: external auth or MAC refused
    MALFORMED_DATA = "malformedData"                # a record does not decode
    UNKNOWN_STATUS = "unknownStatus"                # a status word this driver does not know
    PSAM_MISSING = "psamMissing"                    # no PSAM in its slot
    PSAM_ERROR = "psamError"                        # the PSAM refused a command
    READER_GONE = "readerGone"                      # the citizen's reader is not there
    SERVICE_DOWN = "serviceDown"                    # pcscd is not running
    SECURE_PIN_ENTRY = "securePinEntry"             # secure PIN entry failed or was cancelled
    WEAK_PIN = "weakPin"                            # the caller's new-PIN policy refused it (refused_rule)


class CardGeneration(StrEnum):
    GEN1 = "1"
    GEN2 = "2"
    GEN3 = "3"


@dataclass(frozen=True)
class IssuerData:
    """EF05 (发卡机构数据)."""

    card_id_code: str           # 01 卡识别码; first 6 characters = issuing region
    card_type: str              # 02
    spec_version: str           # 03 "1.00" / "2.00" / "3.00"
    institution: str            # 04 issuing institution code
    issue_date: date            # 05
    expiry_date: date           # 06
    card_number: str            # 07, 9 characters

    @property
    def region_code(self) -> str:
        return self.card_id_code[:6]

    @property
    def generation(self) -> CardGeneration:
        major = self.spec_version.split(".")[0].strip()
        return {"1": CardGeneration.GEN1, "3": CardGeneration.GEN3}.get(major, CardGeneration.GEN2)

    def __repr__(self) -> str:  # the card number is personal data: keep it out of logs
        return (f"IssuerData(region={self.region_code}, type={self.card_type!r}, "
                f"version={self.spec_version!r}, card_number=***{self.card_number[-4:]})")


@dataclass(frozen=True)
class HolderData:
    """EF06 (持卡人基本信息)."""

    ssn: str                    # 08 社会保障号码 = resident ID number
    name: str                   # 09 (+ 4E extended name, joined)
    sex: str                    # 0A "1" male, "2" female, "9" unstated
    ethnicity: str              # 0B GB 3304 code, e.g. "01"
    birthplace: str             # 0C GB/T 2260 code
    birth_date: date            # 0D

    def __repr__(self) -> str:
        return "HolderData(<personal data hidden>)"


@dataclass(frozen=True)
class CardInfo:
    issuer: IssuerData
    holder: HolderData
    algorithm: str              # "des" / "ssf33" / "sm4" from the SSSE FCI (9F0C -> 86)
    atr: bytes = field(default=b"")

    @property
    def generation(self) -> CardGeneration:
        return self.issuer.generation

    def __repr__(self) -> str:
        return f"CardInfo({self.issuer!r}, algorithm={self.algorithm!r})"


@dataclass(frozen=True)
class PinResult:
    """The card's answer to a PIN command. ``tries_left`` when the card said it (63Cx or VERIFY
    without data); ``verified`` whether the card's PIN security state is now set."""

    outcome: CardOutcome
    tries_left: int | None = None
    verified: bool = False
    sw: int = 0x9000
    refused_rule: str | None = None     # WEAK_PIN: the policy rule the new PIN broke

    @property
    def ok(self) -> bool:
        return self.outcome is CardOutcome.OK


class PinSource(StrEnum):
    DIGITS = "digits"           # a bytearray of ASCII digits (tests, demo)
    PIN_BLOCK = "pinBlock"      # an encrypted ISO 9564 block from the PIN pad
    SECURE_READER = "secureReader"  # PC/SC part 10 FEATURE_VERIFY_PIN_DIRECT


@dataclass(frozen=True)
class PinBlockInput:
    """An encrypted PIN block from the pad (format 0, PAN = the card number, see docs).

    ``block`` is encrypted under the PIN working key that :meth:`CardService.new_pin_working_key`
    made; only the PSAM can decrypt it.
    """

    block: bytes

    def __repr__(self) -> str:
        return f"PinBlockInput(<{len(self.block)} bytes>)"


PinInput = bytearray | PinBlockInput


class PinRefused(Exception):
    """Raised by a new-PIN check (see :data:`NewPinCheck`) to refuse a PIN; ``rule`` names why.

    Never put digits in it: only the rule's name travels back to the flow.
    """

    def __init__(self, rule: str) -> None:
        super().__init__(f"new PIN refused: {rule}")
        self.rule = rule


# Called inside the audited PIN function with the new PIN (and, for CHANGE, the old one) as
# ASCII digits in bytearrays that are zeroed right after; raises PinRefused to stop the command
# before anything is written to the card. The weak-PIN policy runs here because this is the one
# place the digits of a pad-entered PIN exist in clear.
NewPinCheck = Callable[[bytearray, bytearray | None], None]


@dataclass(frozen=True)
class WrappedWorkingKey:
    """A fresh PIN working key from the PSAM, encrypted under the pad's master key."""

    algorithm: str              # "sm4" or "3des"
    wrapped: bytes              # load into the pad (its "load work key" command)
    kcv: bytes                  # 3 bytes: the pad's answer must match

    def __repr__(self) -> str:
        return f"WrappedWorkingKey({self.algorithm}, kcv={self.kcv.hex()})"


@dataclass(frozen=True)
class ReaderInfo:
    citizen_reader: str | None
    psam_reader: str | None
    all_readers: tuple[str, ...]
    secure_pin_entry: bool      # the citizen's reader offers FEATURE_VERIFY_PIN_DIRECT
    card_present: bool


# -- events -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class CardInserted(MediaInserted):
    reader: str = ""
    atr: bytes = b""
    at: float = 0.0             # time.monotonic() when pcscd reported the card present


@dataclass(frozen=True)
class CardRemoved(MediaRemoved):
    reader: str = ""
    at: float = 0.0


@dataclass(frozen=True)
class ReaderGone(DeviceEvent):
    reader: str = ""
    reason: str = ""            # "unplugged" / "serviceDown"


@dataclass(frozen=True)
class ReaderBack(DeviceEvent):
    reader: str = ""


# -- errors -----------------------------------------------------------------------------------
class CardError(DeviceError):
    """Ends a card command with a typed outcome. Messages never hold PINs, keys or personal data."""

    def __init__(self, outcome: CardOutcome, message: str = "", sw: int | None = None,
                 code: CompletionCode | None = None) -> None:
        if outcome is CardOutcome.OK:
            # A command that ends in an error is never "ok", whatever status word came with it
            # (e.g. 9000 with a malformed answer): the citizen must not be told "done".
            outcome = CardOutcome.UNKNOWN_STATUS
            message = f"{message or 'command'}: malformed answer"
        if code is None:
            code = _COMPLETION_FOR.get(outcome, CompletionCode.COMMAND_ERROR)
        text = message or outcome.value
        if sw is not None:
            text = f"{text} (SW {sw:04X})"
        super().__init__(code, text, error_code=outcome.value)
        self.outcome = outcome
        self.sw = sw


_COMPLETION_FOR = {
    CardOutcome.CARD_REMOVED: CompletionCode.NO_MEDIA,
    CardOutcome.CARD_MUTE: CompletionCode.HARDWARE_ERROR,
    CardOutcome.NO_CARD: CompletionCode.NO_MEDIA,
    CardOutcome.READER_GONE: CompletionCode.HARDWARE_ERROR,
    CardOutcome.SERVICE_DOWN: CompletionCode.HARDWARE_ERROR,
    CardOutcome.PSAM_MISSING: CompletionCode.HARDWARE_ERROR,
    CardOutcome.PSAM_ERROR: CompletionCode.HARDWARE_ERROR,
    CardOutcome.MALFORMED_DATA: CompletionCode.INVALID_DATA,
    CardOutcome.INVALID_PIN_FORMAT: CompletionCode.INVALID_DATA,
    CardOutcome.NOT_SUPPORTED: CompletionCode.UNSUPPORTED,
}


def card_outcome(completion: Completion[object]) -> CardOutcome:
    """The typed outcome of any card command's completion. ``OK`` only for a successful
    completion: a failed one never maps to OK, whatever its error code says."""
    result = completion.result
    if completion.ok:
        return result.outcome if isinstance(result, PinResult) else CardOutcome.OK
    try:
        outcome = CardOutcome(completion.error_code)
    except ValueError:
        outcome = {CompletionCode.NO_MEDIA: CardOutcome.NO_CARD}.get(completion.code, CardOutcome.UNKNOWN_STATUS)
    return CardOutcome.UNKNOWN_STATUS if outcome is CardOutcome.OK else outcome


# -- the service ------------------------------------------------------------------------------
@runtime_checkable
class CardService(Protocol):
    """The citizen's card and the PSAM, as the services layer uses them.

    PIN arguments are either a ``bytearray`` of ASCII digits, which the service zeroes when the
    command ends, or a :class:`PinBlockInput` from the PIN pad. ``None`` means "let the
    citizen's reader take the PIN on its own keypad" (only where ``reader_info().secure_pin_entry``).
    """

    @property
    def status(self) -> DeviceStatus: ...

    @property
    def status_detail(self) -> str: ...      # technical, for logs and the operator; no secrets

    def subscribe(self, listener: EventListener) -> Callable[[], None]: ...

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def reader_info(self) -> CommandHandle[ReaderInfo]: ...

    def read_card(self) -> CommandHandle[CardInfo]: ...

    def pin_tries_left(self) -> CommandHandle[PinResult]: ...

    def verify_pin(self, pin: PinInput | None) -> CommandHandle[PinResult]: ...

    def change_pin(self, old: PinInput, new: PinInput,
                   new_pin_check: NewPinCheck | None = None) -> CommandHandle[PinResult]: ...

    def reload_pin(self, new: PinInput, new_pin_check: NewPinCheck | None = None) -> CommandHandle[PinResult]: ...

    # Check only (nothing sent to the card): OK, WEAK_PIN (refused_rule) or CANNOT_REVERT_TO_INITIAL
    # for a new PIN that change_pin (``old`` given) or reload_pin would get; never the digits.
    def check_new_pin(self, new: PinInput, old: PinInput | None = None,
                      new_pin_check: NewPinCheck | None = None) -> CommandHandle[PinResult]: ...

    def unblock_pin(self) -> CommandHandle[PinResult]: ...

    def new_pin_working_key(self) -> CommandHandle[WrappedWorkingKey]: ...
