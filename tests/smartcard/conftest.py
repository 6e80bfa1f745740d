"""Fixtures for the smart-card tests: a REAL pcscd (foreground, own reader config) with vpcd readers.

pyscard -> pcscd -> libifdvpcd -> TCP -> VpcdSlot -> virtual card / PSAM (test keys only).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sc_helpers import PSAM, Events, wait_reader_or_fail, wait_status

from drivers.api import DeviceStatus
from drivers.smartcard.factory import VirtualCards, make_card_service
from drivers.smartcard.service import SmartcardService
from drivers.smartcard.virtual.pcscd import PcscdStack
from drivers.smartcard.virtual.psam import VirtualPsam


@pytest.fixture
def pcsc_service(pcsc_stack: PcscdStack) -> Iterator[tuple[SmartcardService, Events]]:
    if not pcsc_stack.psam.inserted:
        pcsc_stack.psam.insert(VirtualPsam())
        wait_reader_or_fail(PSAM, present=True, timeout=5)
    service, _ = make_card_service(backend="pcsc", citizen_reader_pattern=r"00 00$",
                                   psam_reader_pattern=r"00 01$", apdu_trace=True, command_timeout_s=8.0)
    events = Events()
    service.subscribe(events)
    service.start()
    try:
        # pcscd may still show the previous test's card for one polling period (~400 ms).
        wait_status(service, DeviceStatus.NO_MEDIA if not pcsc_stack.citizen.inserted else DeviceStatus.ONLINE)
        events.items.clear()
        yield service, events
    finally:
        service.stop()
        pcsc_stack.citizen.remove()


@pytest.fixture
def virtual_service() -> Iterator[tuple[SmartcardService, VirtualCards, Events]]:
    service, cards = make_card_service(backend="virtual", apdu_trace=True, command_timeout_s=5.0)
    events = Events()
    service.subscribe(events)
    service.start()
    try:
        wait_status(service, DeviceStatus.NO_MEDIA)
        yield service, cards, events
    finally:
        service.stop()

