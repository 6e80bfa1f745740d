"""The serial port under a serial device (the PIN pad, the ID-card reader): pyserial, opened
exclusively, read without waiting out timeouts.

Reads take ``ser.in_waiting or 1`` bytes with a short poll timeout: a fixed ``read(256)`` would add
the whole timeout to every exchange. Any OS error on the port means it vanished (USB pulled):
:class:`PortGone` is raised and the driver goes OFFLINE and reconnects.
"""

from __future__ import annotations

import serial


class PortGone(Exception):
    """The serial port vanished (USB pulled, pty closed). Carries no data, only the OS reason."""


class SerialLink:
    def __init__(self, port: str, baudrate: int = 9600, poll_s: float = 0.02) -> None:
        self.port = port
        try:
            self._ser = serial.Serial(port, baudrate=baudrate, bytesize=serial.EIGHTBITS,
                                      parity=serial.PARITY_NONE, stopbits=serial.STOPBITS_ONE,
                                      timeout=poll_s, write_timeout=2.0, exclusive=True)
        except (serial.SerialException, OSError, ValueError) as exc:
            raise PortGone(f"cannot open {port}: {_reason(exc)}") from None

    def read(self) -> bytes:
        try:
            return self._ser.read(self._ser.in_waiting or 1)
        except (serial.SerialException, OSError, TypeError) as exc:
            # TypeError: pyserial after a concurrent close (fd None); same meaning.
            raise PortGone(f"{self.port}: {_reason(exc)}") from None

    def write(self, data: bytes) -> None:
        try:
            self._ser.write(data)     # posix write() loops until all is written; no tcdrain wait
        except (serial.SerialException, OSError, TypeError) as exc:
            raise PortGone(f"{self.port}: {_reason(exc)}") from None

    def discard_input(self) -> None:
        try:
            self._ser.reset_input_buffer()
        except (serial.SerialException, OSError, TypeError) as exc:
            raise PortGone(f"{self.port}: {_reason(exc)}") from None

    def close(self) -> None:
        try:
            self._ser.close()
        except (serial.SerialException, OSError):
            pass


def _reason(exc: BaseException) -> str:
    # OS reason only (e.g. "[Errno 5] Input/output error"); never data.
    return f"{type(exc).__name__}: {exc}"[:160]
