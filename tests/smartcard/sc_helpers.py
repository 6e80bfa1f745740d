"""Helpers for the smart-card tests (the pcscd stack itself is drivers.smartcard.virtual.pcscd)."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from drivers.api import DeviceEvent, DeviceStatus
from drivers.smartcard.service import SmartcardService
from drivers.smartcard.virtual.pcscd import CITIZEN, PSAM, PcscdStack, StackError, wait_reader

__all__ = ["CITIZEN", "PSAM", "Events", "PcscdStack", "swap_psam", "wait_reader_or_fail", "wait_status"]


class Events:
    """Collects a service's events; ``wait_for`` blocks until one matches."""

    def __init__(self) -> None:
        self.items: list[DeviceEvent] = []

    def __call__(self, event: DeviceEvent) -> None:
        self.items.append(event)

    def wait_for(self, predicate: Callable[[DeviceEvent], bool], timeout: float = 5.0,
                 start: int = 0) -> DeviceEvent:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for event in self.items[start:]:
                if predicate(event):
                    return event
            time.sleep(0.01)
        raise AssertionError(f"no matching event in {timeout}s; got {self.items[start:]}")


def wait_status(service: SmartcardService, wanted: DeviceStatus, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if service.status == wanted:
            return
        time.sleep(0.01)
    raise AssertionError(f"status stayed {service.status} ({service.status_detail}), wanted {wanted}")


def swap_psam(stack: PcscdStack, psam: object, timeout: float = 5.0) -> None:
    """Take the PSAM out, wait until pcscd has seen it gone, put ``psam`` in, wait until seen."""
    stack.psam.remove()
    wait_reader_or_fail(PSAM, present=False, timeout=timeout)
    stack.psam.insert(psam)  # type: ignore[arg-type]
    wait_reader_or_fail(PSAM, present=True, timeout=timeout)


def wait_reader_or_fail(reader: str, present: bool, timeout: float = 5.0) -> None:
    try:
        wait_reader(reader, present, timeout)
    except StackError as exc:
        pytest.fail(str(exc))
