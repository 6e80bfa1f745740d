"""Read the headphone switch from a Linux input event device (``/dev/input/eventN``).

Wire format: the kernel's ``struct input_event`` (``timeval``, ``u16 type``, ``u16 code``,
``s32 value``; 24 bytes on 64-bit). The jack sends ``EV_SW``/``SW_HEADPHONE_INSERT`` (1 plugged,
0 out) followed by ``EV_SYN``. The state at start comes from the ``EVIOCGSW`` ioctl; a device
that does not answer it (the simulator's pty) starts as unplugged, the safe side. Nothing here
knows about the voice: it only publishes :class:`drivers.headphone.api.HeadphonesChanged`.
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import struct
import time
from collections.abc import Callable
from pathlib import Path

from drivers.api import DeviceStatus, DeviceWorker, EventListener
from drivers.headphone.api import DEVICE_NAME, HeadphonesChanged

log = logging.getLogger(__name__)

EV_SYN, EV_SW = 0x00, 0x05
SW_HEADPHONE_INSERT = 0x02
EVENT = struct.Struct("@llHHi")           # struct input_event on this machine's ABI
SW_BYTES = 2                               # SW_MAX is 0x10: two bytes of switch bits
POLL_S = 0.05


def evioc_gsw(length: int) -> int:
    """_IOC(_IOC_READ, 'E', 0x1b, length): read the switch states as a bit field."""
    return (2 << 30) | (length << 16) | (ord("E") << 8) | 0x1B


def encode(type_: int, code: int, value: int, seconds: int = 0, micros: int = 0) -> bytes:
    return EVENT.pack(seconds, micros, type_, code, value)


def headphone_records(plugged: bool) -> bytes:
    """What the kernel sends when the jack changes: the switch, then a sync."""
    return encode(EV_SW, SW_HEADPHONE_INSERT, int(plugged)) + encode(EV_SYN, 0, 0)


def find_jack_device(sys_input: Path = Path("/sys/class/input")) -> str | None:
    """The first input device that has the headphone switch, or None (no socket on this PC)."""
    for caps in sorted(sys_input.glob("event*/device/capabilities/sw")):
        try:
            words = caps.read_text().split()
        except OSError:
            continue
        bits = int(words[-1], 16) if words else 0       # the lowest word holds SW 0..63
        if bits & (1 << SW_HEADPHONE_INSERT):
            return f"/dev/input/{caps.parents[2].name}"
    return None


class EvdevHeadphoneJack:
    """Implements :class:`drivers.headphone.api.HeadphoneJack` over an input event device path."""

    def __init__(self, path: str, *, name: str = DEVICE_NAME, reopen_s: float = 1.0) -> None:
        self.name = name
        self.path = path
        self.reopen_s = reopen_s
        self._fd: int | None = None
        self._buffer = b""
        self._plugged = False
        self._seen: bool | None = None     # the switch value since the last EV_SYN
        self._next_open = 0.0
        self._worker = DeviceWorker(name, idle=self._idle, idle_interval=POLL_S)

    @property
    def status(self) -> DeviceStatus:
        return self._worker.status

    @property
    def status_detail(self) -> str:
        return self._worker.status_detail

    @property
    def plugged(self) -> bool:
        return self._plugged

    def start(self) -> None:
        self._worker.start()

    def stop(self) -> None:
        self._worker.stop(timeout=2.0)
        if not self._worker.running:
            self._close("stopped")

    def subscribe(self, listener: EventListener) -> Callable[[], None]:
        return self._worker.subscribe(listener)

    # -- worker thread ----------------------------------------------------------------------------
    def _idle(self) -> None:
        if self._fd is None:
            if time.monotonic() >= self._next_open:
                self._open()
                self._next_open = time.monotonic() + self.reopen_s
            return
        try:
            data = os.read(self._fd, EVENT.size * 32)
        except BlockingIOError:
            return
        except OSError as exc:              # the device went away (USB sound card pulled, pty closed)
            self._close(f"read failed: {exc.strerror}")
            return
        if not data:
            self._close("end of file")
            return
        self._buffer += data
        while len(self._buffer) >= EVENT.size:
            record, self._buffer = self._buffer[:EVENT.size], self._buffer[EVENT.size:]
            _sec, _usec, type_, code, value = EVENT.unpack(record)
            if type_ == EV_SW and code == SW_HEADPHONE_INSERT:
                self._seen = bool(value)
            elif type_ == EV_SYN and self._seen is not None:
                self._set(self._seen)
                self._seen = None

    def _open(self) -> None:
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
        except OSError as exc:
            if self.status is not DeviceStatus.OFFLINE or not self.status_detail:
                self._worker.set_status(DeviceStatus.OFFLINE, f"{self.path}: {exc.strerror}")
            return
        self._fd, self._buffer, self._seen = fd, b"", None
        self._worker.set_status(DeviceStatus.ONLINE, self.path)
        state = self._read_switches(fd)
        if state is not None:
            self._set(state)

    @staticmethod
    def _read_switches(fd: int) -> bool | None:
        buf = bytearray(SW_BYTES)
        try:
            fcntl.ioctl(fd, evioc_gsw(SW_BYTES), buf, True)
        except OSError as exc:
            if exc.errno not in (errno.ENOTTY, errno.EINVAL):
                log.info("headphone switch state not readable", extra={"error": exc.strerror})
            return None                     # not an evdev node (the simulator): events only
        return bool(buf[0] & (1 << SW_HEADPHONE_INSERT))

    def _set(self, plugged: bool) -> None:
        if plugged == self._plugged:
            return
        self._plugged = plugged
        log.info("headphones", extra={"device": self.name, "plugged": plugged})
        self._worker.publish(HeadphonesChanged(self.name, plugged))

    def _close(self, reason: str) -> None:
        if self._fd is not None:
            try:
                os.close(self._fd)
            except OSError:
                pass
            self._fd = None
            self._worker.set_status(DeviceStatus.OFFLINE, reason)
        self._set(False)                    # no socket: public audio, whatever was plugged
