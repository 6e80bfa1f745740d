"""A KMY-style PIN pad on the far end of a pseudo-terminal, answering as docs/pinpad-protocol.md says.

It is the pad: it holds the master and working keys, keeps the PIN digits of an entry in a
bytearray and builds real PIN blocks with drivers.crypto.pinblock. Tests and the demo press its
keys with :meth:`PinPadSimulator.press` (thread-safe). Faults on demand: slowness, noise, error
statuses, corrupted or missing answers, NAKs, and unplugging (the pty closes; a stable symlink,
like a udev rule's, points at the new pty when it comes back).
"""

from __future__ import annotations

import logging
import os
import select
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from drivers.crypto.ciphers import BlockCipher, cipher_for
from drivers.crypto.pinblock import PinBlockFormat, encrypt_pin_block
from drivers.pinpad import kmy
from drivers.pinpad.api import KeyKind
from drivers.pty_link import close_fds, open_pty_at, own_link, remove_own_link

log = logging.getLogger(__name__)

KEY_NAMES = {"enter": KeyKind.ENTER, "cancel": KeyKind.CANCEL, "clear": KeyKind.CLEAR,
             "backspace": KeyKind.BACKSPACE}


@dataclass
class Faults:
    """One-shot and standing faults, set by tests (under the simulator's lock)."""

    delay_s: float = 0.0                  # before every answer
    noise: bytes = b""                    # sent once before the next answer
    next_status: int | None = None        # answer the next command with this status instead
    corrupt_next: int = 0                 # answers sent with a wrong BCC
    drop_next: int = 0                    # commands left unanswered
    nak_next: int = 0                     # commands answered with a bare NAK
    byte_time_s: float = 0.0              # baud pacing (10 bits / baud per byte)
    type_ahead: tuple[int, str] | None = None   # (command, keys): keys pressed right behind its OK answer


@dataclass
class _Entry:
    mode: str = "idle"                    # idle | pin | plain
    min_len: int = 4
    max_len: int = 12
    auto_end: bool = False
    deadline: float = 0.0
    digits: bytearray = field(default_factory=bytearray)

    def wipe(self) -> None:
        self.digits[:] = bytes(len(self.digits))
        del self.digits[:]


class PinPadSimulator:
    def __init__(self, link_path: str | None = None, *, wire_form: str = "binary", send_etx: bool = True,
                 ceremony_mode: bool = False, version: str = "KMY350X-SIM V1.0", serial: str = "SIM0000001",
                 keys: kmy.KeyMap | None = None) -> None:
        self._own_dir, self.link_path = (None, link_path) if link_path else own_link("pinpad-sim-", "epp")
        self.wire_form = wire_form
        self.send_etx = send_etx
        self.ceremony_mode = ceremony_mode
        self.version = version
        self.serial = serial
        self.keymap = keys or kmy.KeyMap()
        self.faults = Faults()
        self.received: list[int] = []      # command codes, in order (for tests)
        self._lock = threading.RLock()
        self._masters: dict[tuple[str, int], bytes] = {}
        self._work: dict[tuple[str, int, int], bytes] = {}
        self._active: dict[str, tuple[int, int]] = {}
        self._formats = {"3des": PinBlockFormat.ISO0, "sm4": PinBlockFormat.ISO0}
        self._card = ""
        self._entry = _Entry()
        self._ready_pin = bytearray()      # digits of a finished entry, until its block is read
        self._master_fd: int | None = None
        self._slave_fd: int | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._plugged = threading.Event()

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> str:
        """Open the pty, point the stable link at it, answer from a thread; returns the link path."""
        self._plug()
        self._thread = threading.Thread(target=self._run, name="pinpad-simulator", daemon=True)
        self._thread.start()
        return self.link_path

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2.0)
        self._unplug()
        with self._lock:
            self._entry.wipe()
            self._wipe_ready()
        remove_own_link(self.link_path, self._own_dir)
        self._own_dir = None

    def unplug(self) -> None:
        """Like pulling the USB adapter: the pty closes and the stable path disappears."""
        self._unplug()
        Path(self.link_path).unlink(missing_ok=True)

    def replug(self) -> None:
        self._plug()

    @property
    def plugged(self) -> bool:
        return self._plugged.is_set()

    def _plug(self) -> None:
        with self._lock:
            if self._master_fd is not None:
                return
            self._master_fd, self._slave_fd = open_pty_at(self.link_path)
            self._parser = kmy.FrameParser(self.wire_form, frozenset())
            self._plugged.set()

    def _unplug(self) -> None:
        with self._lock:
            self._plugged.clear()
            close_fds(self._master_fd, self._slave_fd)
            self._master_fd = self._slave_fd = None
            self._entry = _Entry()

    # -- keys -----------------------------------------------------------------------------------
    def press(self, key: str) -> None:
        """Press a key: "0".."9", "enter", "cancel", "clear" or "backspace". Thread-safe."""
        with self._lock:
            entry = self._entry
            if key.isdigit() and len(key) == 1:
                if entry.mode == "pin":
                    if len(entry.digits) >= entry.max_len:
                        return
                    entry.digits.append(ord(key))
                    self._write(bytes([self.keymap.hidden_digit]))
                    if entry.auto_end and len(entry.digits) == entry.max_len:
                        self._finish_pin()
                elif entry.mode == "plain":
                    self._write(key.encode("ascii"))
                return
            kind = KEY_NAMES.get(key)
            if kind is None:
                raise ValueError(f"unknown key {key!r}; expected a digit or one of {sorted(KEY_NAMES)}")
            if entry.mode == "idle" or (kind is KeyKind.BACKSPACE and not self.keymap.backspace):
                return
            if entry.mode == "pin":
                if kind is KeyKind.ENTER:
                    if len(entry.digits) >= entry.min_len:
                        self._finish_pin()
                    return                  # below the minimum the pad only beeps
                if kind is KeyKind.CANCEL:
                    entry.wipe()
                    entry.mode = "idle"
                elif kind is KeyKind.CLEAR:
                    entry.wipe()
                elif kind is KeyKind.BACKSPACE and entry.digits:
                    entry.digits[-1] = 0
                    del entry.digits[-1]
            self._write(bytes([self.keymap.byte_for(kind)]))

    def type_keys(self, keys: str, gap_s: float = 0.0) -> None:
        """Press each character's key ("123456" then e.g. press("enter")); for scripts and tests."""
        for ch in keys:
            self.press(ch)
            if gap_s:
                time.sleep(gap_s)

    def _finish_pin(self) -> None:
        self._wipe_ready()
        self._ready_pin = bytearray(self._entry.digits)
        self._entry.wipe()
        self._entry.mode = "idle"
        self._write(bytes([self.keymap.enter]))

    def _wipe_ready(self) -> None:
        self._ready_pin[:] = bytes(len(self._ready_pin))
        self._ready_pin = bytearray()

    def provision_master_key(self, algorithm: str, key: bytes, index: int = 0) -> None:
        """A pad that already went through the key-loading ceremony (demo and tests)."""
        with self._lock:
            self._masters[(algorithm, index)] = bytes(key)

    @property
    def entry_mode(self) -> str:
        return self._entry.mode

    # -- the wire -------------------------------------------------------------------------------
    def _write(self, data: bytes) -> None:
        fd = self._master_fd
        if fd is None:
            return
        if self.faults.byte_time_s:
            time.sleep(self.faults.byte_time_s * len(data))
        try:
            os.write(fd, data)
        except OSError:
            pass

    def _answer(self, status: int, data: bytes = b"") -> None:
        f = self.faults
        if f.delay_s:
            time.sleep(f.delay_s)
        if f.noise:
            self._write(f.noise)
            f.noise = b""
        frame = bytearray(kmy.encode_frame(status, data, self.wire_form, self.send_etx))
        if f.corrupt_next:
            f.corrupt_next -= 1
            if self.wire_form == "binary":
                frame[3 + len(data)] ^= 0x5A          # the BCC byte
            else:
                frame[-2] = ord("0") if frame[-2] != ord("0") else ord("1")
        self._write(bytes(frame))

    def _run(self) -> None:
        while not self._stop.is_set():
            fd = self._master_fd
            if fd is None:
                time.sleep(0.01)
                continue
            try:
                ready, _, _ = select.select([fd], [], [], 0.02)
                data = os.read(fd, 1024) if ready else b""
            except (OSError, ValueError):
                time.sleep(0.01)
                continue
            with self._lock:
                if fd != self._master_fd:
                    continue
                if data:
                    for item in self._parser.feed(data):
                        if isinstance(item, kmy.Frame):
                            self._command(item.code, item.data)
                        elif isinstance(item, kmy.Junk) and item.reason != "noise":
                            self._write(bytes([kmy.NAK]))
                if self._entry.mode == "pin" and time.monotonic() > self._entry.deadline:
                    self._entry.wipe()
                    self._entry.mode = "idle"
                    self._answer(kmy.ST_TIMEOUT)   # unsolicited: the pad's own entry timeout

    def _command(self, code: int, data: bytes) -> None:
        self.received.append(code)
        f = self.faults
        if f.drop_next:
            f.drop_next -= 1
            return
        if f.nak_next:
            f.nak_next -= 1
            self._write(bytes([kmy.NAK]))
            return
        if f.next_status is not None:
            status, f.next_status = f.next_status, None
            self._answer(status)
            return
        try:
            answer = self._execute(code, data)
        except _Status as st:
            self._answer(st.status)
            return
        self._answer(kmy.ST_OK, answer)
        if f.type_ahead is not None and f.type_ahead[0] == code:
            keys, f.type_ahead = f.type_ahead[1], None
            self.type_keys(keys)

    def _execute(self, code: int, data: bytes) -> bytes:
        family = "sm4" if code in (kmy.CMD_SM4_SETTINGS, kmy.CMD_SM4_LOAD_MASTER, kmy.CMD_SM4_LOAD_WORK,
                                   kmy.CMD_SM4_ACTIVATE, kmy.CMD_SM4_READ_PIN_BLOCK) else "3des"
        if code == kmy.CMD_VERSION:
            return self.version.encode("ascii")
        if code == kmy.CMD_SERIAL:
            return self.serial.encode("ascii")
        if code == kmy.CMD_RESET:
            self._entry.wipe()
            self._entry.mode = "idle"
            self._wipe_ready()
            if data == bytes([kmy.ERASE_KEYS]):
                if not self.ceremony_mode:
                    raise _Status(kmy.ST_INVALID_COMMAND)
                self._masters.clear()
                self._work.clear()
                self._active.clear()
            elif data:
                raise _Status(kmy.ST_BAD_PARAMETER)
            return b""
        if code in (kmy.CMD_SETTINGS, kmy.CMD_SM4_SETTINGS):
            if len(data) != 2:
                raise _Status(kmy.ST_BAD_PARAMETER)
            param, value = data
            if param == kmy.SETTING_FORMAT:
                allowed = (0, 1, 3) if family == "3des" else (0, 1, 3, 4)
                if value not in allowed:
                    raise _Status(kmy.ST_BAD_PARAMETER)
                self._formats[family] = PinBlockFormat(value)
            elif not (family == "sm4" and param == kmy.SETTING_SM4_EXPANSION and value == 0):
                raise _Status(kmy.ST_BAD_PARAMETER)
            return b""
        if code in (kmy.CMD_LOAD_MASTER, kmy.CMD_SM4_LOAD_MASTER):
            if not self.ceremony_mode:
                raise _Status(kmy.ST_INVALID_COMMAND)    # clear keys only in the ceremony mode
            if len(data) < 2 or len(data) - 1 not in ((16, 24) if family == "3des" else (16,)):
                raise _Status(kmy.ST_BAD_PARAMETER)
            key = bytes(data[1:])
            self._masters[(family, data[0])] = key
            self._work = {k: v for k, v in self._work.items() if k[:2] != (family, data[0])}
            return _check_code(cipher_for(family, key))
        if code in (kmy.CMD_LOAD_WORK, kmy.CMD_SM4_LOAD_WORK):
            if len(data) != 2 + 16:
                raise _Status(kmy.ST_BAD_PARAMETER)
            master = self._masters.get((family, data[0]))
            if master is None:
                raise _Status(kmy.ST_MASTER_KEY_INVALID[0])
            work = cipher_for(family, master).decrypt(bytes(data[2:]))
            self._work[(family, data[0], data[1])] = work
            return _check_code(cipher_for(family, work))
        if code in (kmy.CMD_ACTIVATE, kmy.CMD_SM4_ACTIVATE):
            if len(data) != 2 or (family, data[0], data[1]) not in self._work:
                raise _Status(kmy.ST_BAD_PARAMETER)
            self._active[family] = (data[0], data[1])
            return b""
        if code == kmy.CMD_CARD_NUMBER:
            if not 12 <= len(data) <= 19 or not data.isdigit():
                raise _Status(kmy.ST_BAD_PARAMETER)
            self._card = data.decode("ascii")
            return b""
        if code == kmy.CMD_START_PIN:
            if len(data) != 4 or not 4 <= data[0] <= data[1] <= 12:
                raise _Status(kmy.ST_BAD_PARAMETER)
            self._wipe_ready()
            self._entry.wipe()
            self._entry = _Entry("pin", data[0], data[1], bool(data[2] & 1), time.monotonic() + data[3])
            return b""
        if code == kmy.CMD_KEYPAD:
            if data == bytes([kmy.KEYPAD_CLOSE]):
                self._entry.wipe()
                self._entry.mode = "idle"
            elif data == bytes([kmy.KEYPAD_OPEN_PLAIN]):
                self._entry.wipe()
                self._entry = _Entry("plain")
            else:
                raise _Status(kmy.ST_BAD_PARAMETER)
            return b""
        if code in (kmy.CMD_READ_PIN_BLOCK, kmy.CMD_SM4_READ_PIN_BLOCK):
            return self._pin_block(family)
        raise _Status(kmy.ST_INVALID_COMMAND)

    def _pin_block(self, family: str) -> bytes:
        active = self._active.get(family)
        if not self._ready_pin or active is None or not self._card:
            raise _Status(kmy.ST_BAD_PARAMETER)
        cipher: BlockCipher = cipher_for(family, self._work[(family, *active)])
        try:
            # The card number field already holds the 12 PAN-field digits (no check digit) for
            # formats 0/3, or the whole PAN for format 4.
            return encrypt_pin_block(self._ready_pin, self._card, self._formats[family], cipher,
                                     expand_to_16=True, pan_has_check_digit=False)
        finally:
            self._wipe_ready()           # one PIN block per entry


class _Status(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(f"status {status:02X}h")
        self.status = status


def _check_code(cipher: BlockCipher) -> bytes:
    """The pad's answer to a key load: the key's encryption of a zero block, first 8 bytes
    (the host compares the leading bytes with the KCV it expects)."""
    return cipher.encrypt(bytes(cipher.block_size))[:8]
