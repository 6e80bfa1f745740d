"""The PIN pad service over a serial port: one worker thread owns the port, the protocol module
speaks the vendor's bytes, this module keeps status, keys' check values, entries and reconnects.

Nothing here ever holds a PIN digit: in PIN mode only "a digit was pressed" crosses the wire.
Plain-mode digits (phone numbers, SMS codes) live in a bytearray that is zeroed after use.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from drivers.api import (
    CommandCanceled,
    CommandContext,
    CommandHandle,
    CommandTimedOut,
    CompletionCode,
    DeviceStatus,
    DeviceWorker,
    EventListener,
)
from drivers.crypto.pinblock import PinBlockFormat, pan_field_8
from drivers.pinpad.api import (
    DEVICE_NAME,
    EntryMode,
    KeyEvent,
    KeyKind,
    KeyLoadResult,
    PadInfo,
    PinEntryResult,
    PinPadError,
    PinPadErrorCode,
)
from drivers.pinpad.protocol import Link, PadProtocol, PortGone

log = logging.getLogger(__name__)
T = TypeVar("T")

KEY_LENGTHS = {"3des": (16, 24), "sm4": (16,)}


@dataclass
class _WorkKey:
    algorithm: str
    index: int
    master: int | None = None       # the master key index it is wrapped under (None: the pad's default)
    verified: bool = False


def _work_key(algorithm: str, slot: int | tuple[int, int]) -> _WorkKey:
    """A slot is a working-key index under the default master key, or (master index, key index):
    a key owned by another party, such as the e-card PIN service's, under its own master key."""
    if isinstance(slot, tuple):
        return _WorkKey(algorithm, slot[1], master=slot[0])
    return _WorkKey(algorithm, slot)


class SerialPinPad:
    """Implements drivers.pinpad.api.PinPadService."""

    def __init__(self, open_link: Callable[[], Link], make_protocol: Callable[[Link], PadProtocol], *,
                 port: str, algorithm: str = "sm4", pin_format: PinBlockFormat = PinBlockFormat.ISO0,
                 wire_form: str = "binary", command_timeout_s: float = 5.0, pin_timeout_s: float = 30.0,
                 reconnect_initial_s: float = 0.2, reconnect_max_backoff_s: float = 30.0,
                 ceremony_mode: bool = False, master_key_index: int = 0,
                 key_slots: dict[str, int | tuple[int, int]] | None = None, name: str = DEVICE_NAME) -> None:
        if algorithm not in KEY_LENGTHS:
            raise ValueError(f"unsupported PIN algorithm {algorithm!r}; expected 'sm4' or '3des'")
        if pin_format is PinBlockFormat.ISO4 and algorithm != "sm4":
            raise ValueError("PIN block format 4 needs a 128-bit cipher: set algorithm 'sm4'")
        self.name = name
        self.port = port
        self.algorithm = algorithm
        self.pin_format = pin_format
        self.wire_form = wire_form
        self.command_timeout_s = command_timeout_s
        self.pin_timeout_s = pin_timeout_s
        self.ceremony_mode = ceremony_mode
        self.master_key_index = master_key_index
        self._open_link = open_link
        self._make_protocol = make_protocol
        self._link: Link | None = None
        self._proto: PadProtocol | None = None
        self._info: PadInfo | None = None
        self._work_keys = {n: _work_key(algorithm, i) for n, i in (key_slots or {"pin": 1, "mac": 2}).items()}
        self._backoff_initial = reconnect_initial_s
        self._backoff_max = reconnect_max_backoff_s
        self._backoff = reconnect_initial_s
        self._next_attempt = 0.0
        self.reconnects = 0
        self._worker = DeviceWorker(name, idle=self._idle, idle_interval=0.1)

    # -- lifecycle and status -----------------------------------------------------------------
    @property
    def status(self) -> DeviceStatus:
        return self._worker.status

    @property
    def status_detail(self) -> str:
        return self._worker.status_detail

    def start(self) -> None:
        self._worker.start()
        self._worker.submit("connect", lambda ctx: self._connect(), timeout=self.command_timeout_s * 4)

    def stop(self) -> None:
        """Cancel what runs (a PIN entry closes the keypad on its way out), stop the worker, then
        close the port from here: with the worker gone, nothing else touches it."""
        self._worker.stop(timeout=self.command_timeout_s + 1.0)
        if self._worker.running:
            return                       # stuck in I/O: leave the port to the daemon thread
        if self._proto is not None:
            try:
                self._proto.close_keypad()
            except (PinPadError, PortGone):
                pass
        self._drop_link("stopped", DeviceStatus.OFFLINE)

    def subscribe(self, listener: EventListener) -> Callable[[], None]:
        return self._worker.subscribe(listener)

    def wait_online(self, timeout: float) -> bool:
        """For tests, the doctor and start-up: block (never on the UI thread) until ONLINE."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.status is DeviceStatus.ONLINE:
                return True
            time.sleep(0.02)
        return self.status is DeviceStatus.ONLINE

    # -- connection (worker thread only) ------------------------------------------------------
    def _connect(self) -> bool:
        self._worker.assert_on_worker()
        try:
            link = self._open_link()
        except PortGone as exc:
            self._schedule_retry(str(exc))
            return False
        self._link, self._proto = link, self._make_protocol(link)
        try:
            self._initialise()
        except (PortGone, PinPadError) as exc:
            # Silence or garbage: probably not (yet) a pad on this port -> OFFLINE. A pad that
            # answers with an error status (self-test, refused settings) -> HARDWARE_ERROR.
            silent = isinstance(exc, PortGone) or exc.pad_error in (
                PinPadErrorCode.NO_ANSWER, PinPadErrorCode.BAD_FRAME, PinPadErrorCode.NAK)
            status = DeviceStatus.OFFLINE if silent else DeviceStatus.HARDWARE_ERROR
            self._drop_link(f"initialisation failed: {exc}", status)
            self._schedule_retry(str(exc), status)
            return False
        self._backoff = self._backoff_initial
        self._worker.set_status(DeviceStatus.ONLINE, f"{self._info.version if self._info else ''} on {self.port}")
        return True

    def _initialise(self) -> None:
        """After every (re)connect: known state, version and serial, PIN-block settings."""
        assert self._proto is not None
        self._proto.drain()
        self._proto.reset()
        version = self._proto.version()
        serial = self._proto.serial_number()
        self._proto.configure(self.algorithm, self.pin_format)
        self._info = PadInfo(version, serial, self._proto.name, self.wire_form)

    def _schedule_retry(self, reason: str, status: DeviceStatus = DeviceStatus.OFFLINE) -> None:
        self._next_attempt = time.monotonic() + self._backoff
        log.info("pinpad not reachable; retrying", extra={"device": self.name, "port": self.port,
                                                          "retry_in_s": round(self._backoff, 2), "reason": reason})
        self._backoff = min(self._backoff * 2, self._backoff_max)
        if self.status is not status:
            self._worker.set_status(status, reason)

    def _drop_link(self, reason: str, status: DeviceStatus) -> None:
        if self._link is not None:
            self._link.close()
        self._link, self._proto = None, None
        self._worker.set_status(status, reason)

    def _idle(self) -> None:
        if self._link is None:
            if time.monotonic() >= self._next_attempt:
                if self._connect():
                    self.reconnects += 1
            return
        try:
            assert self._proto is not None
            self._proto.drain()    # notices a vanished port; drops stray presses outside an entry
        except PortGone as exc:
            self._port_lost(str(exc))

    def _port_lost(self, reason: str) -> None:
        log.warning("pinpad port vanished", extra={"device": self.name, "port": self.port, "reason": reason})
        self._drop_link(reason, DeviceStatus.OFFLINE)
        self._backoff = self._backoff_initial
        self._next_attempt = time.monotonic() + self._backoff

    def _online_proto(self) -> PadProtocol:
        if self._proto is None:
            raise PinPadError(CompletionCode.HARDWARE_ERROR, PinPadErrorCode.OFFLINE,
                              f"pad offline ({self.status_detail or 'not connected'})")
        return self._proto

    def _submit(self, name: str, body: Callable[[CommandContext, PadProtocol], T],
                timeout: float | None) -> CommandHandle[T]:
        def run(ctx: CommandContext) -> T:
            proto = self._online_proto()
            try:
                return body(ctx, proto)
            except PortGone as exc:
                self._port_lost(str(exc))
                raise PinPadError(CompletionCode.HARDWARE_ERROR, PinPadErrorCode.PORT_GONE,
                                  "pad port vanished during the command") from None
        return self._worker.submit(name, run, timeout)

    # -- commands -------------------------------------------------------------------------------
    def info(self) -> CommandHandle[PadInfo]:
        def body(_ctx: CommandContext, proto: PadProtocol) -> PadInfo:
            self._info = PadInfo(proto.version(), proto.serial_number(), proto.name, self.wire_form)
            return self._info
        return self._submit("info", body, self.command_timeout_s)

    def reset(self, erase_keys: bool = False) -> CommandHandle[None]:
        def body(_ctx: CommandContext, proto: PadProtocol) -> None:
            if erase_keys and not self.ceremony_mode:
                raise PinPadError(CompletionCode.UNSUPPORTED, PinPadErrorCode.CEREMONY_MODE_OFF,
                                  "erasing keys needs the key-loading ceremony mode")
            proto.reset(erase_keys)
            proto.configure(self.algorithm, self.pin_format)
            if erase_keys:
                for key in self._work_keys.values():
                    key.verified = False
        return self._submit("reset", body, self.command_timeout_s)

    def load_master_key(self, key: bytes, expected_kcv: bytes = b"",
                        master_index: int | None = None) -> CommandHandle[KeyLoadResult]:
        """Ceremony mode only: the clear master key goes straight to the pad; the caller must
        zero its own copy. The pad's check value is compared with ``expected_kcv`` when given.
        ``master_index`` loads another party's master key (e.g. the e-card PIN service's) into
        its own index; the default is the pad's PSAM master key."""
        key = bytes(key)
        index = self.master_key_index if master_index is None else master_index

        def body(_ctx: CommandContext, proto: PadProtocol) -> KeyLoadResult:
            if not self.ceremony_mode:
                raise PinPadError(CompletionCode.UNSUPPORTED, PinPadErrorCode.CEREMONY_MODE_OFF,
                                  "loading a clear master key needs the key-loading ceremony mode")
            if len(key) not in KEY_LENGTHS[self.algorithm]:
                raise PinPadError(CompletionCode.INVALID_DATA, PinPadErrorCode.BAD_INPUT,
                                  f"a {self.algorithm} master key has {KEY_LENGTHS[self.algorithm]} bytes")
            check = proto.load_master_key(self.algorithm, index, key)
            _verify_kcv(check, expected_kcv, "master")
            for work in self._work_keys.values():
                if self._master_of(work) == index:
                    work.verified = False      # working keys under the old master are gone
            log.info("pinpad master key loaded", extra={"device": self.name, "algorithm": self.algorithm})
            return KeyLoadResult("master", self.algorithm, check[:len(expected_kcv) or 3])
        return self._submit("loadMasterKey", body, self.command_timeout_s)

    def _master_of(self, slot: _WorkKey) -> int:
        return self.master_key_index if slot.master is None else slot.master

    def load_work_key(self, name: str, wrapped_key: bytes, expected_kcv: bytes) -> CommandHandle[KeyLoadResult]:
        """Load a working key encrypted under the master key (from the PSAM) and check its KCV."""
        wrapped = bytes(wrapped_key)

        def body(_ctx: CommandContext, proto: PadProtocol) -> KeyLoadResult:
            slot = self._work_keys.get(name)
            if slot is None:
                raise PinPadError(CompletionCode.INVALID_DATA, PinPadErrorCode.BAD_INPUT,
                                  f"unknown key name {name!r}; configured: {sorted(self._work_keys)}")
            if len(wrapped) not in KEY_LENGTHS[self.algorithm]:
                raise PinPadError(CompletionCode.INVALID_DATA, PinPadErrorCode.BAD_INPUT,
                                  f"a wrapped {self.algorithm} key has {KEY_LENGTHS[self.algorithm]} bytes")
            if len(expected_kcv) < 3:
                raise PinPadError(CompletionCode.INVALID_DATA, PinPadErrorCode.BAD_INPUT,
                                  "the expected key check value needs at least 3 bytes")
            slot.verified = False
            check = proto.load_work_key(self.algorithm, self._master_of(slot), slot.index, wrapped)
            _verify_kcv(check, expected_kcv, name)
            slot.verified = True
            log.info("pinpad work key loaded", extra={"device": self.name, "key_name": name,
                                                      "algorithm": self.algorithm})
            return KeyLoadResult(name, self.algorithm, check[:len(expected_kcv)])
        return self._submit("loadWorkKey", body, self.command_timeout_s)

    def start_pin_entry(self, pan: str, min_len: int = 6, max_len: int = 6, timeout_s: float | None = None,
                        auto_end: bool = False, key_name: str = "pin",
                        pan_has_check_digit: bool = False) -> CommandHandle[PinEntryResult]:
        """PIN entry: events say only that a digit was pressed; the result is the pad's PIN block.

        ``pan`` is the social-security card number (EF05 tag 07, e.g. "A12345678": its digits,
        no check digit — what drivers/smartcard/pin_handoff.py gives the PSAM), or a bank PAN
        with ``pan_has_check_digit=True``. Both sides of the PIN block must agree.
        """
        timeout = float(timeout_s if timeout_s is not None else self.pin_timeout_s)

        def body(ctx: CommandContext, proto: PadProtocol) -> PinEntryResult:
            if not 4 <= min_len <= max_len <= 12:
                raise PinPadError(CompletionCode.INVALID_DATA, PinPadErrorCode.BAD_INPUT,
                                  "PIN lengths must satisfy 4 <= min_len <= max_len <= 12")
            slot = self._work_keys.get(key_name)
            if slot is None or not slot.verified:
                raise PinPadError(CompletionCode.COMMAND_ERROR, PinPadErrorCode.KEY_NOT_LOADED,
                                  f"working key {key_name!r} is not loaded and verified")
            proto.set_card_number(_card_digits(pan, self.pin_format, pan_has_check_digit))
            proto.activate_work_key(self.algorithm, self._master_of(slot), slot.index)
            proto.begin_pin_entry(min_len, max_len, auto_end, int(timeout) + 1)
            try:
                digits = self._collect_keys(ctx, proto, EntryMode.PIN, min_len, max_len, None,
                                            deadline=time.monotonic() + timeout)
            except BaseException:
                _close_quietly(proto)
                raise
            block = proto.read_pin_block(self.algorithm)
            return PinEntryResult(block, self.pin_format, digits, key_name, self.algorithm)
        # The citizen gets ``timeout`` for the keys; the command gets room for setup and the block read.
        return self._submit("pinEntry", body, timeout + 3 * self.command_timeout_s)

    def start_plain_entry(self, max_len: int, timeout_s: float | None = None, min_len: int = 1,
                          auto_end: bool = False) -> CommandHandle[str]:
        """Plain entry for non-secret numbers: every key comes with its value."""
        timeout = float(timeout_s if timeout_s is not None else self.pin_timeout_s)

        def body(ctx: CommandContext, proto: PadProtocol) -> str:
            if not 1 <= min_len <= max_len <= 32:
                raise PinPadError(CompletionCode.INVALID_DATA, PinPadErrorCode.BAD_INPUT,
                                  "lengths must satisfy 1 <= min_len <= max_len <= 32")
            buffer = bytearray()
            proto.open_keypad()
            try:
                self._collect_keys(ctx, proto, EntryMode.PLAIN, min_len, max_len, buffer, auto_end,
                                   deadline=time.monotonic() + timeout)
                return buffer.decode("ascii")
            finally:
                buffer[:] = bytes(len(buffer))
                _close_quietly(proto)
        return self._submit("dataEntry", body, timeout + 3 * self.command_timeout_s)

    def start_navigation(self, timeout_s: float = 300.0) -> CommandHandle[None]:
        """Eyes-free navigation (docs/voice.md): the keypad open in plain mode, every key reported as
        a :class:`KeyEvent` (a digit with its value, ``count`` always 0) until the host cancels the
        command or ``timeout_s`` passes; nothing typed is kept. Only while no entry is wanted: an
        entry submitted meanwhile waits behind it until it is canceled."""
        def body(ctx: CommandContext, proto: PadProtocol) -> None:
            proto.open_keypad()
            try:
                while True:
                    key = proto.next_key(ctx.check)
                    if key is None or key.kind is KeyKind.DIGIT_HIDDEN:
                        continue
                    value = key.value if key.kind is KeyKind.DIGIT else ""
                    ctx.emit(KeyEvent(self.name, key.kind, 0, EntryMode.PLAIN, value))
            finally:
                _close_quietly(proto)
        return self._submit("navigation", body, timeout_s)

    def _collect_keys(self, ctx: CommandContext, proto: PadProtocol, mode: EntryMode, min_len: int,
                      max_len: int, buffer: bytearray | None, auto_end: bool = False,
                      deadline: float = float("inf")) -> int:
        count = 0

        def check() -> None:
            ctx.check()
            if time.monotonic() > deadline:
                raise CommandTimedOut("no key in time")

        while True:
            try:
                key = proto.next_key(check)
            except PinPadError as exc:
                if exc.pad_error is PinPadErrorCode.PAD_TIMEOUT:
                    raise CommandTimedOut("the pad ended the entry: no key in time") from None
                raise
            if key is None:
                continue
            kind = key.kind
            if kind is KeyKind.DIGIT_HIDDEN and mode is EntryMode.PIN:
                count += 1
            elif kind is KeyKind.DIGIT and mode is EntryMode.PLAIN:
                if count >= max_len:
                    continue
                assert buffer is not None
                buffer.append(ord(key.value))
                count += 1
            elif kind is KeyKind.CLEAR:
                count = 0
                if buffer is not None:
                    buffer[:] = bytes(len(buffer))
                    del buffer[:]
            elif kind is KeyKind.BACKSPACE:
                count = max(0, count - 1)
                if buffer:
                    buffer[-1] = 0
                    del buffer[-1]
            elif kind is KeyKind.CANCEL:
                ctx.emit(KeyEvent(self.name, kind, count, mode))
                raise CommandCanceled("canceled on the pad")
            elif kind is KeyKind.ENTER:
                ctx.emit(KeyEvent(self.name, kind, count, mode))
                if count >= min_len:      # the pad itself refuses Enter below min in PIN mode
                    return count
                continue
            else:
                continue                  # a byte that makes no sense in this mode
            ctx.emit(KeyEvent(self.name, kind, count, mode, key.value if mode is EntryMode.PLAIN else ""))
            if mode is EntryMode.PLAIN and auto_end and count >= max_len:
                return count


def _verify_kcv(check: bytes, expected: bytes, name: str) -> None:
    if expected and not check.startswith(expected):
        raise PinPadError(CompletionCode.COMMAND_ERROR, PinPadErrorCode.KCV_MISMATCH,
                          f"key {name!r}: the pad's check value does not match the expected one")


def _card_digits(pan: str, fmt: PinBlockFormat, has_check_digit: bool) -> str:
    digits = "".join(ch for ch in pan if ch.isdigit())
    if fmt is PinBlockFormat.ISO4:
        if not 12 <= len(digits) <= 19:
            raise PinPadError(CompletionCode.INVALID_DATA, PinPadErrorCode.BAD_INPUT,
                              "format 4 needs a PAN of 12 to 19 digits")
        return digits
    if len(digits) < (2 if has_check_digit else 1):
        raise PinPadError(CompletionCode.INVALID_DATA, PinPadErrorCode.BAD_INPUT,
                          "the card number has no digits for the PIN block")
    return pan_field_8(digits, has_check_digit).hex()[4:]


def _close_quietly(proto: PadProtocol) -> None:
    try:
        proto.close_keypad()
    except (PinPadError, PortGone):
        pass

