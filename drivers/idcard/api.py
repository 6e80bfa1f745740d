"""The resident ID-card reader (二代身份证阅读器) as a service, in the shapes of drivers/api.py.

The reader finds, selects and reads a card through its security module (SAM); it has no card
switch, so the driver polls "find card" and reports :class:`IdCardPresented` /
:class:`IdCardRemoved`. :meth:`IdCardReaderService.read_card` is one command with exactly one
completion: SUCCESS with :class:`IdCardData`, or a non-success code whose ``error_code`` is an
:class:`IdCardErrorCode` value (use :func:`idcard_error` to read it back).

The photo on the card is WLT-compressed by a licensed vendor codec: it is never decoded here, its
bytes are zeroed in the driver's buffers right after the read and only its length travels on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Protocol, runtime_checkable

from drivers.api import (
    CommandHandle,
    Completion,
    CompletionCode,
    DeviceError,
    DeviceStatus,
    EventListener,
    MediaInserted,
    MediaRemoved,
)

DEVICE_NAME = "idcard"


class DocumentKind(StrEnum):
    """What the card's text block says it is (card-type character at byte 248 of the text)."""

    RESIDENT_ID = "residentId"                      # 居民身份证 (blank type character)
    FOREIGN_PERMANENT_RESIDENT = "foreignPermanentResident"   # 外国人永久居留身份证 ("I")
    HMT_RESIDENCE_PERMIT = "hmtResidencePermit"     # 港澳台居民居住证 ("J")
    UNKNOWN = "unknown"


class IdCardErrorCode(StrEnum):
    """Typed reasons a command ended badly; kiosk/messages/idcard.py words them for people."""

    NO_CARD = "noCard"                        # 80h: no card on the reader
    SELECT_FAILED = "selectFailed"            # 81h: a card was seen but could not be selected
    CARD_REMOVED = "cardRemoved"              # 41h during a read: the card left the field
    CARD_AUTH_FAILED = "cardAuthFailed"       # 31h/32h/33h: card and SAM did not authenticate
    UNKNOWN_CARD_TYPE = "unknownCardType"     # 40h: not an ID card at all
    FOREIGN_CARD = "foreignPermanentResidentCard"   # read fine, but another document's layout
    HMT_CARD = "hmtResidencePermit"           # read fine, but another document's layout
    UNKNOWN_DOCUMENT = "unknownDocument"      # a type character this driver does not know
    MALFORMED_TEXT = "malformedText"          # the text block does not decode (field named)
    ID_NUMBER_CHECK = "idNumberCheck"         # the ID number's check character is wrong
    SAM_BUSY = "samBusy"                      # the SAM did not answer in time
    SAM_FAULT = "samFault"                    # 60h self-test failed / 66h not authorised
    COMMAND_REFUSED = "commandRefused"        # 21h/23h/24h: the SAM refused our command
    BAD_CHECKSUM = "badChecksum"              # answers kept arriving damaged (or 10h/11h)
    UNKNOWN_STATUS = "unknownStatus"
    PORT_GONE = "portGone"                    # the serial port vanished during the command
    OFFLINE = "offline"                       # the reader is not connected


@dataclass(frozen=True)
class IdCardHolder:
    """The resident ID card's text block, decoded. Personal data: the repr shows none of it."""

    name: str
    sex: str                    # GB/T 2261.1 code: "1" male, "2" female, "0"/"9" unknown/unstated
    nation: str                 # GB 3304 code, e.g. "01" (汉)
    birth_date: date
    address: str
    id_number: str              # 18 characters, last may be "X"
    authority: str              # 签发机关
    valid_from: date
    valid_until: date | None    # None = 长期 (long-term)

    def __repr__(self) -> str:
        return "IdCardHolder(<personal data hidden>)"

    __str__ = __repr__

    def expired(self, today: date) -> bool:
        """The card is valid through its end date (inclusive)."""
        return self.valid_until is not None and today > self.valid_until


@dataclass(frozen=True)
class IdCardData:
    """One read: the document, the holder (resident ID cards only) and how long the photo was.

    ``photo_length`` is all that is left of the photo: its bytes were zeroed after the read.
    """

    kind: DocumentKind
    holder: IdCardHolder
    photo_length: int
    card_serial: str = ""       # the 8 bytes the select answer carried (the chip's id), hex

    def __repr__(self) -> str:
        return f"IdCardData(kind={self.kind.value}, photo_length={self.photo_length})"


@dataclass(frozen=True)
class SamInfo:
    sam_id: str                 # "05.01-20101012-0000012345-1234567890" style, from 12 FFh


@dataclass(frozen=True)
class IdCardPresented(MediaInserted):
    at: float = 0.0             # time.monotonic() when "find card" first answered 9Fh


@dataclass(frozen=True)
class IdCardRemoved(MediaRemoved):
    at: float = 0.0


class IdCardError(DeviceError):
    """Ends a reader command with a typed reason. Messages hold no personal data."""

    def __init__(self, code: CompletionCode, error: IdCardErrorCode, message: str = "") -> None:
        super().__init__(code, message or error.value, error.value)
        self.error = error


def idcard_error(completion: Completion[object]) -> IdCardErrorCode | None:
    """The typed reason of a reader command's completion (None on success)."""
    if completion.ok:
        return None
    try:
        return IdCardErrorCode(completion.error_code)
    except ValueError:
        return {CompletionCode.TIMEOUT: IdCardErrorCode.SAM_BUSY,
                CompletionCode.NO_MEDIA: IdCardErrorCode.NO_CARD}.get(completion.code, IdCardErrorCode.UNKNOWN_STATUS)


@runtime_checkable
class IdCardReaderService(Protocol):
    """What the session core and the flows use. One worker thread, one completion per command."""

    name: str

    @property
    def status(self) -> DeviceStatus: ...

    @property
    def status_detail(self) -> str: ...

    @property
    def card_present(self) -> bool: ...

    def wait_online(self, timeout: float) -> bool: ...
    def start(self) -> None: ...
    def stop(self) -> None: ...
    def subscribe(self, listener: EventListener) -> Callable[[], None]: ...

    def sam_info(self) -> CommandHandle[SamInfo]: ...

    def read_card(self) -> CommandHandle[IdCardData]: ...
