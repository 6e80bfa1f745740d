"""One flow over the real PC/SC wire: pyscard -> pcscd -> vpcd -> the virtual card and PSAM.

The pcscd stack is the smart-card area's (drivers.smartcard.virtual.pcscd.PcscdStack, helpers from
tests/smartcard/sc_helpers.py). It is the session's one pcscd (tests/pcscfixture.py), shared with
tests/smartcard, so the order the areas run in does not matter.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flowhelpers import GOOD_PIN, Kiosk, build, new_id_number, wait_until

from drivers.api import DeviceStatus
from drivers.smartcard.factory import make_card_service
from drivers.smartcard.virtual.card import CardConfig, VirtualSsCard, sample_holder
from drivers.smartcard.virtual.pcscd import PcscdStack
from kiosk.flows.deps import FlowDeps

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
