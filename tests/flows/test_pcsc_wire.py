"""One flow over the real PC/SC wire: pyscard -> pcscd -> vpcd -> the virtual card and PSAM.

The pcscd stack is the smart-card area's (drivers.smartcard.virtual.pcscd.PcscdStack, helpers from
tests/smartcard/sc_helpers.py). It is the session's one pcscd (tests/pcscfixture.py), shared with
tests/smartcard, so the order the areas run in does not matter.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flowhelpers import GOOD_PIN, Kiosk, build, new_id_number, wait_until

from drivers.api import DeviceStatus
from drivers.smartcard.api import CardOutcome
from drivers.smartcard.factory import make_card_service
from drivers.smartcard.virtual.card import CardConfig, VirtualSsCard, sample_holder
from drivers.smartcard.virtual.faulty import faulty_card
from drivers.smartcard.virtual.pcscd import PcscdStack
from kiosk.flows.deps import FlowDeps
from kiosk.messages import card as card_messages
from kiosk.messages import reconcile as R

pytestmark = pytest.mark.pcsc


@pytest.fixture(scope="module")
def kiosk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kiosk]:
    services = build(tmp_path_factory.mktemp("flows-pcsc"))
    try:
        yield Kiosk(services, tmp_path_factory.getbasetemp())
    finally:
        services.close()


def test_pin_change_over_pcscd(kiosk: Kiosk, pcsc_stack: PcscdStack) -> None:
    stack = pcsc_stack
    card_service, _ = make_card_service(backend="pcsc", pin_algorithm="sm4", command_timeout_s=8.0)
    card_service.start()
    try:
        wait_until(lambda: card_service.status is DeviceStatus.NO_MEDIA, 5, "the PC/SC readers to be seen")
        # The pad gets a working key from THIS PSAM, as the composition root does at start-up.
        key = card_service.new_pin_working_key().wait(15)
        assert key.ok and key.result is not None, key
        loaded = kiosk.services.pinpad.load_work_key("pin", key.result.wrapped, key.result.kcv).wait(15)
        assert loaded.ok, loaded
        id_number = new_id_number()
        kiosk.seed(id_number=id_number, name="欧阳明", phone=None)
        card = VirtualSsCard(CardConfig(pin=GOOD_PIN, holder=sample_holder(name="欧阳明", ssn=id_number)))
        stack.citizen.insert(card)
        wait_until(lambda: card_service.status is DeviceStatus.ONLINE, 5, "pcscd to report the card")
        base = kiosk.deps
        deps = FlowDeps(base.config, card=card_service, pinpad=base.pinpad, camera=base.camera, face=base.face,
                        client=base.client, store=base.store)
        p = kiosk.presenter(entries=[("pin", GOOD_PIN), ("pin", "704918"), ("pin", "704918")])
        outcome = kiosk.run("pin_change", p, deps=deps)
        assert outcome is not None and outcome.ok, p.errors
        assert card.pin == "704918"
        assert [r["type"] for r in kiosk.records_of(outcome)] == ["pin_change"]
    finally:
        stack.citizen.remove()
        # Leave the shared pcscd as we found it: pcscd polls vpcd about every 400 ms, and a
        # card put in by the next test before it saw this removal would go unnoticed.
        wait_until(lambda: card_service.status is DeviceStatus.NO_MEDIA, 5, "pcscd to see the card removed")
        card_service.stop()


# -- faulty cards: what the citizen sees when a card gives an answer a real card never gives ------
@pytest.fixture(scope="module")
def pcsc_deps(kiosk: Kiosk, pcsc_stack: PcscdStack) -> Iterator[tuple[FlowDeps, Any]]:
    card_service, _ = make_card_service(backend="pcsc", pin_algorithm="sm4", command_timeout_s=8.0)
    card_service.start()
    try:
        wait_until(lambda: card_service.status is DeviceStatus.NO_MEDIA, 5, "the PC/SC readers to be seen")
        key = card_service.new_pin_working_key().wait(15)
        assert key.ok and key.result is not None, key
        assert kiosk.services.pinpad.load_work_key("pin", key.result.wrapped, key.result.kcv).wait(15).ok
        base = kiosk.deps
        yield FlowDeps(base.config, card=card_service, pinpad=base.pinpad, camera=base.camera, face=base.face,
                       client=base.client, store=base.store), card_service
    finally:
        card_service.stop()


# fault -> (card generation, service, PINs typed on the pad)
FAULTY = {
    "short_challenge": (3, "card_status", []),
    "select_without_fci": (2, "card_status", []),
    "empty_record": (2, "card_status", []),
    "tries_above_max": (2, "card_status", []),
    "data_on_verify": (2, "card_status", [GOOD_PIN]),
    "data_on_change": (2, "pin_change", [GOOD_PIN, "704918", "704918"]),
}


@pytest.mark.parametrize("fault", list(FAULTY))
def test_a_malformed_card_answer_never_tells_the_citizen_done(kiosk: Kiosk, pcsc_stack: PcscdStack, pcsc_deps,
                                                              fault: str) -> None:
    deps, card_service = pcsc_deps
    generation, service, pins = FAULTY[fault]
    id_number = new_id_number()
    kiosk.seed(id_number=id_number, name="欧阳明", phone=None)
    card = faulty_card(fault, CardConfig(generation=generation, pin=GOOD_PIN,
                                         holder=sample_holder(name="欧阳明", ssn=id_number)))
    pcsc_stack.citizen.insert(card)
    try:
        wait_until(lambda: card_service.status is DeviceStatus.ONLINE, 5, "pcscd to report the card")
        p = kiosk.presenter(entries=[("pin", pin) for pin in pins])
        outcome = kiosk.run(service, p, deps=deps)
        assert outcome is not None and not outcome.ok
        assert outcome.code == "card_unknownStatus"
        assert p.result is None                                   # no result screen, "done" or otherwise
        [error] = p.errors
        assert error.key == card_messages.OUTCOME[CardOutcome.UNKNOWN_STATUS]
        assert card_messages.OUTCOME[CardOutcome.OK] not in str(p.shown)
        [record] = kiosk.records_of(outcome)
        assert record["type"] == "attempt_failed" and record["payload"]["reason"] == "card_unknownStatus"
        assert card.pin == GOOD_PIN and card.tries_left == 3
    finally:
        pcsc_stack.citizen.remove()
        wait_until(lambda: card_service.status is DeviceStatus.NO_MEDIA, 5, "pcscd to see the card removed")


# -- a PIN change whose answer was lost: outcome unknown, then reconciled on reinsertion ---------
@pytest.mark.parametrize("acted", [True, False], ids=["card-acted", "card-did-not-act"])
def test_a_lost_change_answer_is_reconciled_when_the_card_comes_back(kiosk: Kiosk, pcsc_stack: PcscdStack, pcsc_deps,
                                                                     acted: bool) -> None:
    deps, card_service = pcsc_deps
    id_number = new_id_number()
    kiosk.seed(id_number=id_number, name="欧阳明", phone=None)
    card = VirtualSsCard(CardConfig(generation=2, pin=GOOD_PIN, holder=sample_holder(name="欧阳明", ssn=id_number)))
    is_change = lambda apdu: apdu[:2] == b"\x80\x5E"            # noqa: E731
    if acted:
        pcsc_stack.citizen.pull_after = is_change                # the card changes its PIN, the answer is lost
    else:
        pcsc_stack.citizen.pull_on = is_change                   # pulled before the card saw the command
    pcsc_stack.citizen.insert(card)
    try:
        wait_until(lambda: card_service.status is DeviceStatus.ONLINE, 5, "pcscd to report the card")
        p = kiosk.presenter(entries=[("pin", GOOD_PIN), ("pin", "704918"), ("pin", "704918")])
        first = kiosk.run("pin_change", p, deps=deps)
        assert first is None or not first.ok                     # the visit ended with the card
        assert (card.pin == "704918") is acted
        unknown = [r for r in kiosk.records() if r["type"] == "outcome_unknown"
                   and r["payload"].get("id_number") == id_number]
        assert [r["payload"]["operation"] for r in unknown] == ["pin_change"]
        assert unknown[0]["payload"]["reason"] == "card_cardRemoved"
        assert p.result is None                                  # never "done" for a write it could not see end
        wait_until(lambda: card_service.status is DeviceStatus.NO_MEDIA, 5, "pcscd to see the card removed")

        # The person comes back with the same card: the kiosk settles it before anything else.
        pcsc_stack.citizen.insert(card)
        wait_until(lambda: card_service.status is DeviceStatus.ONLINE, 5, "pcscd to report the card again")
        pin_now = "704918" if acted else GOOD_PIN
        p2 = kiosk.presenter(entries=[("pin", pin_now)], answers={"write_reconciled": "continue"})
        outcome = kiosk.run("card_status", p2, deps=deps)
        assert outcome is not None and outcome.ok, p2.errors
        [told] = p2.of_kind("ask")
        assert told.key == "write_reconciled" and told.text == (R.APPLIED if acted else R.NOT_APPLIED)
        types = [r["type"] for r in kiosk.records_of(outcome)]
        assert types == (["outcome_reconciled", "pin_change", "card_status"] if acted
                         else ["outcome_reconciled", "card_status"])
        [settled] = [r for r in kiosk.records_of(outcome) if r["type"] == "outcome_reconciled"]
        assert settled["payload"]["applied"] is acted
        assert settled["payload"]["unknown_record"] == unknown[0]["id"]
        assert settled["payload"]["by"] == ("verify_new_pin" if acted else "verify_old_pin")
        assert card.tries_left == 3                              # the check gave back any try it spent
    finally:
        pcsc_stack.citizen.pull_on = pcsc_stack.citizen.pull_after = None
        pcsc_stack.citizen.remove()
        wait_until(lambda: card_service.status is DeviceStatus.NO_MEDIA, 5, "pcscd to see the card removed")
