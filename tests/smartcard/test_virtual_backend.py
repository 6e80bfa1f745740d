"""The demo profile's in-process backend: same service, no pcscd; operator-panel insert/remove."""

from __future__ import annotations

from sc_helpers import Events, wait_status

from drivers.api import CompletionCode, DeviceStatus
from drivers.smartcard.api import (
    CardInserted,
    CardOutcome,
    CardRemoved,
    CardService,
    PinBlockInput,
    ReaderBack,
    ReaderGone,
    WrappedWorkingKey,
    card_outcome,
)
from drivers.smartcard.factory import make_card_service
from drivers.smartcard.service import SmartcardService
from drivers.smartcard.virtual.card import CardConfig
from drivers.smartcard.virtual.inproc import InProcessReaders


def test_the_factory_builds_a_card_service_for_both_backends():
    pcsc, none = make_card_service(backend="pcsc")
    assert none is None and isinstance(pcsc, CardService)
    virtual, cards = make_card_service(backend="virtual")
    assert cards is not None and isinstance(virtual, CardService)


def test_demo_cards_go_in_and_out_and_read(virtual_service):
    service, cards, events = virtual_service
    card = cards.insert_card(CardConfig(generation=3, pin="505050"))
    events.wait_for(lambda e: isinstance(e, CardInserted))
    wait_status(service, DeviceStatus.ONLINE)
    done = service.read_card().wait(5)
    assert done.ok and done.result.holder.sex == "1"
    assert service.verify_pin(bytearray(b"505050")).wait(5).result.ok
    assert card.apdu_count > 5
    cards.remove_card()
    events.wait_for(lambda e: isinstance(e, CardRemoved))
    wait_status(service, DeviceStatus.NO_MEDIA)
    assert card_outcome(service.read_card().wait(5)) is CardOutcome.NO_CARD


def test_secure_pin_entry_is_not_offered_and_none_pin_is_refused(virtual_service):
    service, cards, events = virtual_service
    cards.insert_card(CardConfig(generation=2))
    events.wait_for(lambda e: isinstance(e, CardInserted))
    info = service.reader_info().wait(5)
    assert info.ok and info.result.secure_pin_entry is False
    done = service.verify_pin(None).wait(5)
    assert done.code is CompletionCode.UNSUPPORTED
    assert card_outcome(done) is CardOutcome.NOT_SUPPORTED


def test_a_removed_card_mid_flow_is_card_removed_not_a_hang(virtual_service):
    service, cards, events = virtual_service
    card = cards.insert_card(CardConfig(generation=2))
    events.wait_for(lambda e: isinstance(e, CardInserted))

    def pull(apdu: bytes) -> bytes | None:
        if apdu[1] == 0xB2:
            cards.remove_card()
            return b""             # what pcscd hands back when the card vanishes mid-exchange
        return None

    card.before_command = pull
    done = service.read_card().wait(5)
    assert card_outcome(done) is CardOutcome.CARD_REMOVED


def test_the_working_key_and_repr_never_show_secrets(virtual_service):
    service, cards, _events = virtual_service
    cards.insert_card(CardConfig(generation=2))
    done = service.new_pin_working_key().wait(5)
    assert done.ok and isinstance(done.result, WrappedWorkingKey)
    assert done.result.wrapped.hex() not in repr(done.result)
    block = PinBlockInput(bytes(range(16)))
    assert bytes(range(16)).hex() not in repr(block)


def test_roles_follow_the_patterns_and_unplugged_readers_come_back():
    readers = InProcessReaders(("ACS ACR39U ICC Reader 00 00", "Generic PSAM Slot 01 00", "Other 02 00"))
    service = SmartcardService(readers, citizen_reader_pattern=r"^ACS ACR39U", psam_reader_pattern=r"PSAM")
    events = Events()
    service.subscribe(events)
    service.start()
    try:
        wait_status(service, DeviceStatus.NO_MEDIA)
        info = service.reader_info().wait(5).result
        assert info.citizen_reader == "ACS ACR39U ICC Reader 00 00"
        assert info.psam_reader == "Generic PSAM Slot 01 00"
        readers.unplug("ACS ACR39U ICC Reader 00 00")
        gone = events.wait_for(lambda e: isinstance(e, ReaderGone))
        assert gone.reason == "unplugged"
        wait_status(service, DeviceStatus.OFFLINE)
        assert card_outcome(service.read_card().wait(5)) is CardOutcome.READER_GONE
        readers.plug("ACS ACR39U ICC Reader 00 00")
        events.wait_for(lambda e: isinstance(e, ReaderBack))
        wait_status(service, DeviceStatus.NO_MEDIA)
    finally:
        service.stop()


def test_pin_digits_are_zeroed_on_every_path(virtual_service):
    service, cards, events = virtual_service
    no_card = bytearray(b"246810")
    done = service.verify_pin(no_card).wait(5)
    assert card_outcome(done) is CardOutcome.NO_CARD and no_card == bytearray(6)
    cards.insert_card(CardConfig(generation=2, pin="246810"))
    events.wait_for(lambda e: isinstance(e, CardInserted))
    old, new = bytearray(b"246810"), bytearray(b"12x456")
    done = service.change_pin(old, new).wait(5)
    assert card_outcome(done) is CardOutcome.INVALID_PIN_FORMAT
    assert old == bytearray(6) and new == bytearray(6)
    assert "246810" not in done.detail and "12x456" not in done.detail
    service.stop()
    late = bytearray(b"246810")
    done = service.verify_pin(late).wait(5)
    assert done.code is CompletionCode.CANCELED and late == bytearray(6)
