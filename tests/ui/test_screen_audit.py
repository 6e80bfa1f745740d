"""Every kind of screen of the demo kiosk, in Chinese and in English, through the screen audit
(tests/ui/screen_audit.py): clipped text, overlaps, a title from another step, raw or untranslated
values, two names for one thing. The kiosk is driven like a citizen (card, taps, the pad); each
screen is also grabbed as a picture (a blank grab fails)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication
from screen_audit import audit
from service_helpers import GOOD_PIN, LIVE, Kiosk, bridge_for, build, flow_factories, screen_text, wait_until

from drivers.api import DeviceStatus
from kiosk import i18n
from kiosk.messages import flows as M
from kiosk.session import EndReason
from ui.screens.take_card import LEFT_CARD, TAKE_CARD

pytestmark = pytest.mark.gui


@pytest.fixture(scope="module")
def kiosk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kiosk]:
    tmp = tmp_path_factory.mktemp("ui-audit")
    k = Kiosk(build(tmp, ui={"idle_timeout_s": 120, "countdown_s": 5, "take_card_s": 5}), tmp)
    try:
        yield k
    finally:
        k.services.close()


class Walk:
    def __init__(self, qtbot: Any, window: Any, kiosk: Kiosk, shots: Path) -> None:
        self.qtbot, self.window, self.kiosk, self.shots = qtbot, window, kiosk, shots
        self.findings: list[str] = []
        self.overlay: Any = None            # the demo panel, once attached
        self.screens = 0
        self.pad = kiosk.services.pinpad_simulator

    def check(self, name: str) -> None:
        """Audit the screen now in both languages (the language switch is live)."""
        for language in ("zh_CN", "en"):
            i18n.set_language(language)
            self.qtbot.wait(120)            # let the layout settle, as a person would see it
            self.findings += audit(self.window, name, language, self.overlay)
            image = self.window.grab().toImage()
            assert not image.isNull() and image.width() >= 1000, name
            image.save(str(self.shots / f"{self.screens:02d}-{name}-{language}.png"))
        i18n.set_language("zh_CN")
        QApplication.processEvents()
        self.screens += 1

    def until(self, predicate: Any, what: str, timeout: float = 20.0) -> None:
        try:
            self.qtbot.waitUntil(predicate, timeout=int(timeout * 1000))
        except Exception:
            raise AssertionError(f"never reached {what}; the screen shows:\n{screen_text(self.window)}") from None

    def sees(self, text: str) -> None:
        self.until(lambda: text in screen_text(self.window), repr(text))

    def service(self, key: str) -> None:
        self.until(lambda: self.window.current_page == "home", "home")
        self.window.home.service_buttons[key].click()

    def types(self, digits: str, mode: str = "pin") -> None:
        self.until(lambda: self.pad.entry_mode == mode, f"the pad in {mode} mode")
        for key in [*digits, "enter"]:
            self.pad.press(key)

    def card_in(self, name: str) -> None:
        id_number, _ = self.kiosk.person(name, template=None)
        self.kiosk.insert(id_number, name)
        self.until(lambda: self.window.current_page == "home", "home after the card")

    def card_out(self) -> None:
        self.kiosk.remove_card()
        wait_until(lambda: self.kiosk.services.card.status is DeviceStatus.NO_MEDIA, 5, "no card")
        self.until(lambda: self.window.current_page == "attract", "attract")

    def cancel(self) -> None:
        self.until(lambda: self.window.step.cancel_button.isVisible(), "a Cancel button")
        self.window.step.cancel_button.click()


def zh(msgid: str) -> str:
    i18n.set_language("zh_CN")
    return i18n._(msgid)


def test_every_screen_passes_the_audit_in_both_languages(qtbot: Any, make_window: Any, kiosk: Kiosk,
                                                         tmp_path: Path) -> None:
    from ui.demo import attach_demo

    services = kiosk.services
    kiosk.camera_shows(LIVE)
    bridge = bridge_for(services)
    window = make_window(config=services.config, core=services.session, bridge=bridge,
                         flows=flow_factories(services))
    panel, opener = attach_demo(window, services)
    walk = Walk(qtbot, window, kiosk, tmp_path)
    walk.overlay = panel
    try:
        walk.check("attract")
        walk.card_in("冯志刚")
        walk.check("home")
        # card status: PIN entry, a wrong PIN (error in the step), the result, the hand-back
        walk.service("card_status")
        walk.sees(zh(M.PIN_TITLE))
        walk.check("card-status-pin")
        walk.types("999999")
        walk.until(lambda: window.step.showing_error, "the wrong-PIN error")
        walk.check("card-status-wrong-pin")
        window.step.error_panel._buttons[0].click()
        walk.types(GOOD_PIN)
        walk.until(lambda: window.current_page == "result", "the result")
        walk.check("card-status-result")
        window.result.finish_button.click()
        walk.sees(zh(TAKE_CARD))
        walk.check("take-card")
        walk.sees(zh(LEFT_CARD))
        walk.check("card-left")
        walk.card_out()
        walk.check("attract-after-visit")
        # PIN change: the old PIN
        walk.card_in("冯秀梅")
        walk.service("pin_change")
        walk.sees(zh(M.OLD_PIN_TITLE))
        walk.check("pin-change-old-pin")
        walk.types(GOOD_PIN)
        walk.sees(zh(M.NEW_PIN_TITLE))
        walk.types("111111")                                # weak: refused on its first entry
        walk.until(lambda: window.step.showing_error, "the weak-PIN refusal")
        walk.check("pin-change-weak-pin")
        window.step.error_panel._buttons[0].click()
        walk.sees(zh(M.NEW_PIN_TITLE))
        walk.cancel()
        # PIN reset: the question after reading the card, then the consent
        walk.service("pin_reset")
        walk.sees(zh(M.CHOICE_RESET))
        walk.check("pin-reset-choice")
        next(b for b in window.step.body.buttons.values() if b.text() == zh(M.CHOICE_RESET)).click()
        walk.sees(zh(M.AGREE))
        walk.check("pin-reset-consent")
        walk.cancel()
        # real-name registration: the banks
        walk.service("real_name")
        walk.sees(zh(M.BANK_TITLE))
        walk.until(lambda: window.step.body is not None and window.step.body.isVisible(), "the bank list")
        walk.check("real-name-banks")
        walk.cancel()
        walk.card_out()
        # retiree certification without the card: ID number, then the name to confirm
        window.attract.touched.emit()
        walk.service("retiree_certification")
        walk.sees(zh(M.WITHOUT_CARD))
        walk.check("retiree-identify")
        window.step.body.buttons["id_number"].click()
        walk.sees(zh(M.ID_NUMBER_TITLE))
        walk.check("retiree-id-number")
        walk.types("440104194811026548", mode="plain")       # 李秀英 of the demo seed
        walk.sees("李*英")
        walk.check("retiree-confirm-name")
        walk.cancel()
        # the demo panel over the home screen
        opener.click()
        walk.until(lambda: panel.isVisible(), "the demo panel")
        walk.check("demo-panel")
        panel.hide_panel()
    finally:
        if services.session.visit is not None:
            services.session.end_visit(EndReason.FINISHED)
        kiosk.remove_card()
        wait_until(lambda: services.card.status is DeviceStatus.NO_MEDIA, 5, "no card")
        services.flows.cancel("test end")
        bridge.detach_all()
    assert walk.screens >= 15
    assert not walk.findings, "\n".join(walk.findings)
