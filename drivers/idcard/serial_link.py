"""The serial port under the ID-card reader: pyserial, opened exclusively, short polls.

Same approach as drivers/pinpad/serial_link.py (``in_waiting or 1`` reads, so an exchange never
waits out a fixed read size); any OS error means the port vanished -> :class:`sam.PortGone`.
"""

from __future__ import annotations

import serial

from drivers.idcard.sam import PortGone


class SerialLink:
    def __init__(self, port: str, baudrate: int = 115200, poll_s: float = 0.01) -> None:
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
            raise PortGone(f"{self.port}: {_reason(exc)}") from None

    def write(self, data: bytes) -> None:
        try:
            self._ser.write(data)
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
    return f"{type(exc).__name__}: {exc}"[:160]
