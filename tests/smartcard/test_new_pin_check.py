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


def test_check_only_call_answers_weak_or_ok_and_writes_nothing(virtual_service):
    """check_new_pin runs the same rules as the change command, on the card's own PAN and the
    PSAM's decrypt, but sends no PIN command: the card's PIN and try counter stay as they were."""
    service, card = _insert(virtual_service, "505050")
    kept: list[bytearray] = []

    def check(new: bytearray, old: bytearray | None) -> None:
        kept.append(new)
        if new == bytearray(b"777777"):
            raise PinRefused("all_same")

    pins = [bytearray(b"505050"), bytearray(b"777777")]
    weak = service.check_new_pin(pins[1], pins[0], new_pin_check=check).wait(5)
    assert weak.ok and weak.result.outcome is CardOutcome.WEAK_PIN and weak.result.refused_rule == "all_same"
    assert "777777" not in repr(weak.result) and "505050" not in repr(weak.result)
    assert all(p == bytearray(6) for p in pins + kept), "a PIN copy was not zeroed"
    ok = service.check_new_pin(bytearray(b"830627"), new_pin_check=check).wait(5)
    assert ok.ok and ok.result.outcome is CardOutcome.OK
    initial = service.check_new_pin(bytearray(b"123456")).wait(5)
    assert initial.ok and initial.result.outcome is CardOutcome.CANNOT_REVERT_TO_INITIAL
    assert card.pin == "505050" and card.tries_left == 3
