"""The reader interface the card service talks to, and its PC/SC implementation (pyscard's scard).

A :class:`ReaderBackend` is used from ONE thread (the card device's worker), except
:meth:`ReaderBackend.wake`, which other threads call to interrupt a waiting
:meth:`ReaderBackend.wait_change` (SCardCancel is the one PC/SC call meant for that).
The in-process virtual backend (``drivers.smartcard.virtual.inproc``) implements the same shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from smartcard import scard


class ReaderErrorKind(StrEnum):
    NO_SERVICE = "noService"        # pcscd not running / context invalidated by a restart
    NO_READER = "noReader"          # the named reader is not there
    NO_CARD = "noCard"
    REMOVED = "removed"             # the card went away during the exchange
    COMM = "comm"                   # any other transport failure
    UNSUPPORTED = "unsupported"     # e.g. SCardControl not supported by the driver


class ReaderError(Exception):
    def __init__(self, kind: ReaderErrorKind, detail: str = "", code: int = 0) -> None:
        super().__init__(f"{kind.value}: {detail}" if detail else kind.value)
        self.kind = kind
        self.code = code


@dataclass(frozen=True)
class ReaderSnapshot:
    present: bool
    atr: bytes = b""
    mute: bool = False              # a card is in but does not answer
    token: int = 0                  # opaque state for the next wait_change (event counter)


class Connection(Protocol):
    @property
    def atr(self) -> bytes: ...

    @property
    def protocol(self) -> str: ...      # "T=0" / "T=1"

    def transmit(self, apdu: bytes) -> bytes: ...

    def control(self, code: int, data: bytes) -> bytes: ...

    def close(self, reset: bool = False) -> None: ...   # reset: end the card's security state too


class ReaderBackend(Protocol):
    name: str

    def open(self) -> None: ...                       # (re)build the context; raises NO_SERVICE

    def close(self) -> None: ...

    def list_readers(self) -> list[str]: ...          # raises NO_SERVICE

    def wait_change(self, known: dict[str, ReaderSnapshot], timeout_ms: int) -> dict[str, ReaderSnapshot]: ...

    def wake(self) -> None: ...

    def connect(self, reader: str) -> Connection: ...

    def connect_direct(self, reader: str) -> Connection: ...      # no card needed (SCardControl)

    def fresh(self) -> ReaderBackend: ...
    # A backend with a context of its own, for when this one is stuck in a call that never
    # returns (a hung reader): the caller abandons this one and releases it once that call ends.


# -- PC/SC ------------------------------------------------------------------------------------
_SERVICE_GONE = {
    scard.SCARD_E_NO_SERVICE, scard.SCARD_E_INVALID_HANDLE, scard.SCARD_E_SERVICE_STOPPED,
    scard.SCARD_F_COMM_ERROR,           # "RPC transport error": pcscd died during the call
}
_CARD_GONE = {scard.SCARD_W_REMOVED_CARD, scard.SCARD_E_NO_SMARTCARD, scard.SCARD_W_RESET_CARD,
              scard.SCARD_W_UNPOWERED_CARD}
_READER_GONE = {scard.SCARD_E_UNKNOWN_READER, scard.SCARD_E_READER_UNAVAILABLE,
                getattr(scard, "SCARD_E_NO_READERS_AVAILABLE", 0x8010002E)}
PNP_NOTIFICATION = "\\\\?PnP?\\Notification"


def _error(hresult: int, what: str) -> ReaderError:
    text = f"{what}: {scard.SCardGetErrorMessage(hresult)} (0x{hresult & 0xFFFFFFFF:08X})"
    if hresult in _SERVICE_GONE:
        return ReaderError(ReaderErrorKind.NO_SERVICE, text, hresult)
    if hresult in _CARD_GONE:
        return ReaderError(ReaderErrorKind.REMOVED, text, hresult)
    if hresult in _READER_GONE:
        return ReaderError(ReaderErrorKind.NO_READER, text, hresult)
    if hresult in (scard.SCARD_E_UNSUPPORTED_FEATURE, getattr(scard, "ERROR_NOT_SUPPORTED", 0x32)):
        return ReaderError(ReaderErrorKind.UNSUPPORTED, text, hresult)
    return ReaderError(ReaderErrorKind.COMM, text, hresult)


class PcscConnection:
    def __init__(self, hcard: int, protocol: int, atr: bytes) -> None:
        self._hcard = hcard
        self._protocol = protocol
        self._atr = atr

    @property
    def atr(self) -> bytes:
        return self._atr

    @property
    def protocol(self) -> str:
        return "T=1" if self._protocol == scard.SCARD_PROTOCOL_T1 else "T=0"

    def transmit(self, apdu: bytes) -> bytes:
        command = list(apdu)
        try:
            hresult, response = scard.SCardTransmit(self._hcard, self._protocol, command)
        finally:
            command[:] = [0] * len(command)   # the list may hold PIN data: clear our copy
        if hresult != scard.SCARD_S_SUCCESS:
            raise _error(hresult, "SCardTransmit")
        try:
            return bytes(response)
        finally:
            response[:] = [0] * len(response)

    def control(self, code: int, data: bytes) -> bytes:
        hresult, response = scard.SCardControl(self._hcard, code, list(data))
        if hresult != scard.SCARD_S_SUCCESS:
            raise _error(hresult, "SCardControl")
        return bytes(response)

    def close(self, reset: bool = False) -> None:
        # Never reset a card that just failed: pcscd then marks the slot empty by itself and, with
        # vpcd's polling, can miss the next insertion. A card that is gone has no state to reset.
        if self._hcard:
            scard.SCardDisconnect(self._hcard, scard.SCARD_RESET_CARD if reset else scard.SCARD_LEAVE_CARD)
            self._hcard = 0


class PcscBackend:
    """PC/SC through pyscard's thin ``scard`` layer (no CardMonitor threads: they die on restart)."""

    name = "pcsc"

    def __init__(self) -> None:
        self._context: int | None = None

    def open(self) -> None:
        self.close()
        hresult, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
        if hresult != scard.SCARD_S_SUCCESS:
            raise ReaderError(ReaderErrorKind.NO_SERVICE, scard.SCardGetErrorMessage(hresult), hresult)
        self._context = context

    def close(self) -> None:
        if self._context is not None:
            scard.SCardReleaseContext(self._context)  # fails harmlessly if pcscd is gone
            self._context = None

    def _ctx(self) -> int:
        if self._context is None:
            raise ReaderError(ReaderErrorKind.NO_SERVICE, "no PC/SC context")
        return self._context

    def list_readers(self) -> list[str]:
        hresult, readers = scard.SCardListReaders(self._ctx(), [])
        if hresult in _READER_GONE:
            return []
        if hresult != scard.SCARD_S_SUCCESS:
            raise _error(hresult, "SCardListReaders")
        return list(readers)

    def wait_change(self, known: dict[str, ReaderSnapshot], timeout_ms: int) -> dict[str, ReaderSnapshot]:
        """Block until a reader's state differs from ``known`` (or a reader comes or goes)."""
        states = [(name, snap.token) for name, snap in known.items()]
        states.append((PNP_NOTIFICATION, known.get(PNP_NOTIFICATION, ReaderSnapshot(False)).token))
        hresult, new_states = scard.SCardGetStatusChange(self._ctx(), timeout_ms, states)
        if hresult in (scard.SCARD_E_TIMEOUT, scard.SCARD_E_CANCELLED):
            return dict(known)
        if hresult in _READER_GONE:        # a reader in the query went away: drop it, look again
            listed = set(self.list_readers())
            return {name: snap for name, snap in known.items() if name in listed or name == PNP_NOTIFICATION}
        if hresult != scard.SCARD_S_SUCCESS:
            raise _error(hresult, "SCardGetStatusChange")
        result: dict[str, ReaderSnapshot] = {}
        for name, event_state, atr in new_states:
            token = event_state & ~scard.SCARD_STATE_CHANGED
            if name == PNP_NOTIFICATION:
                result[name] = ReaderSnapshot(False, token=token)
                continue
            if event_state & (scard.SCARD_STATE_UNKNOWN | scard.SCARD_STATE_IGNORE):
                continue                                   # the reader went away
            present = bool(event_state & scard.SCARD_STATE_PRESENT)
            result[name] = ReaderSnapshot(present, bytes(atr) if present else b"",
                                          mute=bool(event_state & scard.SCARD_STATE_MUTE), token=token)
        return result

    def wake(self) -> None:
        context = self._context
        if context is not None:
            scard.SCardCancel(context)

    def connect(self, reader: str) -> Connection:
        hresult, hcard, protocol = scard.SCardConnect(
            self._ctx(), reader, scard.SCARD_SHARE_SHARED, scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1)
        if hresult != scard.SCARD_S_SUCCESS:
            error = _error(hresult, "SCardConnect")
            if hresult in (scard.SCARD_E_NO_SMARTCARD, scard.SCARD_W_REMOVED_CARD):
                error = ReaderError(ReaderErrorKind.NO_CARD, str(error), hresult)
            raise error
        hresult, _reader, _state, _proto, atr = scard.SCardStatus(hcard)
        return PcscConnection(hcard, protocol, bytes(atr) if hresult == scard.SCARD_S_SUCCESS else b"")

    def fresh(self) -> PcscBackend:
        # A new context is a new connection to pcscd with its own lock: pcsc-lite holds a
        # context's lock for the whole of SCardTransmit, so nothing else can use the stuck one
        # (SCardDisconnect / SCardReleaseContext on it block until the transmit returns).
        return PcscBackend()

    def connect_direct(self, reader: str) -> Connection:
        """A direct connection to the reader itself, for feature discovery without a card."""
        hresult, hcard, protocol = scard.SCardConnect(self._ctx(), reader, scard.SCARD_SHARE_DIRECT, 0)
        if hresult != scard.SCARD_S_SUCCESS:
            raise _error(hresult, "SCardConnect(direct)")
        return PcscConnection(hcard, protocol, b"")
