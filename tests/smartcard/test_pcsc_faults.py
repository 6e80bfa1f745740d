"""Faults through the real pcscd: the card pulled in the middle of an APDU, pcscd killed and restarted."""

from __future__ import annotations

import time

import pytest
from sc_helpers import CITIZEN, PSAM, swap_psam, wait_reader_or_fail, wait_status

from drivers.api import DeviceStatus
from drivers.smartcard.api import CardInserted, CardOutcome, CardRemoved, ReaderBack, ReaderGone, card_outcome
from drivers.smartcard.virtual.card import CardConfig, VirtualSsCard
from drivers.smartcard.virtual.pcscd import PcscdStack, StackError
from drivers.smartcard.virtual.psam import VirtualPsam

pytestmark = pytest.mark.pcsc


def test_a_card_pulled_during_read_record_ends_as_card_removed(pcsc_stack, pcsc_service):
    service, events = pcsc_service
    pcsc_stack.citizen.insert(VirtualSsCard(CardConfig(generation=2)))
    events.wait_for(lambda e: isinstance(e, CardInserted))
    pcsc_stack.citizen.pull_on = lambda apdu: apdu[1] == 0xB2 and apdu[2] == 0x09   # the name
    started = time.monotonic()
    done = service.read_card().wait(10)
    assert card_outcome(done) is CardOutcome.CARD_REMOVED, done
    assert time.monotonic() - started < 5
    events.wait_for(lambda e: isinstance(e, CardRemoved))
    wait_status(service, DeviceStatus.NO_MEDIA)
    again = VirtualSsCard(CardConfig(generation=2))
    mark = len(events.items)
    pcsc_stack.citizen.insert(again)
    events.wait_for(lambda e: isinstance(e, CardInserted), start=mark)
    assert service.read_card().wait(10).ok


def test_a_card_pulled_during_verify_spends_no_digit_and_reports_removed(pcsc_stack, pcsc_service):
    service, events = pcsc_service
    card = VirtualSsCard(CardConfig(generation=2, pin="192837"))
    pcsc_stack.citizen.insert(card)
    events.wait_for(lambda e: isinstance(e, CardInserted))
    pcsc_stack.citizen.pull_on = lambda apdu: apdu[1] == 0x20 and len(apdu) > 5
    digits = bytearray(b"192837")
    done = service.verify_pin(digits).wait(10)
    assert card_outcome(done) is CardOutcome.CARD_REMOVED
    assert digits == bytearray(6)
    assert card.tries_left == 3


def test_the_watcher_survives_a_pcscd_kill_and_restart(pcsc_stack, pcsc_service):
    service, events = pcsc_service
    pcsc_stack.citizen.insert(VirtualSsCard(CardConfig(generation=3)))
    events.wait_for(lambda e: isinstance(e, CardInserted))
    wait_status(service, DeviceStatus.ONLINE)
    mark = len(events.items)
    pcsc_stack.kill()
    gone = events.wait_for(lambda e: isinstance(e, ReaderGone), start=mark)
    assert gone.reader == CITIZEN and gone.reason == "serviceDown"
    wait_status(service, DeviceStatus.SERVICE_DOWN)
    down = service.read_card().wait(10)
    assert card_outcome(down) is CardOutcome.SERVICE_DOWN
    pcsc_stack.start()
    events.wait_for(lambda e: isinstance(e, ReaderBack) and e.reader == CITIZEN, start=mark, timeout=10)
    events.wait_for(lambda e: isinstance(e, CardInserted), start=mark, timeout=10)
    wait_status(service, DeviceStatus.ONLINE, timeout=10)
    wait_reader_or_fail(PSAM, present=True, timeout=5)      # the PSAM's vpcd slot reconnects on its own
    done = service.read_card().wait(10)
    assert done.ok, done
    assert done.result.holder.ssn.endswith("123X")


def test_a_psam_pulled_during_a_reset_is_psam_missing_and_the_card_keeps_its_pin(pcsc_stack, pcsc_service):
    service, events = pcsc_service
    card = VirtualSsCard(CardConfig(generation=3, pin="246810"))
    pcsc_stack.citizen.insert(card)
    events.wait_for(lambda e: isinstance(e, CardInserted))
    pcsc_stack.psam.pull_on = lambda apdu: apdu[:2] == b"\x80\xFA" and apdu[2] == 0x05   # the MAC
    try:
        done = service.reload_pin(bytearray(b"975310")).wait(10)
        assert card_outcome(done) is CardOutcome.PSAM_MISSING, done
        assert card.pin == "246810"
    finally:
        swap_psam(pcsc_stack, VirtualPsam())
    assert service.reload_pin(bytearray(b"975310")).wait(10).result.ok
    assert card.pin == "975310"


def test_a_second_pcscd_stack_is_refused_with_what_to_do(pcsc_stack, tmp_path):
    other = PcscdStack(tmp_path)
    with pytest.raises(StackError, match=r"another pcscd .* stop it first"):
        other.start()
