"""The caller's weak-PIN policy runs inside the audited PIN function, before the card is written."""

from __future__ import annotations

from sc_helpers import wait_status

from drivers.api import DeviceStatus
from drivers.smartcard.api import CardInserted, CardOutcome, PinRefused
from drivers.smartcard.virtual.card import CardConfig


def _insert(virtual_service, pin: str):
    service, cards, events = virtual_service
    card = cards.insert_card(CardConfig(generation=2, pin=pin))
    events.wait_for(lambda e: isinstance(e, CardInserted))
    wait_status(service, DeviceStatus.ONLINE)
    assert service.read_card().wait(5).ok
    return service, card


def test_refused_new_pin_leaves_the_card_unchanged(virtual_service):
    service, _card = _insert(virtual_service, "505050")
    seen: list[tuple[bytes, bytes | None]] = []
    kept: list[bytearray] = []

    def check(new: bytearray, old: bytearray | None) -> None:
        seen.append((bytes(new), bytes(old) if old is not None else None))
        kept.append(new)
        raise PinRefused("all_same")

    done = service.change_pin(bytearray(b"505050"), bytearray(b"777777"), new_pin_check=check).wait(5)
    assert done.ok and done.result.outcome is CardOutcome.WEAK_PIN and done.result.refused_rule == "all_same"
    assert seen == [(b"777777", b"505050")]
    assert kept[0] == bytearray(6), "the check's copy of the digits was not zeroed"
    # The old PIN still works: nothing was written.
    assert service.verify_pin(bytearray(b"505050")).wait(5).result.outcome is CardOutcome.OK


def test_accepted_new_pin_is_written(virtual_service):
    service, _card = _insert(virtual_service, "505050")
    done = service.change_pin(bytearray(b"505050"), bytearray(b"830627"),
                              new_pin_check=lambda new, old: None).wait(5)
    assert done.ok and done.result.outcome is CardOutcome.OK
    assert service.verify_pin(bytearray(b"830627")).wait(5).result.outcome is CardOutcome.OK


def test_reload_checks_the_new_pin_without_an_old_one(virtual_service):
    service, _card = _insert(virtual_service, "505050")
    seen: list[bytes | None] = []

    def check(new: bytearray, old: bytearray | None) -> None:
        seen.append(old)
        raise PinRefused("sequence")

    done = service.reload_pin(bytearray(b"123456"[::-1]), new_pin_check=check).wait(10)
    assert done.ok and done.result.outcome is CardOutcome.WEAK_PIN
    assert seen == [None]
    assert service.verify_pin(bytearray(b"505050")).wait(5).result.outcome is CardOutcome.OK
