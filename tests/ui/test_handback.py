"""Card hand-back on the real demo kiosk (virtual card through the real card service, real shell,
real espeak voice into a recording sink): a visit ends with "please take your card" until the card
is out; a card left behind, or found in the reader at start-up, is never used by the next person."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt
from service_helpers import (
    GOOD_PIN,
    LIVE,
    Kiosk,
    bridge_for,
    build,
    flow_factories,
    wait_until,
    zh,
)
from service_helpers import (
    sees as screen_sees,
)

from drivers.api import DeviceStatus
from kiosk.card_custody import CardState
from kiosk.messages import flows as M
from kiosk.session import EndReason
from ui.screens.take_card import LEFT_CARD, TAKE_CARD

pytestmark = pytest.mark.gui

TAKE_S = 5      # the shortest allowed countdown (ui.take_card_s), so the test waits little


@pytest.fixture(scope="module")
def kiosk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kiosk]:
    tmp = tmp_path_factory.mktemp("ui-handback")
    k = Kiosk(build(tmp, ui={"idle_timeout_s": 60, "countdown_s": 5, "take_card_s": TAKE_S}), tmp)
    try:
        yield k
    finally:
        k.services.close()


@pytest.fixture
def shell(qtbot: Any, make_window: Any, kiosk: Kiosk) -> Iterator[Any]:
    services = kiosk.services
    kiosk.camera_shows(LIVE)
    made: list[Any] = []

    def make() -> Any:
        bridge = bridge_for(services)
        window = make_window(config=services.config, core=services.session, bridge=bridge,
                             flows=flow_factories(services))
        made.append(bridge)
        return window

    yield make
    kiosk.remove_card()
    wait_until(lambda: services.card.status is DeviceStatus.NO_MEDIA, 5, "the reader to show no card")
    if services.session.visit is not None:
        services.session.end_visit(EndReason.FINISHED)
    services.flows.cancel("test end")
    for bridge in made:
        bridge.detach_all()


def sees(qtbot: Any, window: Any, *needles: str, timeout: float = 20.0) -> str:
    return screen_sees(qtbot, window, *needles, timeout=timeout)


def card_status_result(qtbot: Any, window: Any, kiosk: Kiosk, name: str) -> None:
    id_number, _ = kiosk.person(name, template=None)
    kiosk.insert(id_number, name)
    qtbot.waitUntil(lambda: window.current_page == "home", timeout=10000)
    window.home.service_buttons["card_status"].click()
    sees(qtbot, window, zh(M.PIN_TITLE))
    pad = kiosk.services.pinpad_simulator
    qtbot.waitUntil(lambda: pad.entry_mode == "pin", timeout=20000)
    for key in [*GOOD_PIN, "enter"]:
        pad.press(key)
    qtbot.waitUntil(lambda: window.current_page == "result", timeout=20000)


def test_a_visit_ends_with_take_your_card_until_it_is_out(qtbot: Any, shell: Any, kiosk: Kiosk, sink: Any) -> None:
    window = shell()
    card_status_result(qtbot, window, kiosk, "孙丽华")
    qtbot.mouseClick(window.result.finish_button, Qt.MouseButton.LeftButton)
    text = sees(qtbot, window, zh(TAKE_CARD), "秒")
    assert "孙*华" not in text and window.core.visit is None
    qtbot.waitUntil(lambda: any(zh(TAKE_CARD) in t for t in sink.texts), timeout=10000)   # spoken too
    # The next person touches the screen: no visit starts on the card still in the slot.
    qtbot.mouseClick(window.pages["take_card"], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(window.attract, Qt.MouseButton.LeftButton)
    assert window.core.visit is None and window.current_page == "take_card"
    kiosk.remove_card()
    qtbot.waitUntil(lambda: window.current_page == "attract", timeout=5000)
    assert window.handback.custody.state is CardState.EMPTY


def test_a_card_left_behind_is_never_used_by_the_next_person(qtbot: Any, shell: Any, kiosk: Kiosk) -> None:
    window = shell()
    card_status_result(qtbot, window, kiosk, "钱文斌")
    qtbot.mouseClick(window.result.finish_button, Qt.MouseButton.LeftButton)
    sees(qtbot, window, zh(TAKE_CARD))
    # Nobody takes it: after the countdown the kiosk says a card is in the reader and will not be used.
    text = sees(qtbot, window, zh(LEFT_CARD), timeout=TAKE_S + 5)
    assert "钱*斌" not in text and "钱文斌" not in text
    assert window.handback.custody.state is CardState.LEFT
    qtbot.mouseClick(window.pages["take_card"], Qt.MouseButton.LeftButton)
    assert window.core.visit is None and window.current_page == "take_card"
    # Taking it out frees the kiosk; the next card inserted is seen going in and starts a visit.
    kiosk.remove_card()
    qtbot.waitUntil(lambda: window.current_page == "attract", timeout=5000)
    id_number, _ = kiosk.person("周建军", template=None)
    kiosk.insert(id_number, "周建军")
    qtbot.waitUntil(lambda: window.current_page == "home", timeout=5000)
    assert window.core.visit is not None and window.handback.custody.card_usable


def test_a_card_in_the_reader_at_start_up_is_refused(qtbot: Any, shell: Any, kiosk: Kiosk) -> None:
    services = kiosk.services
    id_number, _ = kiosk.person("吴秀珍", template=None)
    kiosk.insert(id_number, "吴秀珍")           # in the slot before the kiosk's screen starts
    wait_until(lambda: services.card.status is DeviceStatus.ONLINE, 5, "the reader to see the card")
    window = shell()
    text = sees(qtbot, window, zh(LEFT_CARD))
    assert "吴" not in text
    qtbot.mouseClick(window.pages["take_card"], Qt.MouseButton.LeftButton)
    assert window.core.visit is None            # no visit, so no service can read this card
    kiosk.remove_card()
    qtbot.waitUntil(lambda: window.current_page == "attract", timeout=5000)
