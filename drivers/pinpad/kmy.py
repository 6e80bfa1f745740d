"""KMY350X-style ("PBOC-style") EPP command set: framing, streaming parser, commands, status codes.

Wire format (docs/pinpad-protocol.md is the reference; keep the two in step):

    host -> pad   02h | Ln | CMD | DATA | BCC | [03h]
    pad  -> host  02h | Ln | ST  | DATA | BCC | [03h]

``Ln`` = 1 + len(DATA), ``BCC`` = XOR of Ln..DATA. In the ``ascii_hex`` wire form every byte
after 02h is sent as two upper-case ASCII hex characters and the frame always ends with 03h.
Key presses arrive as single bytes *outside* frames; a lone 15h outside a frame is a NAK (the
pad could not read our frame). Commands 32h 33h 42h 82h 83h 87h carry keys or PIN blocks: their
data (and their answers) never reach a trace; 34h carries the card number: traced as a length.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from dataclasses import dataclass, field

from drivers.api import CompletionCode
from drivers.crypto.pinblock import PinBlockFormat
from drivers.pinpad.api import KeyKind, PinPadError, PinPadErrorCode
from drivers.pinpad.protocol import Check, Link, PadKey

log = logging.getLogger(__name__)

STX, ETX, NAK = 0x02, 0x03, 0x15
MAX_LN = 0xFF

# -- commands --------------------------------------------------------------------------------
CMD_VERSION = 0x30
CMD_RESET = 0x31            # data 38h: reset and erase all keys
CMD_LOAD_MASTER = 0x32      # [index] + key in the clear (key-loading ceremony only)
CMD_LOAD_WORK = 0x33        # [master index, work index] + key encrypted under the master
CMD_CARD_NUMBER = 0x34      # ASCII digits of the PAN field (12) or the full PAN (format 4)
CMD_START_PIN = 0x35        # [min, max, flags (bit0 auto-end), timeout s]
CMD_SERIAL = 0x38
CMD_READ_PIN_BLOCK = 0x42   # 8-byte block under the active DES-family work key
CMD_ACTIVATE = 0x43         # [master index, work index]
CMD_KEYPAD = 0x45           # [00 close | 01 open plain]
CMD_SETTINGS = 0x46         # [01, PIN-block format] for the DES family
CMD_SM4_SETTINGS = 0x81     # [01, format] / [02, 8->16 expansion]
CMD_SM4_LOAD_MASTER = 0x82
CMD_SM4_LOAD_WORK = 0x83
CMD_SM4_ACTIVATE = 0x86
CMD_SM4_READ_PIN_BLOCK = 0x87

KEYPAD_CLOSE, KEYPAD_OPEN_PLAIN = 0x00, 0x01
SETTING_FORMAT, SETTING_SM4_EXPANSION = 0x01, 0x02
SM4_EXPANSION_CODES = {"zero_suffix": 0x00}   # the only layout confirmed by a published example
ERASE_KEYS = 0x38

# Frames whose data (both ways) is a key, a key's check value or a PIN block.
REDACTED = frozenset({CMD_LOAD_MASTER, CMD_LOAD_WORK, CMD_READ_PIN_BLOCK,
                      CMD_SM4_LOAD_MASTER, CMD_SM4_LOAD_WORK, CMD_SM4_READ_PIN_BLOCK})
MASKED = frozenset({CMD_CARD_NUMBER})

# -- status bytes ----------------------------------------------------------------------------
ST_OK = 0x04
ST_BAD_PARAMETER = 0x15
ST_TIMEOUT = 0x80
ST_MASTER_KEY_INVALID = (0xA4, 0xB5)
ST_INVALID_COMMAND = 0xE0
ST_SELF_TEST = tuple(range(0xF0, 0xF8))


def status_error(status: int) -> PinPadError:
    """The typed error for a non-OK status byte."""
    if status == ST_BAD_PARAMETER:
        return PinPadError(CompletionCode.INVALID_DATA, PinPadErrorCode.BAD_PARAMETER, "pad: bad parameter (15h)")
    if status == ST_TIMEOUT:
        return PinPadError(CompletionCode.TIMEOUT, PinPadErrorCode.PAD_TIMEOUT, "pad: entry timed out (80h)")
    if status in ST_MASTER_KEY_INVALID:
        return PinPadError(CompletionCode.COMMAND_ERROR, PinPadErrorCode.MASTER_KEY_INVALID,
                           f"pad: master key invalid ({status:02X}h)")
    if status == ST_INVALID_COMMAND:
        return PinPadError(CompletionCode.UNSUPPORTED, PinPadErrorCode.INVALID_COMMAND,
                           "pad: invalid or refused command (E0h)")
    if status in ST_SELF_TEST:
        return PinPadError(CompletionCode.HARDWARE_ERROR, PinPadErrorCode.SELF_TEST_FAILED,
                           f"pad: self-test error ({status:02X}h)")
    return PinPadError(CompletionCode.HARDWARE_ERROR, PinPadErrorCode.UNKNOWN_STATUS,
                       f"pad: unknown status {status:02X}h")


@dataclass(frozen=True)
class KeyMap:
    """Key bytes outside frames. Backspace is not in the public drivers: configurable (0 = none)."""

    hidden_digit: int = 0x2A
    enter: int = 0x0D
    cancel: int = 0x1B
    clear: int = 0x08
    backspace: int = 0x7F

    def kinds(self) -> dict[int, KeyKind]:
        table = {self.hidden_digit: KeyKind.DIGIT_HIDDEN, self.enter: KeyKind.ENTER,
                 self.cancel: KeyKind.CANCEL, self.clear: KeyKind.CLEAR}
        if self.backspace:
            table[self.backspace] = KeyKind.BACKSPACE
        return table

    def byte_for(self, kind: KeyKind) -> int:
        return {v: k for k, v in self.kinds().items()}[kind]


# -- framing ---------------------------------------------------------------------------------
def bcc(data: bytes) -> int:
    value = 0
    for byte in data:
        value ^= byte
    return value


def encode_frame(code: int, data: bytes = b"", wire_form: str = "binary", etx: bool = True) -> bytes:
    """One frame; ``code`` is the command (host) or the status (pad)."""
    if len(data) + 1 > MAX_LN:
        raise ValueError(f"frame data too long: {len(data)} bytes (at most {MAX_LN - 1})")
    body = bytes([len(data) + 1, code]) + data
    body += bytes([bcc(body)])
    if wire_form == "ascii_hex":
        return bytes([STX]) + body.hex().upper().encode("ascii") + bytes([ETX])
    if wire_form != "binary":
        raise ValueError(f"unknown wire form {wire_form!r}; expected 'binary' or 'ascii_hex'")
    return bytes([STX]) + body + (bytes([ETX]) if etx else b"")


@dataclass(frozen=True)
class Frame:
    code: int
    data: bytes = field(repr=False)

    def __repr__(self) -> str:
        return f"Frame({self.code:02X}h, {len(self.data)} bytes)"


@dataclass(frozen=True)
class KeyByte:
    byte: int

    def __repr__(self) -> str:
        return "KeyByte()"


@dataclass(frozen=True)
class Nak:
    pass


@dataclass(frozen=True)
class Junk:
    """Bytes dropped while resynchronising: ``reason`` is "noise", "bcc", "length" or "hex"."""

    reason: str
    count: int = 1


Item = Frame | KeyByte | Nak | Junk
_HEX = frozenset(b"0123456789ABCDEFabcdef")


class FrameParser:
    """Streaming parser: feed any chunks, get frames, key bytes, NAKs and junk reports back.

    Robust by construction: a frame that fails (bad BCC, bad length, non-hex character) costs
    only its STX byte; parsing restarts at the next byte, so a valid frame hidden behind noise
    is still found. A partial frame waits for more bytes until :meth:`expire` gives up on it.
    """

    def __init__(self, wire_form: str = "binary", key_bytes: frozenset[int] | None = None) -> None:
        if wire_form not in ("binary", "ascii_hex"):
            raise ValueError(f"unknown wire form {wire_form!r}; expected 'binary' or 'ascii_hex'")
        self.wire_form = wire_form
        self.key_bytes = key_bytes if key_bytes is not None else frozenset(KeyMap().kinds()) | frozenset(b"0123456789")
        self._buf = bytearray()

    @property
    def pending(self) -> int:
        return len(self._buf)

    def reset(self) -> None:
        self._buf.clear()

    def feed(self, data: bytes) -> list[Item]:
        self._buf += data
        return self._drain(final=False)

    def expire(self) -> list[Item]:
        """Give up on a partial frame (nothing more came): drop its STX and rescan the rest."""
        return self._drain(final=True)

    def _drain(self, final: bool) -> list[Item]:
        out: list[Item] = []
        buf = self._buf
        while buf:
            first = buf[0]
            if first == STX:
                state, used, frame, reason = self._try_frame()
                if state == "more":
                    if not final:
                        break
                    state, reason = "bad", "partial"
                if state == "ok":
                    assert frame is not None
                    out.append(frame)
                    del buf[:used]
                    continue
                _add_junk(out, reason)
                del buf[:1]
                final = False          # only the first stuck frame is expired
                continue
            if first in self.key_bytes:
                out.append(KeyByte(first))
            elif first == NAK:
                out.append(Nak())
            elif first != ETX:         # a trailing 03h of a frame is expected, not junk
                _add_junk(out, "noise")
            del buf[:1]
        return out

    def _try_frame(self) -> tuple[str, int, Frame | None, str]:
        buf = self._buf
        if self.wire_form == "binary":
            if len(buf) < 2:
                return "more", 0, None, ""
            ln = buf[1]
            if ln == 0:
                return "bad", 0, None, "length"
            total = 2 + ln + 1
            if len(buf) < total:
                return "more", 0, None, ""
            if bcc(buf[1:total - 1]) != buf[total - 1]:
                return "bad", 0, None, "bcc"
            used = total + 1 if len(buf) > total and buf[total] == ETX else total
            return "ok", used, Frame(buf[2], bytes(buf[3:total - 1])), ""
        # ascii_hex: hex pairs up to ETX
        limit = 1 + 2 * (MAX_LN + 2)
        for i in range(1, min(len(buf), limit + 1)):
            ch = buf[i]
            if ch == ETX:
                text = bytes(buf[1:i])
                if len(text) < 6 or len(text) % 2:
                    return "bad", 0, None, "length"
                body = bytes.fromhex(text.decode("ascii"))
                if body[0] != len(body) - 2:
                    return "bad", 0, None, "length"
                if bcc(body[:-1]) != body[-1]:
                    return "bad", 0, None, "bcc"
                return "ok", i + 1, Frame(body[1], body[2:-1]), ""
            if ch not in _HEX:
                return "bad", 0, None, "hex"
        if len(buf) > limit:
            return "bad", 0, None, "length"
        return "more", 0, None, ""


def _add_junk(out: list[Item], reason: str) -> None:
    if out and isinstance(out[-1], Junk) and out[-1].reason == reason:
        out[-1] = Junk(reason, out[-1].count + 1)
    else:
        out.append(Junk(reason))


def describe(code: int, data: bytes) -> str:
    """Trace text for a frame: redacted commands show only their length."""
    if code in REDACTED:
        return f"{code:02X}h <redacted {len(data)} bytes>"
    if code in MASKED:
        return f"{code:02X}h <{len(data)} digits>"
    return f"{code:02X}h {data.hex(' ').upper()}".rstrip()


def describe_answer(command: int, frame: Frame) -> str:
    """Trace text for an answer: answers to redacted commands show only status and length."""
    if command in REDACTED or command in MASKED:
        return f"ST {frame.code:02X}h <redacted {len(frame.data)} bytes>"
    return f"ST {frame.code:02X}h {frame.data.hex(' ').upper()}".rstrip()


# -- the command set over a link --------------------------------------------------------------
@dataclass(frozen=True)
class KmySettings:
    wire_form: str = "binary"
    send_etx: bool = True
    answer_timeout_s: float = 1.0      # per attempt
    retries: int = 2                   # retransmissions after a NAK, bad frame or silence
    frame_gap_s: float = 0.3           # a partial frame older than this is dropped
    sm4_expansion: str = "zero_suffix"
    keys: KeyMap = field(default_factory=KeyMap)


class KmyProtocol:
    """The KMY/PBOC-style command set, implementing drivers.pinpad.protocol.PadProtocol."""

    name = "kmy"

    def __init__(self, link: Link, settings: KmySettings | None = None) -> None:
        self.settings = settings or KmySettings()
        self._link = link
        self._kinds = self.settings.keys.kinds()
        self._parser = FrameParser(self.settings.wire_form, frozenset(self._kinds) | frozenset(b"0123456789"))
        self._keys: deque[int] = deque()
        self._frames: deque[Frame] = deque()
        self._last_byte_at = time.monotonic()
        self.stats = {"junk": 0, "naks": 0, "retries": 0, "unsolicited": 0}

    # -- transport ---------------------------------------------------------------------------
    def _poll(self) -> list[Item]:
        data = self._link.read()
        now = time.monotonic()
        if data:
            self._last_byte_at = now
            return self._parser.feed(data)
        if self._parser.pending and now - self._last_byte_at > self.settings.frame_gap_s:
            return self._parser.expire()
        return []

    def _send(self, code: int, data: bytes) -> None:
        log.debug("pinpad tx %s", describe(code, data), extra={"device": "pinpad"})
        self._link.write(encode_frame(code, data, self.settings.wire_form, self.settings.send_etx))

    def _set_aside(self, frame: Frame, code: int | None) -> None:
        """A frame that is not the answer: a pad-initiated status (80h, the entry timeout) waits for
        next_key; anything else (a key sent as a frame) is dropped. Counted, never taken as an answer."""
        self.stats["unsolicited"] += 1
        log.info("pinpad unsolicited frame set aside", extra={
            "device": "pinpad", "st": f"{frame.code:02X}h", "len": len(frame.data),
            "cmd": "" if code is None else f"{code:02X}h"})
        if frame.code == ST_TIMEOUT:
            self._frames.append(frame)

    def _is_answer(self, code: int, frame: Frame) -> bool:
        """Whether ``frame`` can be the answer to command ``code``. KMY answers do not echo the
        command, so shape decides: a status byte that is a key byte is a key sent as a frame; 80h
        (the pad's own entry timeout) answers only the PIN-block reads; version and serial
        answers are printable text; a PIN block has its cipher's size."""
        if frame.code in self._kinds or 0x30 <= frame.code <= 0x39:
            return False
        if frame.code == ST_TIMEOUT:
            return code in (CMD_READ_PIN_BLOCK, CMD_SM4_READ_PIN_BLOCK)
        if frame.code != ST_OK:
            return True
        if code in (CMD_VERSION, CMD_SERIAL):
            return 0 < len(frame.data) <= 64 and all(0x20 <= b <= 0x7E for b in frame.data)
        if code == CMD_READ_PIN_BLOCK:
            return len(frame.data) == 8
        if code == CMD_SM4_READ_PIN_BLOCK:
            return len(frame.data) == 16
        return True

    def exchange(self, code: int, data: bytes = b"") -> bytes:
        """Send a command, return the data of its OK answer, or raise a typed error. A frame that
        arrived before the command went out, or that cannot be its answer, is set aside."""
        for item in self._poll():
            if isinstance(item, Frame):
                self._set_aside(item, None)
            elif isinstance(item, KeyByte):
                self._keys.append(item.byte)
        problem = PinPadErrorCode.NO_ANSWER
        for attempt in range(self.settings.retries + 1):
            if attempt:
                self.stats["retries"] += 1
                log.info("pinpad retransmit", extra={"device": "pinpad", "cmd": f"{code:02X}h",
                                                    "attempt": attempt, "reason": problem.value})
            self._send(code, data)
            deadline = time.monotonic() + self.settings.answer_timeout_s
            retry = False
            while not retry:
                answer: Frame | None = None
                for item in self._poll():
                    # Keep going through the whole batch: key presses right behind the answer
                    # (a fast citizen) must not be lost.
                    if isinstance(item, Frame):
                        if answer is None and self._is_answer(code, item):
                            answer = item
                        else:
                            self._set_aside(item, code)
                    elif isinstance(item, KeyByte):
                        self._keys.append(item.byte)
                    elif answer is not None:
                        continue
                    elif isinstance(item, Nak):
                        self.stats["naks"] += 1
                        problem, retry = PinPadErrorCode.NAK, True
                    elif isinstance(item, Junk):
                        self.stats["junk"] += item.count
                        if item.reason != "noise":
                            problem, retry = PinPadErrorCode.BAD_FRAME, True
                if answer is not None:
                    log.debug("pinpad rx %s", describe_answer(code, answer),
                              extra={"device": "pinpad", "cmd": f"{code:02X}h"})
                    if answer.code == ST_OK:
                        return answer.data
                    raise status_error(answer.code)
                if not retry and time.monotonic() > deadline:
                    self._parser.reset()
                    problem, retry = PinPadErrorCode.NO_ANSWER, True
        raise PinPadError(CompletionCode.HARDWARE_ERROR, problem,
                          f"pad: command {code:02X}h failed after {self.settings.retries + 1} tries ({problem.value})")

    def drain(self) -> int:
        """Read and drop whatever is waiting (stray key presses outside an entry); returns the count."""
        dropped = 0
        for item in self._poll():
            dropped += 1 if not isinstance(item, Junk) else item.count
        dropped += len(self._keys) + len(self._frames)
        self._keys.clear()
        self._frames.clear()
        return dropped

    def next_key(self, check: Check) -> PadKey | None:
        """One poll interval: the next key press, or None. An unsolicited status frame (80h: the
        pad's own entry timeout) raises its typed error."""
        check()
        if not self._keys and not self._frames:
            for item in self._poll():
                if isinstance(item, KeyByte):
                    self._keys.append(item.byte)
                elif isinstance(item, Frame):
                    self._frames.append(item)
        while self._frames and not self._keys:
            frame = self._frames.popleft()
            if frame.code != ST_OK:
                log.debug("pinpad rx unsolicited ST %02Xh", frame.code, extra={"device": "pinpad"})
                raise status_error(frame.code)
        if not self._keys:
            return None
        byte = self._keys.popleft()
        kind = self._kinds.get(byte)
        if kind is not None:
            return PadKey(kind)
        return PadKey(KeyKind.DIGIT, chr(byte))    # ASCII digit: plain mode

    # -- commands ----------------------------------------------------------------------------
    def version(self) -> str:
        return self.exchange(CMD_VERSION).decode("ascii", "replace").strip()

    def serial_number(self) -> str:
        return self.exchange(CMD_SERIAL).decode("ascii", "replace").strip()

    def reset(self, erase_keys: bool = False) -> None:
        self.exchange(CMD_RESET, bytes([ERASE_KEYS]) if erase_keys else b"")
        self._keys.clear()

    def configure(self, algorithm: str, fmt: PinBlockFormat) -> None:
        if algorithm == "sm4":
            self.exchange(CMD_SM4_SETTINGS, bytes([SETTING_FORMAT, int(fmt)]))
            self.exchange(CMD_SM4_SETTINGS, bytes([SETTING_SM4_EXPANSION,
                                                   SM4_EXPANSION_CODES[self.settings.sm4_expansion]]))
        else:
            self.exchange(CMD_SETTINGS, bytes([SETTING_FORMAT, int(fmt)]))

    def load_master_key(self, algorithm: str, index: int, key: bytes) -> bytes:
        cmd = CMD_SM4_LOAD_MASTER if algorithm == "sm4" else CMD_LOAD_MASTER
        return self.exchange(cmd, bytes([index]) + key)

    def load_work_key(self, algorithm: str, master_index: int, work_index: int, wrapped: bytes) -> bytes:
        cmd = CMD_SM4_LOAD_WORK if algorithm == "sm4" else CMD_LOAD_WORK
        return self.exchange(cmd, bytes([master_index, work_index]) + wrapped)

    def activate_work_key(self, algorithm: str, master_index: int, work_index: int) -> None:
        cmd = CMD_SM4_ACTIVATE if algorithm == "sm4" else CMD_ACTIVATE
        self.exchange(cmd, bytes([master_index, work_index]))

    def set_card_number(self, digits: str) -> None:
        self.exchange(CMD_CARD_NUMBER, digits.encode("ascii"))

    def begin_pin_entry(self, min_len: int, max_len: int, auto_end: bool, timeout_s: int) -> None:
        self._keys.clear()
        self._frames.clear()
        self.exchange(CMD_START_PIN, bytes([min_len, max_len, 1 if auto_end else 0, max(1, min(255, timeout_s))]))

    def read_pin_block(self, algorithm: str) -> bytes:
        return self.exchange(CMD_SM4_READ_PIN_BLOCK if algorithm == "sm4" else CMD_READ_PIN_BLOCK)

    def open_keypad(self) -> None:
        self._keys.clear()
        self._frames.clear()
        self.exchange(CMD_KEYPAD, bytes([KEYPAD_OPEN_PLAIN]))

    def close_keypad(self) -> None:
        self.exchange(CMD_KEYPAD, bytes([KEYPAD_CLOSE]))
        self._keys.clear()
