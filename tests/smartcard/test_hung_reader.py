"""A reader whose transmit never returns, through the real pcscd: the virtual card simply never
answers one APDU (vpcd then waits for ever, as a broken reader does in the field).

The command ends at its deadline, a command queued behind it ends at ITS deadline (counted from
queueing), the stuck worker and its context are abandoned (SCardCancel, a new context), the
reader is reported failed, a new command is served at once, and stop() returns in time."""

from __future__ import annotations

import threading
import time

import pytest
from sc_helpers import CITIZEN, Events, wait_reader_or_fail, wait_status

from drivers.api import CompletionCode, DeviceStatus
from drivers.smartcard.api import CardInserted, CardOutcome, ReaderGone, card_outcome
from drivers.smartcard.factory import make_card_service
from drivers.smartcard.virtual.card import CardConfig, VirtualSsCard
from drivers.smartcard.virtual.pcscd import PcscdStack

pytestmark = pytest.mark.pcsc

TIMEOUT_S = 1.5


def test_a_transmit_that_never_returns_is_abandoned_and_the_reader_reported_failed(pcsc_stack: PcscdStack):
    service, _ = make_card_service(backend="pcsc", command_timeout_s=TIMEOUT_S)
    events = Events()
    service.subscribe(events)
    gate = threading.Event()
    card = VirtualSsCard(CardConfig(generation=2))
    # READ RECORD never answered (until the test ends): the card service's transmit hangs.
    card.before_command = lambda apdu: (gate.wait(120), None)[1] if apdu[1] == 0xB2 else None
    service.start()
    try:
        wait_status(service, DeviceStatus.NO_MEDIA)
        pcsc_stack.citizen.insert(card)
        events.wait_for(lambda e: isinstance(e, CardInserted))
        queued_at = time.monotonic()
        stuck = service.read_card()
        behind = service.pin_tries_left()                   # queued behind the stuck command
        first = stuck.wait(TIMEOUT_S + 3)
        assert first.code is CompletionCode.TIMEOUT, first
        second = behind.wait(TIMEOUT_S + 3)
        assert second.code is CompletionCode.TIMEOUT, second
        assert time.monotonic() - queued_at < TIMEOUT_S + 1.0     # its deadline ran from queueing
        gone = events.wait_for(lambda e: isinstance(e, ReaderGone), timeout=5)
        assert gone.reader == CITIZEN and gone.reason == "failed"
        wait_status(service, DeviceStatus.HARDWARE_ERROR)
        assert "stopped answering" in service.status_detail
        # A new worker with a new context answers at once; the hung card is not touched again.
        info = service.reader_info().wait(5)
        assert info.ok and info.result.citizen_reader == CITIZEN and info.result.card_present
        again = service.read_card().wait(5)
        assert card_outcome(again) is CardOutcome.CARD_MUTE
        started = time.monotonic()
        service.stop(timeout_s=2.0)                         # the old transmit is still stuck
        assert time.monotonic() - started < 2.5
    finally:
        gate.set()
        service.stop()
        pcsc_stack.citizen.remove()
        wait_reader_or_fail(CITIZEN, present=False)


def test_after_a_hung_reader_the_next_card_is_served_again(pcsc_stack: PcscdStack):
    service, _ = make_card_service(backend="pcsc", command_timeout_s=TIMEOUT_S)
    events = Events()
    service.subscribe(events)
    gate = threading.Event()
    card = VirtualSsCard(CardConfig(generation=2))
    card.before_command = lambda apdu: (gate.wait(120), None)[1] if apdu[1] == 0xB2 else None
    service.start()
    try:
        wait_status(service, DeviceStatus.NO_MEDIA)
        pcsc_stack.citizen.insert(card)
        events.wait_for(lambda e: isinstance(e, CardInserted))
        assert service.read_card().wait(TIMEOUT_S + 3).code is CompletionCode.TIMEOUT
        wait_status(service, DeviceStatus.HARDWARE_ERROR)
        gate.set()                                          # the reader gives up; the card is taken out
        pcsc_stack.citizen.remove()
        wait_status(service, DeviceStatus.NO_MEDIA, timeout=5)
        mark = len(events.items)
        pcsc_stack.citizen.insert(VirtualSsCard(CardConfig(generation=2)))
        events.wait_for(lambda e: isinstance(e, CardInserted), start=mark)
        done = service.read_card().wait(5)
        assert done.ok, done
    finally:
        gate.set()
        service.stop()
        pcsc_stack.citizen.remove()
        wait_reader_or_fail(CITIZEN, present=False)
