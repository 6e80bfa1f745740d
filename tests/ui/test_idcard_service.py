"""Services started by the resident ID card, from the home screen on the real shell (offscreen): the
demo kiosk of kiosk.app.build_kiosk with the ID-card reader simulator on a pty behind the real
driver, the virtual social-security card, the PIN pad simulator, the camera with the real face
models and the embedded backend. The test places cards on the simulated reader and touches the
screen; the simulator's card times are the real model (a read takes about 1 s)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from service_helpers import (
    LIVE,
    Kiosk,
    bridge_for,
    flow_factories,
    kiosk_with_templates,
    sees,
    zh,
)

from drivers.idcard.api import IdCardHolder
from drivers.idcard.simulator import resident_card
from kiosk.identity import IdentitySource
from kiosk.messages import card_loss as L
from kiosk.messages import flows as M
from kiosk.messages import idcard as IDM
from kiosk.privacy import mask_id_number
from kiosk.session import EndReason
from ui.idcard import attach_idcard
from ui.idcard_demo import add_idcard_column

pytestmark = pytest.mark.gui


@pytest.fixture(scope="module")
def kiosk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kiosk]:
    k = kiosk_with_templates(tmp_path_factory.mktemp("ui-idcard"), idcard={"poll_interval_s": 0.1})
    try:
        yield k
    finally:
        k.services.close()


class Citizen:
    def __init__(self, qtbot: Any, window: Any, kiosk: Kiosk) -> None:
        self.qtbot, self.window, self.kiosk = qtbot, window, kiosk

    def sees(self, *needles: str, timeout: float = 30.0) -> str:
        return sees(self.qtbot, self.window, *needles, timeout=timeout)

    def touch(self, text: str) -> None:
        from PySide6.QtCore import Qt
        from PySide6.QtWidgets import QPushButton

        def find() -> QPushButton | None:
            return next((b for b in self.window.findChildren(QPushButton)
                         if b.isVisible() and b.isEnabled() and b.text() == text), None)
        self.qtbot.waitUntil(lambda: find() is not None, timeout=30000)
        button = find()
        assert button is not None
        self.qtbot.mouseClick(button, Qt.MouseButton.LeftButton)

    def service(self, key: str) -> None:
        from PySide6.QtCore import Qt

        self.qtbot.waitUntil(lambda: self.window.current_page == "home", timeout=10000)
        self.qtbot.mouseClick(self.window.home.service_buttons[key], Qt.MouseButton.LeftButton)


@pytest.fixture
def citizen(qtbot: Any, make_window: Any, kiosk: Kiosk) -> Iterator[Citizen]:
    services = kiosk.services
    kiosk.camera_shows(LIVE)
    bridge = bridge_for(services)
    window = make_window(core=services.session, bridge=bridge, flows=flow_factories(services))
    assert attach_idcard(window, services) is not None
    yield Citizen(qtbot, window, kiosk)
    services.idcard_simulator.remove()
    qtbot.waitUntil(lambda: not services.idcard.card_present, timeout=5000)   # lifted, as the driver saw it
    if services.session.visit is not None:
        services.session.end_visit(EndReason.FINISHED)
    qtbot.waitUntil(lambda: window.current_page == "attract", timeout=5000)
    services.flows.cancel("test end")
    bridge.detach_all()


def id_card_for(id_number: str, name: str, valid_until: date | None = None) -> Any:
    birth = date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
    holder = IdCardHolder(name, "2", "01", birth, "广东省广州市天河区天河路1号", id_number, "广州市公安局天河分局",
                          date(2015, 3, 1), valid_until)
    return resident_card(f"card-{id_number[-4:]}", holder, int(id_number[-6:-1]))


def test_retiree_certification_started_by_the_id_card(citizen: Citizen, kiosk: Kiosk) -> None:
    id_number, _ = kiosk.person("孙桂芳", retired=True)
    kiosk.services.idcard_simulator.place(id_card_for(id_number, "孙桂芳"))
    # The card on the reader starts the visit: home, with the masked name, no touch needed.
    citizen.sees("孙*芳", timeout=10)
    identity = kiosk.services.session.identity
    assert identity is not None and identity.source is IdentitySource.ID_CARD and identity.id_number == id_number
    citizen.service("retiree_certification")
    citizen.touch(zh(M.AGREE))                             # no card question, no number typed
    text = citizen.sees(zh(M.CERTIFIED_TITLE), mask_id_number(id_number), timeout=60)
    assert id_number not in text
    citizen.qtbot.waitUntil(lambda: citizen.window.flow.outcome is not None, timeout=10000)
    outcome = citizen.window.flow.outcome
    records = kiosk.records_of(outcome)
    assert [r["payload"]["method"] for r in records if r["type"] == "certification"] == ["id_card"]


def test_an_id_card_visit_cannot_start_a_card_service(citizen: Citizen, kiosk: Kiosk) -> None:
    id_number, _ = kiosk.person("钱志强")
    kiosk.services.idcard_simulator.place(id_card_for(id_number, "钱志强"))
    citizen.sees("钱*强", timeout=10)
    citizen.service("pin_change")
    citizen.sees(zh(IDM.NEEDS_SOCIAL_SECURITY_CARD), zh(IDM.INSERT_SOCIAL_SECURITY_CARD))
    assert kiosk.services.flows.busy is False


@pytest.mark.parametrize(("card", "what"), [
    ("foreign", IDM.REASONS["foreignPermanentResidentCard"][0]),
    ("expired", IDM.REASONS["expired"][0]),
])
def test_cards_that_cannot_identify_are_told_clearly(citizen: Citizen, kiosk: Kiosk, card: str, what: str) -> None:
    kiosk.services.idcard_simulator.place(card)
    fmt = {"until": "2025-06-01"} if card == "expired" else {}
    citizen.sees(zh(what, **fmt), zh(IDM.REASONS["expired" if card == "expired" else "foreignPermanentResidentCard"][1]),
                 timeout=10)
    assert kiosk.services.session.identity is None


def test_demo_panel_places_and_lifts_the_id_cards(citizen: Citizen, kiosk: Kiosk) -> None:
    from ui.demo import DemoPanel

    # The panel itself, not attach_demo(): that also starts the demo-face enrolment in the
    # background, whose late answer must not reach a window this test has already closed.
    panel = DemoPanel(kiosk.services, citizen.window)
    buttons = add_idcard_column(panel, kiosk.services)
    assert set(buttons) == {"normal", "expired", "foreign", "removed_mid_read", "remove"}
    assert all(b.text() for b in buttons.values())
    assert buttons["normal"].text() == "身份证 李秀英（退休人员）"
    buttons["normal"].click()
    assert kiosk.services.idcard_simulator.card is not None
    citizen.qtbot.waitUntil(lambda: kiosk.services.session.identity is not None, timeout=10000)
    buttons["remove"].click()
    assert kiosk.services.idcard_simulator.card is None


def test_card_loss_report_from_the_home_screen_then_the_lost_card_is_refused(citizen: Citizen, kiosk: Kiosk) -> None:
    id_number, phone = kiosk.person("郑丽华")
    assert phone is not None
    kiosk.services.idcard_simulator.place(id_card_for(id_number, "郑丽华"))
    citizen.sees("郑*华", timeout=10)
    citizen.service("card_loss")
    citizen.touch(zh(L.REPORT))
    citizen.touch(zh(M.AGREE))
    pad = kiosk.services.pinpad_simulator
    citizen.qtbot.waitUntil(lambda: pad.entry_mode == "plain", timeout=60000)
    for digit in kiosk.latest_code(phone)():
        pad.press(digit)
    pad.press("enter")
    text = citizen.sees(zh(L.REPORTED_TITLE), mask_id_number(id_number), timeout=30)
    assert id_number not in text
    kiosk.services.session.end_visit(EndReason.FINISHED)
    # The same person's social-security card, inserted later at this kiosk: refused, with what to do.
    kiosk.insert(id_number, "郑丽华")
    citizen.service("pin_change")
    citizen.sees(zh(L.CARD_LOST), zh(L.CARD_LOST_TODO), timeout=30)
    kiosk.remove_card()
