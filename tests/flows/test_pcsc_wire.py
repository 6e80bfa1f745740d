"""One flow over the real PC/SC wire: pyscard -> pcscd -> vpcd -> the virtual card and PSAM.

The pcscd stack is the smart-card area's (drivers.smartcard.virtual.pcscd.PcscdStack, helpers from
tests/smartcard/sc_helpers.py). It is module-scoped here and this module runs before tests/smartcard
(whose stack is session-scoped and started lazily), so the two never run at once.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from flowhelpers import GOOD_PIN, Kiosk, build, new_id_number, wait_until

from drivers.api import DeviceStatus
from drivers.smartcard.factory import make_card_service
from drivers.smartcard.virtual.card import CardConfig, VirtualSsCard, sample_holder
from drivers.smartcard.virtual.pcscd import PcscdStack, StackError
from drivers.smartcard.virtual.psam import VirtualPsam
from kiosk.flows.deps import FlowDeps

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "smartcard"))
from sc_helpers import PSAM, wait_reader_or_fail

pytestmark = pytest.mark.pcsc


@pytest.fixture(scope="module")
def kiosk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kiosk]:
    services = build(tmp_path_factory.mktemp("flows-pcsc"))
    try:
        yield Kiosk(services, tmp_path_factory.getbasetemp())
    finally:
        services.close()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PcscdStack]:
    try:
        s = PcscdStack(tmp_path_factory.mktemp("pcscd"), apdu_log=False)
        s.start()
    except StackError as exc:
        pytest.fail(str(exc))
    try:
        s.psam.insert(VirtualPsam(pin_algorithm="sm4"))
        wait_reader_or_fail(PSAM, present=True, timeout=5)
        yield s
    finally:
        s.close()


def test_pin_change_over_pcscd(kiosk: Kiosk, stack: PcscdStack) -> None:
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
        card_service.stop()
