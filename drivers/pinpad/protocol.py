"""The seam between the driver and a vendor's command set.

The driver (threads, status, reconnect, KCV checks, events) talks to a :class:`PadProtocol`;
each EPP family (KMY/PBOC-style today, ZT598 or XZF35 later) is one module implementing it over
a :class:`Link`. A second vendor is a second module, never an ``if`` in the driver.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from drivers.crypto.pinblock import PinBlockFormat
from drivers.pinpad.api import KeyKind


class PortGone(Exception):
    """The serial port vanished (USB pulled, pty closed). Carries no data, only the OS reason."""


class Link(Protocol):
    """A byte pipe to the pad. ``read`` waits at most a short poll interval and returns b"" when
    nothing came; both methods raise :class:`PortGone` when the port has vanished."""

    def read(self) -> bytes: ...
    def write(self, data: bytes) -> None: ...
    def discard_input(self) -> None: ...
    def close(self) -> None: ...


@dataclass(frozen=True)
class PadKey:
    """A key press decoded from the wire: digits only in plain mode (``value``)."""

    kind: KeyKind
    value: str = ""

    def __repr__(self) -> str:
        return f"PadKey({self.kind.value})"


Check = Callable[[], None]     # raises to abort a wait (cancel, deadline)


class PadProtocol(Protocol):
    name: str

    def version(self) -> str: ...
    def serial_number(self) -> str: ...
    def reset(self, erase_keys: bool = False) -> None: ...
    def configure(self, algorithm: str, fmt: PinBlockFormat) -> None: ...
    def load_master_key(self, algorithm: str, index: int, key: bytes) -> bytes: ...
    def load_work_key(self, algorithm: str, master_index: int, work_index: int, wrapped: bytes) -> bytes: ...
    def activate_work_key(self, algorithm: str, master_index: int, work_index: int) -> None: ...
    def set_card_number(self, digits: str) -> None: ...
    def begin_pin_entry(self, min_len: int, max_len: int, auto_end: bool, timeout_s: int) -> None: ...
    def read_pin_block(self, algorithm: str) -> bytes: ...
    def open_keypad(self) -> None: ...
    def close_keypad(self) -> None: ...
    def next_key(self, check: Check) -> PadKey | None: ...
    def drain(self) -> int: ...
