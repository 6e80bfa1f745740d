"""Through the real pcscd: readers, roles, insert/remove events, reading both card generations."""

from __future__ import annotations

import pytest
from sc_helpers import CITIZEN, PSAM, wait_status

from drivers.api import CompletionCode, DeviceStatus
from drivers.smartcard.api import CardInserted, CardOutcome, CardRemoved, card_outcome
from drivers.smartcard.virtual.card import CardConfig, VirtualSsCard, sample_holder

pytestmark = pytest.mark.pcsc


def test_readers_are_listed_and_given_their_roles(pcsc_service):
    service, _events = pcsc_service
    info = service.reader_info().wait(10)
    assert info.ok, info
    assert info.result.citizen_reader == CITIZEN
    assert info.result.psam_reader == PSAM
    assert set(info.result.all_readers) == {CITIZEN, PSAM}
    assert info.result.card_present is False


def test_insert_and_remove_publish_events_and_status(pcsc_stack, pcsc_service):
    service, events = pcsc_service
    pcsc_stack.citizen.insert(VirtualSsCard(CardConfig(generation=2)))
    inserted = events.wait_for(lambda e: isinstance(e, CardInserted))
    assert inserted.reader == CITIZEN and inserted.atr
    wait_status(service, DeviceStatus.ONLINE)
    mark = len(events.items)
    pcsc_stack.citizen.remove()
    removed = events.wait_for(lambda e: isinstance(e, CardRemoved), start=mark)
    assert removed.reader == CITIZEN
    wait_status(service, DeviceStatus.NO_MEDIA)


def test_second_generation_card_reads_without_the_psam_step(pcsc_stack, pcsc_service):
    service, events = pcsc_service
    card = VirtualSsCard(CardConfig(generation=2))
    pcsc_stack.citizen.insert(card)
    events.wait_for(lambda e: isinstance(e, CardInserted))
    done = service.read_card().wait(10)
    assert done.ok, done
    info = done.result
    assert info.issuer.spec_version == "2.00"
    assert info.issuer.card_number == "A12345678"
    assert info.holder.name == sample_holder().name
    assert info.holder.ssn == "44010619900307123X"
    assert info.algorithm == "des"
    # SELECT SSSE, SELECT EF05, its 7 records one by one, SELECT EF06, its 6 records + 4E (6A83)
    assert card.apdu_count == 17


def test_third_generation_card_needs_and_gets_the_external_authentication(pcsc_stack, pcsc_service):
    service, events = pcsc_service
    card = VirtualSsCard(CardConfig(generation=3, t0_get_response=True))
    pcsc_stack.citizen.insert(card)
    events.wait_for(lambda e: isinstance(e, CardInserted))
    done = service.read_card().wait(10)
    assert done.ok, done
    assert done.result.generation == "3"
    assert done.result.holder.birth_date.isoformat() == "1990-03-07"


def test_no_card_is_a_typed_outcome(pcsc_service):
    service, _events = pcsc_service
    done = service.read_card().wait(10)
    assert done.code is CompletionCode.NO_MEDIA
    assert card_outcome(done) is CardOutcome.NO_CARD
