"""E-card sign-in from the home screen on the real shell (offscreen): the demo kiosk of
kiosk.app.build_kiosk, its camera playing a recorded frame of a phone that shows a fresh dynamic
code from the embedded platform, OpenCV reading it, the platform redeeming it once, and the
session core identifying the visit as an e-card visit."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import httpx
import pytest
from service_helpers import LIVE, Kiosk, bridge_for, flow_factories, kiosk_with_templates, screen_text

from drivers.codescan.phone_render import PhoneShot, render
from kiosk import i18n
from kiosk.ecard.code import CodeRefusal
from kiosk.identity import IdentitySource
from kiosk.messages import ecard as E
from kiosk.session import EndReason

pytestmark = pytest.mark.gui


@pytest.fixture(scope="module")
def kiosk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kiosk]:
    k = kiosk_with_templates(tmp_path_factory.mktemp("ui-ecard"))
    try:
        yield k
    finally:
        k.services.close()


@pytest.fixture
def window(qtbot: Any, make_window: Any, kiosk: Kiosk) -> Iterator[Any]:
    services = kiosk.services
    bridge = bridge_for(services)
    win = make_window(core=services.session, bridge=bridge, flows=flow_factories(services))
    yield win
    if services.session.visit is not None:
        services.session.end_visit(EndReason.FINISHED)
    services.flows.cancel("test end")
    bridge.detach_all()
    kiosk.camera_shows(LIVE)


def phone_shows_code(kiosk: Kiosk, id_number: str) -> str:
    """The platform issues a code; the camera's next frames show a phone holding it."""
    backend = kiosk.services.embedded_backend
    r = httpx.post(f"{backend.url}/v1/dev/ecard/codes", json={"id_number": id_number}, timeout=10,
                   headers={"Authorization": f"Bearer {backend.operator_token}"})
    assert r.status_code == 200, r.text
    code = r.json()["code"]
    frame = render(code, PhoneShot(code_fraction=0.25, yaw_deg=15, glare=0.4, moire=0.5))
    staging = Path(kiosk.tmp) / "camera.tmp.png"
    cv2.imwrite(str(staging), frame)
    # The still source reads camera.jpg by name; OpenCV decodes by content, so PNG bytes are fine.
    os.replace(staging, Path(kiosk.tmp) / "camera.jpg")
    return code


def sees(qtbot: Any, window: Any, *needles: str, timeout_s: float = 30) -> None:
    try:
        qtbot.waitUntil(lambda: all(n in screen_text(window) for n in needles), timeout=int(timeout_s * 1000))
    except Exception:
        raise AssertionError(f"never saw {needles!r}; the screen shows:\n{screen_text(window)}") from None


def start_ecard(qtbot: Any, window: Any) -> None:
    """The citizen, with only a phone, touches "show your e-card code" on the attract screen."""
    from PySide6.QtCore import Qt

    qtbot.waitUntil(lambda: window.current_page == "attract", timeout=10000)
    assert window.attract.ecard_button.isVisible() and window.attract.phone_hint.isVisible()
    qtbot.mouseClick(window.attract.ecard_button, Qt.MouseButton.LeftButton)


def test_the_e_card_code_signs_the_citizen_in_and_opens_the_e_card_services(qtbot: Any, window: Any,
                                                                             kiosk: Kiosk) -> None:
    id_number, _phone = kiosk.person("周淑兰", retired=True)
    phone_shows_code(kiosk, id_number)
    start_ecard(qtbot, window)
    sees(qtbot, window, i18n._(E.SIGNED_IN_TITLE), "周*兰")
    # The flow ends just after its result is on screen; the shell then gives the identity to the core.
    qtbot.waitUntil(lambda: kiosk.services.session.identity is not None, timeout=5000)
    identity = kiosk.services.session.identity
    assert identity is not None and identity.source is IdentitySource.E_CARD and identity.id_number == id_number
    assert kiosk.services.session.allows("retiree_certification")
    assert not kiosk.services.session.allows("pin_change"), "writing the card still needs the card"
    assert id_number not in screen_text(window)


def test_a_code_shown_again_is_refused_as_used(qtbot: Any, window: Any, kiosk: Kiosk) -> None:
    id_number, _phone = kiosk.person("吴建国", retired=True)
    phone_shows_code(kiosk, id_number)
    start_ecard(qtbot, window)
    sees(qtbot, window, i18n._(E.SIGNED_IN_TITLE))
    kiosk.services.session.end_visit(EndReason.FINISHED)
    qtbot.waitUntil(lambda: window.current_page == "attract", timeout=10000)
    # The same picture of the phone (a screenshot of the code) at the next visit:
    start_ecard(qtbot, window)
    sees(qtbot, window, i18n._(E.REFUSAL[CodeRefusal.ALREADY_USED]))
    assert kiosk.services.session.identity is None


def test_the_sign_in_screen_shows_how_to_hold_the_phone(qtbot: Any, window: Any, kiosk: Kiosk) -> None:
    """While the camera looks for a code (it sees only a face here), the step shows the drawn phone."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QColor

    from ui.widgets.phone_hint import PhoneHint

    kiosk.camera_shows(LIVE)
    start_ecard(qtbot, window)
    sees(qtbot, window, i18n._(E.SCAN_TITLE))
    qtbot.waitUntil(lambda: isinstance(window.step.body, PhoneHint) and window.step.body.isVisible(), timeout=10000)
    image = window.step.body.grab().toImage()
    colours = {image.pixelColor(x, y).name() for x in range(0, image.width(), 9) for y in range(0, image.height(), 9)}
    assert QColor("#000000").name() in colours and len(colours) >= 4, "a drawn picture, not an empty box"
    qtbot.mouseClick(window.step.cancel_button, Qt.MouseButton.LeftButton)

