"""Build the headphone socket from ``[ui] headphone_jack`` / ``headphone_jack_device``."""

from __future__ import annotations

from dataclasses import dataclass

from drivers.headphone.evdev import EvdevHeadphoneJack, find_jack_device
from drivers.headphone.simulator import HeadphoneJackSimulator


@dataclass
class HeadphoneSetup:
    service: EvdevHeadphoneJack | None          # None: this kiosk has no headphone socket
    simulator: HeadphoneJackSimulator | None = None
    detail: str = ""

    def close(self) -> None:
        if self.service is not None:
            self.service.stop()
        if self.simulator is not None:
            self.simulator.stop()


def create_headphone_jack(backend: str = "evdev", device: str = "auto", *, start: bool = True) -> HeadphoneSetup:
    """backend "evdev": the sound card's jack (``device`` a /dev/input/eventN path, or "auto" to find
    the input device with the headphone switch); "simulator": a pty speaking the same records;
    "none": no socket (private audio mode never turns on)."""
    if backend not in ("evdev", "simulator", "none"):
        raise ValueError(f"unknown headphone jack backend {backend!r}; expected 'evdev', 'simulator' or 'none'")
    if backend == "none":
        return HeadphoneSetup(None, detail="no headphone socket configured")
    simulator = None
    if backend == "simulator":
        simulator = HeadphoneJackSimulator()
        path: str | None = simulator.start()
    else:
        path = find_jack_device() if device == "auto" else device
        if path is None:
            return HeadphoneSetup(None, detail="no input device with a headphone switch (SW_HEADPHONE_INSERT)")
    assert path is not None
    service = EvdevHeadphoneJack(path)
    if start:
        service.start()
    return HeadphoneSetup(service, simulator, detail=path)
