"""The headphone socket as a device: it tells whether headphones are plugged in.

A kiosk's sound card reports its jack through Linux's input layer (the ALSA driver registers an
input device such as "HDA Intel PCH Headphone" with the switch ``SW_HEADPHONE_INSERT``);
:mod:`drivers.headphone.evdev` reads it, :mod:`drivers.headphone.simulator` speaks the same
records over a pseudo-terminal for the demo and the tests.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from drivers.api import DeviceEvent, DeviceStatus, EventListener

DEVICE_NAME = "headphones"


@dataclass(frozen=True)
class HeadphonesChanged(DeviceEvent):
    """Headphones were plugged in (``plugged``) or pulled out. A socket that goes away (device
    lost, driver stopped) reports ``plugged=False``: the kiosk falls back to public audio."""

    plugged: bool


@runtime_checkable
class HeadphoneJack(Protocol):
    name: str

    @property
    def status(self) -> DeviceStatus: ...

    @property
    def plugged(self) -> bool: ...

    def start(self) -> None: ...
    def stop(self) -> None: ...
    def subscribe(self, listener: EventListener) -> Callable[[], None]: ...
