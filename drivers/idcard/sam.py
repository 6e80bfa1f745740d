"""The ID-card security-module (SAM) serial frames, after the public SAM interface (GA 467).

    host -> SAM   AA AA AA 96 69 | LEN(2, big-endian) | CMD | PARA | DATA | CHK
    SAM -> host   AA AA AA 96 69 | LEN(2, big-endian) | SW1 SW2 SW3 | DATA | CHK

``LEN`` counts every byte after itself, the checksum included; ``CHK`` is the XOR of the LEN
bytes and everything up to the checksum. SW1 SW2 are 00 00; SW3 is the status (90h done, 9Fh
card found, 80h no card...). docs/idcard.md is the reference; keep the two in step.

The parser is streaming and robust: noise before a frame is skipped, a frame with a bad checksum
or an impossible length costs only its first preamble byte, so a good frame behind it is still
found. Frame payloads are ``bytearray`` so that the caller can zero a read answer (it carries the
holder's text and photo) as soon as it is decoded.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from drivers.api import CompletionCode
from drivers.idcard.api import IdCardError, IdCardErrorCode
from drivers.serial_link import PortGone as PortGone  # the reader code names it from here

PREAMBLE = bytes.fromhex("AAAAAA9669")
MAX_LEN = 0x1400              # the longest answer (text+photo+fingerprint) is under 4 KiB

# (command, parameter)
FIND_CARD = (0x20, 0x01)
SELECT_CARD = (0x20, 0x02)
READ_TEXT_PHOTO = (0x30, 0x01)
SAM_ID = (0x12, 0xFF)
RESET_SAM = (0x10, 0xFF)

ST_OK, ST_FOUND, ST_NO_CONTENT = 0x90, 0x9F, 0x91
ST_BAD_CHECKSUM, ST_BAD_LENGTH = 0x10, 0x11
ST_BAD_COMMAND, ST_NOT_ALLOWED, ST_UNKNOWN_ERROR = 0x21, 0x23, 0x24
ST_CARD_AUTH_SAM, ST_SAM_AUTH_CARD, ST_VERIFY_FAILED = 0x31, 0x32, 0x33
ST_UNKNOWN_CARD, ST_READ_FAILED = 0x40, 0x41
ST_RANDOM_FAILED = 0x47
ST_SAM_SELF_TEST, ST_SAM_UNAUTHORISED = 0x60, 0x66
ST_NOT_FOUND, ST_SELECT_FAILED = 0x80, 0x81

# status -> (completion code, typed reason); the meanings are the interface's own wording.
STATUS: dict[int, tuple[CompletionCode, IdCardErrorCode, str]] = {
    ST_BAD_CHECKSUM: (CompletionCode.HARDWARE_ERROR, IdCardErrorCode.BAD_CHECKSUM, "SAM: checksum of our frame wrong"),
    ST_BAD_LENGTH: (CompletionCode.HARDWARE_ERROR, IdCardErrorCode.BAD_CHECKSUM, "SAM: length of our frame wrong"),
    ST_BAD_COMMAND: (CompletionCode.UNSUPPORTED, IdCardErrorCode.COMMAND_REFUSED, "SAM: command not recognised"),
    ST_NOT_ALLOWED: (CompletionCode.COMMAND_ERROR, IdCardErrorCode.COMMAND_REFUSED, "SAM: operation not allowed"),
    ST_UNKNOWN_ERROR: (CompletionCode.HARDWARE_ERROR, IdCardErrorCode.COMMAND_REFUSED, "SAM: unrecognised error"),
    ST_CARD_AUTH_SAM: (CompletionCode.FRAUD_ATTEMPT, IdCardErrorCode.CARD_AUTH_FAILED, "card failed to authenticate the SAM"),
    ST_SAM_AUTH_CARD: (CompletionCode.FRAUD_ATTEMPT, IdCardErrorCode.CARD_AUTH_FAILED, "SAM failed to authenticate the card"),
    ST_VERIFY_FAILED: (CompletionCode.FRAUD_ATTEMPT, IdCardErrorCode.CARD_AUTH_FAILED, "card data failed verification"),
    ST_UNKNOWN_CARD: (CompletionCode.USER_ERROR, IdCardErrorCode.UNKNOWN_CARD_TYPE, "not an ID card"),
    ST_READ_FAILED: (CompletionCode.NO_MEDIA, IdCardErrorCode.CARD_REMOVED, "read failed: card left the field"),
    ST_RANDOM_FAILED: (CompletionCode.HARDWARE_ERROR, IdCardErrorCode.CARD_REMOVED, "card gave no random: moved away"),
    ST_SAM_SELF_TEST: (CompletionCode.HARDWARE_ERROR, IdCardErrorCode.SAM_FAULT, "SAM self-test failed"),
    ST_SAM_UNAUTHORISED: (CompletionCode.HARDWARE_ERROR, IdCardErrorCode.SAM_FAULT, "SAM not authorised"),
    ST_NOT_FOUND: (CompletionCode.NO_MEDIA, IdCardErrorCode.NO_CARD, "no card on the reader"),
    ST_SELECT_FAILED: (CompletionCode.NO_MEDIA, IdCardErrorCode.SELECT_FAILED, "card seen but not selected"),
}




class Link(Protocol):
    """A byte pipe: ``read`` waits at most a short poll and returns b"" when nothing came."""

    def read(self) -> bytes: ...
    def write(self, data: bytes) -> None: ...
    def discard_input(self) -> None: ...
    def close(self) -> None: ...


def checksum(data: bytes | bytearray) -> int:
    x = 0
    for b in data:
        x ^= b
    return x


def encode(body: bytes | bytearray) -> bytes:
    """A whole frame around ``body`` (CMD PARA DATA one way, SW1 SW2 SW3 DATA the other)."""
    length = (len(body) + 1).to_bytes(2, "big")
    return PREAMBLE + length + bytes(body) + bytes([checksum(length + bytes(body))])


def encode_command(command: tuple[int, int], data: bytes = b"") -> bytes:
    return encode(bytes(command) + data)


def encode_answer(status: int, data: bytes | bytearray = b"") -> bytes:
    return encode(bytes([0x00, 0x00, status]) + bytes(data))


@dataclass
class Frame:
    payload: bytearray          # body without LEN and CHK

    def wipe(self) -> None:
        self.payload[:] = bytes(len(self.payload))


@dataclass(frozen=True)
class Junk:
    reason: str                 # "noise" | "checksum" | "length"
    count: int = 1


class FrameParser:
    def __init__(self) -> None:
        self._buf = bytearray()

    @property
    def pending(self) -> int:
        return len(self._buf)

    def reset(self) -> None:
        self.wipe()

    def wipe(self) -> None:
        """Zero and drop whatever is buffered (it may hold part of a read answer)."""
        self._buf[:] = bytes(len(self._buf))
        self._buf.clear()

    def feed(self, data: bytes) -> list[Frame | Junk]:
        self._buf += data
        out: list[Frame | Junk] = []
        buf = self._buf
        while buf:
            start = buf.find(PREAMBLE)
            if start < 0:
                keep = _partial_preamble(buf)      # the tail may be the start of a preamble
                if len(buf) - keep:
                    out.append(Junk("noise", len(buf) - keep))
                    _zero_prefix(buf, len(buf) - keep)
                break
            if start:
                out.append(Junk("noise", start))
                _zero_prefix(buf, start)
            if len(buf) < 7:
                break
            length = int.from_bytes(buf[5:7], "big")
            if length < 2 or length > MAX_LEN:
                out.append(Junk("length"))
                _zero_prefix(buf, 1)
                continue
            if len(buf) < 7 + length:
                break
            body = buf[7:7 + length - 1]
            if checksum(buf[5:7 + length - 1]) != buf[7 + length - 1]:
                out.append(Junk("checksum"))
                body[:] = bytes(len(body))
                _zero_prefix(buf, 1)
                continue
            out.append(Frame(body))
            _zero_prefix(buf, 7 + length)
        return out


def _zero_prefix(buf: bytearray, n: int) -> None:
    buf[:n] = bytes(n)
    del buf[:n]


def _partial_preamble(buf: bytearray) -> int:
    for n in range(min(len(PREAMBLE) - 1, len(buf)), 0, -1):
        if buf.endswith(PREAMBLE[:n]):
            return n
    return 0


@dataclass
class Answer:
    status: int
    data: bytearray             # the caller zeroes it when it held personal data

    def wipe(self) -> None:
        self.data[:] = bytes(len(self.data))


Check = Callable[[], None]      # raises to abort a wait (cancel, deadline)


class SamProtocol:
    """Command/answer over a :class:`Link`, one at a time (the driver's worker thread only).

    Before each command stale input is discarded (a busy SAM's late answer must never be taken
    for the next command's); a damaged answer or a 10h/11h status is retried ``retries`` times.
    """

    def __init__(self, link: Link, *, answer_timeout_s: float = 0.5, retries: int = 2) -> None:
        self.link = link
        self.answer_timeout_s = answer_timeout_s
        self.retries = retries
        self.parser = FrameParser()
        self.junk = 0               # frames or bytes dropped (noise, checksum): for tests and the doctor
        self.stale = 0              # answers that came when none was expected (after a timeout)
        self.resent = 0             # commands sent again after a damaged answer

    def drain(self) -> None:
        """Read and drop whatever is waiting (idle); a vanished port raises PortGone."""
        data = self.link.read()
        if data:
            for item in self.parser.feed(data):
                if isinstance(item, Frame):
                    self.stale += 1
                    item.wipe()
                else:
                    self.junk += item.count

    def exchange(self, command: tuple[int, int], data: bytes = b"", *, timeout_s: float | None = None,
                 check: Check | None = None) -> Answer:
        wait = timeout_s if timeout_s is not None else self.answer_timeout_s
        damaged = 0
        for _attempt in range(self.retries + 1):
            self.link.discard_input()
            self.parser.wipe()
            self.link.write(encode_command(command, data))
            answer = self._await(wait, check)
            if answer is None:
                raise IdCardError(CompletionCode.TIMEOUT, IdCardErrorCode.SAM_BUSY,
                                  f"no answer to {command[0]:02X} {command[1]:02X} in {wait:.1f}s")
            if isinstance(answer, Junk) or answer.status in (ST_BAD_CHECKSUM, ST_BAD_LENGTH):
                damaged += 1
                self.resent += 1
                if isinstance(answer, Answer):
                    answer.wipe()
                continue
            return answer
        raise IdCardError(CompletionCode.HARDWARE_ERROR, IdCardErrorCode.BAD_CHECKSUM,
                          f"{damaged} damaged answers in a row to {command[0]:02X} {command[1]:02X}")

    def _await(self, wait: float, check: Check | None) -> Answer | Junk | None:
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if check is not None:
                check()
            data = self.link.read()
            if not data:
                continue
            damaged: Junk | None = None
            for item in self.parser.feed(data):
                if isinstance(item, Frame):
                    if len(item.payload) < 3:
                        damaged = Junk("length")
                        continue
                    status = item.payload[2]
                    answer = Answer(status, item.payload[3:])
                    item.wipe()
                    return answer
                if item.reason == "noise":
                    self.junk += item.count     # line noise before the answer: skip it
                else:
                    self.junk += 1
                    damaged = item
            if damaged is not None and self.parser.pending == 0:
                return damaged
        return None


def status_error(status: int, what: str) -> IdCardError:
    code, error, text = STATUS.get(status, (CompletionCode.HARDWARE_ERROR, IdCardErrorCode.UNKNOWN_STATUS,
                                            "unknown status"))
    return IdCardError(code, error, f"{what}: {text} (SW3 {status:02X})")


def format_sam_id(raw: bytes | bytearray) -> str:
    """16 bytes -> "05.01-20101012-0000012345-1234567890" (the form vendors' tools print).

    Layout as public SDKs decode it (unconfirmed by a vendor manual): two single bytes, then three
    little-endian 32-bit numbers; the last two bytes are unused.
    """
    if len(raw) < 14:
        raise ValueError(f"SAM id needs 16 bytes, got {len(raw)}")
    a, b = raw[0], raw[1]
    n1, n2, n3 = (int.from_bytes(raw[i:i + 4], "little") for i in (2, 6, 10))
    return f"{a:02d}.{b:02d}-{n1:08d}-{n2:010d}-{n3:010d}"
