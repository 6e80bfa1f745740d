"""APDU exchange over a reader connection: T=0 61xx / 6Cxx handled, errors typed, a redacted trace.

The trace (logger ``drivers.smartcard.apdu``, DEBUG, only when enabled) shows headers and status
words; the data of secret commands (PIN, PIN block, keys, MACs, cryptograms) and of personal
answers (records) is replaced by its length. Secret command buffers are bytearrays the caller
owns and zeroes; the APDU buffer built here is zeroed after sending.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from drivers.smartcard.anomalies import Anomalies
from drivers.smartcard.api import CardError, CardOutcome
from drivers.smartcard.readers import Connection, ReaderError, ReaderErrorKind

trace_log = logging.getLogger("drivers.smartcard.apdu")

# Commands whose data is always secret, whatever the caller says (belt and braces).
_SECRET_COMMANDS = {(0x00, 0x20), (0x80, 0x5E), (0x84, 0x24), (0x00, 0x82), (0x80, 0xFA), (0x80, 0xF8)}
# Commands whose answers are secret or personal.
_SECRET_ANSWERS = {(0x00, 0xB2), (0x80, 0xFA), (0x80, 0xF6), (0x80, 0xF8)}
_MAX_CHAINED = 16


def _has_le(apdu: bytearray) -> bool:
    if len(apdu) <= 4:
        return False
    if len(apdu) == 5:
        return True
    return len(apdu) == 6 + apdu[4]


@dataclass(frozen=True)
class Response:
    data: bytearray              # a bytearray so that callers can zero secret answers
    sw: int

    @property
    def ok(self) -> bool:
        return self.sw == 0x9000

    def __repr__(self) -> str:
        return f"Response(<{len(self.data)} bytes>, sw={self.sw:04X})"


class ApduCounter:
    """Physical APDUs sent (GET RESPONSE and 6Cxx retries included), shared by several transports."""

    def __init__(self) -> None:
        self.count = 0


class Transport:
    """One card's APDU channel. ``on_lost`` decides what a failed exchange means (removed / mute)."""

    def __init__(self, connection: Connection, label: str, trace: bool = False,
                 on_lost: Callable[[ReaderError], CardError] | None = None,
                 counter: ApduCounter | None = None, anomalies: Anomalies | None = None) -> None:
        self.connection = connection
        self.anomalies = anomalies or Anomalies()
        self.in_flight = False          # inside connection.transmit (a hung reader is found by it)
        self.label = label
        self.trace = trace
        self.counter = counter or ApduCounter()
        self._on_lost = on_lost

    @property
    def count(self) -> int:
        return self.counter.count

    def refuse(self, kind: str, what: str, answer: Response) -> CardError:
        """An answer a real card never gives: count it, log it masked, end the command."""
        length = len(answer.data)
        answer.data[:] = bytes(length)
        return self.anomalies.refuse(kind, what, answer.sw, length, self.label)

    def send(self, cla: int, ins: int, p1: int, p2: int, data: bytes | bytearray = b"",
             le: int | None = None, secret: bool = False) -> Response:
        if len(data) > 255:
            raise ValueError("short APDUs only: data up to 255 bytes")
        secret = secret or (cla, ins) in _SECRET_COMMANDS
        secret_answer = secret or (cla, ins) in _SECRET_ANSWERS
        apdu = bytearray([cla, ins, p1, p2])
        if data:
            apdu.append(len(data))
            apdu += data
        if le is not None:
            apdu.append(le & 0xFF)
        collected = bytearray()
        try:
            for _ in range(_MAX_CHAINED):
                raw = self._transmit(apdu, secret, secret_answer)
                sw = int.from_bytes(raw[-2:], "big")
                body = raw[:-2]
                sw1, sw2 = sw >> 8, sw & 0xFF
                if sw1 == 0x61:                              # T=0: more data, fetch it
                    collected += body
                    apdu[:] = bytes([0x00, 0xC0, 0x00, 0x00, sw2])
                    continue
                if sw1 == 0x6C:                              # T=0: wrong Le, re-send with Le = sw2
                    if _has_le(apdu):
                        apdu[-1] = sw2
                    else:
                        apdu.append(sw2)
                    continue
                collected += body
                return Response(bytearray(collected), sw)
            raise CardError(CardOutcome.UNKNOWN_STATUS, f"{self.label}: endless 61xx/6Cxx chain")
        finally:
            apdu[:] = bytes(len(apdu))
            collected[:] = bytes(len(collected))

    def _transmit(self, apdu: bytearray, secret: bool, secret_answer: bool) -> bytes:
        started = time.perf_counter()
        self.counter.count += 1
        self.in_flight = True
        try:
            raw = self.connection.transmit(bytes(apdu))
        except ReaderError as exc:
            self.in_flight = False
            self._trace(apdu, None, secret, secret_answer, started, error=exc.kind.value)
            raise self._lost(exc) from None
        self.in_flight = False
        if len(raw) < 2:
            self._trace(apdu, None, secret, secret_answer, started, error="no status word")
            raise self._lost(ReaderError(ReaderErrorKind.REMOVED, "answer without a status word"))
        self._trace(apdu, raw, secret, secret_answer, started)
        return raw

    def _lost(self, exc: ReaderError) -> CardError:
        if self._on_lost is not None:
            return self._on_lost(exc)
        outcome = {ReaderErrorKind.NO_SERVICE: CardOutcome.SERVICE_DOWN,
                   ReaderErrorKind.NO_READER: CardOutcome.READER_GONE}.get(exc.kind, CardOutcome.CARD_REMOVED)
        return CardError(outcome, f"{self.label}: {exc.kind.value}")

    def _trace(self, apdu: bytearray, raw: bytes | None, secret: bool, secret_answer: bool,
               started: float, error: str = "") -> None:
        if not self.trace or not trace_log.isEnabledFor(logging.DEBUG):
            return
        trace_log.debug("apdu", extra={
            "device": self.label,
            "command": describe_command(apdu, secret),
            "answer": describe_answer(raw, secret_answer) if raw is not None else error,
            "ms": round((time.perf_counter() - started) * 1000, 2),
        })


def describe_command(apdu: bytes | bytearray, secret: bool) -> str:
    """Header in hex; the data in hex, or only its length when secret."""
    header = bytes(apdu[:4]).hex(" ").upper()
    if len(apdu) <= 5:
        return bytes(apdu).hex(" ").upper()
    lc = apdu[4]
    data = bytes(apdu[5:5 + lc])
    tail = bytes(apdu[5 + lc:]).hex().upper()
    shown = f"<{lc} bytes redacted>" if secret else data.hex(" ").upper()
    return f"{header} {lc:02X} {shown}" + (f" Le={tail}" if tail else "")


def describe_answer(raw: bytes, secret: bool) -> str:
    sw = raw[-2:].hex().upper()
    body = raw[:-2]
    if not body:
        return sw
    return f"<{len(body)} bytes redacted> {sw}" if secret else f"{body.hex(' ').upper()} {sw}"
