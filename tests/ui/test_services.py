"""Every citizen service from the home screen to its result, on the real shell (offscreen) through the
real drivers against their simulators: the demo kiosk of kiosk.app.build_kiosk (virtual card and PSAM,
PIN pad simulator on a pty, still-image camera with the real face models, embedded backend with its dev
SMS outbox). The test is the citizen: it inserts a card, touches the screen's buttons and types on the
simulated pad; it asserts what the screen shows."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton
from service_helpers import (
    GOOD_PIN,
    LIVE,
    OTHER_PERSON,
    Kiosk,
    bridge_for,
    build,
    face_file,
    flow_factories,
    screen_text,
    wait_until,
)

from drivers.api import DeviceStatus
from kiosk.privacy import mask_id_number

pytestmark = pytest.mark.gui


@pytest.fixture(scope="module")
def kiosk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kiosk]:
    import cv2

    tmp = tmp_path_factory.mktemp("ui-services")
    services = build(tmp, ui={"idle_timeout_s": 60, "countdown_s": 5})
    k = Kiosk(services, tmp)
    try:
        for key, rel in {"T1": LIVE, "other": OTHER_PERSON}.items():
            done = services.face.template_from_image(cv2.imread(str(face_file(rel)))).wait(20)
            assert done.ok and done.result is not None, f"no template from {rel}: {done}"
            k.templates[key] = base64.b64encode(done.result.to_bytes()).decode()
            done.result.wipe()
        yield k
    finally:
        services.close()


class Citizen:
    """Drives the shell like a person: the screen's buttons, the pad, the card."""

    def __init__(self, qtbot: Any, window: Any, kiosk: Kiosk) -> None:
        self.qtbot, self.window, self.kiosk = qtbot, window, kiosk
        self.pad = kiosk.services.pinpad_simulator

    def text(self) -> str:
        return screen_text(self.window)

    def sees(self, *needles: str, timeout: float = 30.0) -> str:
        try:
            self.qtbot.waitUntil(lambda: all(n in self.text() for n in needles), timeout=int(timeout * 1000))
        except Exception:
            raise AssertionError(f"never saw {needles!r}; the screen shows:\n{self.text()}") from None
        return self.text()

    def button(self, text: str) -> QPushButton:
        for btn in self.window.findChildren(QPushButton):
            if btn.isVisible() and btn.isEnabled() and btn.text() == text:
                return btn
        raise AssertionError(f"no button {text!r}; buttons: "
                             f"{[b.text() for b in self.window.findChildren(QPushButton) if b.isVisible()]}")

    def touch(self, text: str, timeout: float = 30.0) -> None:
        self.qtbot.waitUntil(lambda: any(b.isVisible() and b.isEnabled() and b.text() == text
                                         for b in self.window.findChildren(QPushButton)),
                             timeout=int(timeout * 1000))
        self.qtbot.mouseClick(self.button(text), Qt.MouseButton.LeftButton)

    def service(self, key: str) -> None:
        self.qtbot.waitUntil(lambda: self.window.current_page == "home", timeout=10000)
        self.qtbot.mouseClick(self.window.home.service_buttons[key], Qt.MouseButton.LeftButton)

    def types(self, digits: str, mode: str = "pin", enter: bool = True) -> None:
        self.qtbot.waitUntil(lambda: self.pad.entry_mode == mode, timeout=30000)
        for d in digits:
            self.pad.press(d)
        if enter:
            self.pad.press("enter")


@pytest.fixture
def citizen(qtbot: Any, make_window: Any, kiosk: Kiosk) -> Iterator[Citizen]:
    services = kiosk.services
    kiosk.camera_shows(LIVE)
    bridge = bridge_for(services)
    window = make_window(config=services.config, core=services.session, bridge=bridge,
                         flows=flow_factories(services))
    yield Citizen(qtbot, window, kiosk)
    kiosk.remove_card()
    wait_until(lambda: services.card.status is DeviceStatus.NO_MEDIA, 5, "the reader to show no card")
    qtbot.waitUntil(lambda: services.session.visit is None, timeout=5000)
    services.flows.cancel("test end")
    bridge.detach_all()


def test_card_status_from_home_to_result(citizen: Citizen, kiosk: Kiosk) -> None:
    id_number, _ = kiosk.person("张建国")
    kiosk.insert(id_number, "张建国")
    citizen.service("card_status")
    citizen.sees("请输入密码")
    citizen.types(GOOD_PIN)
    text = citizen.sees("张*国", mask_id_number(id_number))
    assert id_number not in text
