"""Every citizen service from the home screen to its result, on the real shell (offscreen) through the
real drivers against their simulators: the demo kiosk of kiosk.app.build_kiosk (virtual card and PSAM,
PIN pad simulator on a pty, still-image camera with the real face models, embedded backend with its dev
SMS outbox). The test is the citizen: it inserts a card, touches the screen's buttons and types on the
simulated pad; it asserts what the screen shows."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton
from service_helpers import (
    GOOD_PIN,
    LIVE,
    Kiosk,
    all_texts,
    bridge_for,
    flow_factories,
    kiosk_with_templates,
    screen_text,
    sees,
    wait_until,
    zh,
)

from drivers.api import DeviceStatus
from kiosk.messages import card as C
from kiosk.messages import flows as M
from kiosk.pin_policy import RULE_MESSAGES, WeakPinRule
from kiosk.privacy import mask_id_number
from kiosk.session import EndReason
from ui.screens.take_card import TAKE_CARD
from ui.widgets.error_panel import RETRY
from ui.window import ENDED_NOTICE

pytestmark = pytest.mark.gui


@pytest.fixture(scope="module")
def kiosk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kiosk]:
    k = kiosk_with_templates(tmp_path_factory.mktemp("ui-services"), ui={"idle_timeout_s": 60, "countdown_s": 5})
    try:
        yield k
    finally:
        k.services.close()


class Citizen:
    """Drives the shell like a person: the screen's buttons, the pad, the card."""

    def __init__(self, qtbot: Any, window: Any, kiosk: Kiosk) -> None:
        self.qtbot, self.window, self.kiosk = qtbot, window, kiosk
        self.pad = kiosk.services.pinpad_simulator

    def text(self) -> str:
        return screen_text(self.window)

    def sees(self, *needles: str, timeout: float = 30.0) -> str:
        return sees(self.qtbot, self.window, *needles, timeout=timeout)

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


def spoken(config: Any) -> Any:
    """The kiosk's config with the real espeak voice (the tests' RecordingSink hears it)."""
    return dataclasses.replace(config, ui=dataclasses.replace(config.ui, voice=True, voice_engine="espeak"))


@pytest.fixture
def citizen(qtbot: Any, make_window: Any, kiosk: Kiosk) -> Iterator[Citizen]:
    services = kiosk.services
    kiosk.camera_shows(LIVE)
    bridge = bridge_for(services)
    window = make_window(config=spoken(services.config), core=services.session, bridge=bridge,
                         flows=flow_factories(services))
    yield Citizen(qtbot, window, kiosk)
    kiosk.remove_card()
    wait_until(lambda: services.card.status is DeviceStatus.NO_MEDIA, 5, "the reader to show no card")
    if services.session.visit is not None:          # a visit without a card (retiree by ID number)
        services.session.end_visit(EndReason.FINISHED)
    qtbot.waitUntil(lambda: window.current_page == "attract", timeout=5000)
    services.flows.cancel("test end")
    bridge.detach_all()


def test_card_status_from_home_to_result(citizen: Citizen, kiosk: Kiosk, sink: Any) -> None:
    id_number, _ = kiosk.person("张建国")
    kiosk.insert(id_number, "张建国")
    citizen.service("card_status")
    citizen.sees(zh(M.PIN_TITLE), zh(M.PIN_INSTRUCTION))
    # The same words are spoken as shown.
    citizen.qtbot.waitUntil(lambda: any(zh(M.PIN_TITLE) in t and zh(M.PIN_INSTRUCTION) in t for t in sink.texts),
                            timeout=10000)
    citizen.types(GOOD_PIN)
    text = citizen.sees("张*国", mask_id_number(id_number))
    assert id_number not in text


def weak_pin_refused_at_once(citizen: Citizen, sink: Any, weak: str, rule: WeakPinRule) -> None:
    """Type a weak new PIN once: the rule and what to do are shown (and spoken) before any second
    entry is asked; the pad's entry is closed and the screen shows no digit of it."""
    citizen.sees(zh(M.NEW_PIN_TITLE))
    citizen.types(weak)
    text = citizen.sees(zh(RULE_MESSAGES[rule]), zh(M.CHOOSE_NEW_PIN_AGAIN))
    assert zh(M.NEW_PIN_AGAIN_TITLE) not in text and weak not in text.replace(" ", "")
    assert not any(zh(M.NEW_PIN_AGAIN_TITLE) in t for t in sink.texts), "the second entry was asked"
    assert citizen.pad.entry_mode != "pin"
    citizen.touch(zh(RETRY))


def no_pin_in_logs(caplog: Any, *pins: str) -> None:
    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert caplog.records and not any(pin in logged for pin in pins)


def test_pin_change_wrong_pin_tries_and_weak_pin_rule_shown(citizen: Citizen, kiosk: Kiosk, sink: Any,
                                                           caplog: Any) -> None:
    caplog.set_level("DEBUG")
    id_number, _ = kiosk.person("刘德明")
    card = kiosk.insert(id_number, "刘德明")
    citizen.service("pin_change")
    citizen.sees(zh(M.OLD_PIN_TITLE))
    citizen.types("111111")
    citizen.sees(zh(C.TRIES_LEFT, n=2))                  # the card's own counter, in words
    citizen.touch(zh(RETRY))
    citizen.types(GOOD_PIN)
    weak_pin_refused_at_once(citizen, sink, "111111", WeakPinRule.ALL_SAME)
    weak_pin_refused_at_once(citizen, sink, GOOD_PIN, WeakPinRule.SAME_AS_OLD)
    citizen.sees(zh(M.NEW_PIN_TITLE))
    citizen.types("370914")
    citizen.sees(zh(M.NEW_PIN_AGAIN_TITLE))
    citizen.types("370914")
    citizen.sees(zh(M.PIN_CHANGED_TITLE))
    assert card.pin == "370914"
    no_pin_in_logs(caplog, GOOD_PIN, "370914")


def test_initial_pin_change_refuses_a_weak_pin_on_the_first_entry(citizen: Citizen, kiosk: Kiosk, sink: Any) -> None:
    id_number, _ = kiosk.person("钱七")
    card = kiosk.insert(id_number, "钱七", pin="123456")
    citizen.service("card_status")
    citizen.sees(zh(M.PIN_TITLE))
    citizen.types("123456")
    citizen.touch(zh(M.CHANGE_PIN_NOW))
    weak_pin_refused_at_once(citizen, sink, "123456", WeakPinRule.INITIAL_PIN)
    weak_pin_refused_at_once(citizen, sink, id_number[-6:], WeakPinRule.ID_SUFFIX)
    citizen.sees(zh(M.NEW_PIN_TITLE))
    citizen.types("370914")
    citizen.sees(zh(M.NEW_PIN_AGAIN_TITLE))
    citizen.types("370914")
    citizen.sees(zh(M.PIN_CHANGED_TITLE))
    assert card.pin == "370914" and not card.in_initial_state


def test_pin_reset_with_face_and_sms(citizen: Citizen, kiosk: Kiosk, sink: Any) -> None:
    id_number, phone = kiosk.person("陈淑芬")
    card = kiosk.insert(id_number, "陈淑芬")
    card.tries_left = 0
    citizen.service("pin_reset")
    citizen.touch(zh(M.CHOICE_RESET))
    citizen.sees(zh(M.CONSENT_INSTRUCTION))
    citizen.touch(zh(M.AGREE))
    citizen.sees(zh(M.SMS_TITLE), timeout=60)
    # A visible resend, counting down (issue 19).
    citizen.qtbot.waitUntil(lambda: getattr(citizen.window.step.body, "resend_button", None) is not None
                            and citizen.window.step.body.resend_button.isVisible(), timeout=10000)
    resend = citizen.window.step.body.resend_button
    assert not resend.isEnabled() and "秒后" in resend.text(), resend.text()
    citizen.types(kiosk.latest_code(phone)(), mode="plain")
    weak_pin_refused_at_once(citizen, sink, "987654", WeakPinRule.SEQUENCE)
    citizen.sees(zh(M.NEW_PIN_TITLE))
    citizen.types("370914")
    citizen.sees(zh(M.NEW_PIN_AGAIN_TITLE))
    citizen.types("370914")
    citizen.sees(zh(M.PIN_RESET_TITLE), timeout=30)
    assert card.pin == "370914" and card.tries_left == 3


def test_retiree_certification_without_the_card(citizen: Citizen, kiosk: Kiosk) -> None:
    id_number, _ = kiosk.person("周桂兰")
    citizen.qtbot.mouseClick(citizen.window.attract, Qt.MouseButton.LeftButton)
    citizen.service("retiree_certification")
    citizen.touch(zh(M.WITHOUT_CARD))
    citizen.sees(zh(M.ID_NUMBER_TITLE))
    citizen.types(id_number, mode="plain")
    citizen.sees("周*兰")
    citizen.touch(zh(M.YES_THIS_IS_ME))
    citizen.touch(zh(M.AGREE))
    citizen.sees(zh(M.CERTIFIED_TITLE), timeout=60)


def test_real_name_registration_shows_the_disabled_bank_greyed(citizen: Citizen, kiosk: Kiosk) -> None:
    id_number, phone = kiosk.person("唐国平", template=None)
    card_number = f"62220202{id_number[-8:]}000"
    kiosk.seed_bank_account(bank_code="ICBC", card_number=card_number, name="唐国平", id_number=id_number,
                            phone=phone, kind="debit")
    kiosk.insert(id_number, "唐国平")
    citizen.service("real_name")
    text = citizen.sees(zh(M.BANK_TITLE), "正在接入")
    body = citizen.window.step.body
    disabled = [b for b in body.buttons.values() if not b.isEnabled()]
    assert len(disabled) == 1 and disabled[0].text().startswith("✖") and "暂不可用" in disabled[0].text(), text
    citizen.touch("中国工商银行")
    citizen.touch(zh(M.AGREE))
    citizen.sees(zh(M.BANK_CARD_TITLE))
    citizen.types(card_number, mode="plain")
    citizen.sees(zh(M.PHONE_TITLE))
    citizen.types(phone, mode="plain")
    citizen.sees(zh(M.SMS_TITLE))
    citizen.types(kiosk.latest_code(phone)(), mode="plain")
    citizen.sees(zh(M.REGISTERED_TITLE), "中国工商银行")


def test_card_pulled_mid_flow_ends_the_visit_and_leaves_nothing_personal(citizen: Citizen, kiosk: Kiosk) -> None:
    id_number, _phone = kiosk.person("韩雪梅", template=None)
    kiosk.insert(id_number, "韩雪梅")
    citizen.service("real_name")
    citizen.touch("中国工商银行")
    citizen.touch(zh(M.AGREE))
    citizen.types("62220299", mode="plain", enter=False)
    citizen.sees("6222 0299")                            # digits shown as typed, grouped in fours
    entry = citizen.window.step.body
    kiosk.remove_card()
    citizen.sees(zh(ENDED_NOTICE[next(k for k in ENDED_NOTICE if k.value == "card_removed")]))
    held = "\n".join(all_texts(citizen.window))
    for personal in ("62220299", "6222 0299", "韩雪梅", "韩*梅", id_number, mask_id_number(id_number)):
        assert personal not in held
    assert entry.pin.count == 0 and not entry.pin._plain     # the typed digits are gone from memory too


def test_language_switch_during_a_flow(citizen: Citizen, kiosk: Kiosk) -> None:
    id_number, _ = kiosk.person("孙文华")
    kiosk.insert(id_number, "孙文华")
    citizen.service("card_status")
    citizen.sees(zh(M.PIN_TITLE))
    citizen.touch("English")
    citizen.sees("Enter your PIN", "Tries left on this card: 3", "Step ")
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in citizen.text().replace("中文", ""))
    citizen.types(GOOD_PIN)
    citizen.sees("Your card", "Name: 孙*华")


def test_idle_timeout_during_a_flow_wipes(qtbot: Any, make_window: Any, kiosk: Kiosk, core: Any, clock: Any) -> None:
    services = kiosk.services
    bridge = bridge_for(services)
    window = make_window(config=services.config, core=core, bridge=bridge, flows=flow_factories(services))
    citizen = Citizen(qtbot, window, kiosk)
    try:
        id_number, _ = kiosk.person("马玉兰")
        kiosk.insert(id_number, "马玉兰")
        citizen.service("card_status")
        citizen.sees(zh(M.PIN_TITLE))
        citizen.types("12", enter=False)
        citizen.sees("● ●")
        clock.advance(services.config.ui.idle_timeout_s + 1)
        citizen.sees("秒")                                # the countdown
        clock.advance(60)
        citizen.sees(zh(TAKE_CARD))                     # the card is still in: handed back first
        assert window.step.body is None and "马*兰" not in "\n".join(all_texts(window))
        kiosk.remove_card()
        citizen.sees(zh(ENDED_NOTICE[next(k for k in ENDED_NOTICE if k.value == "timeout")]))
        assert window.current_page == "attract" and window.step.body is None
        assert "马*兰" not in "\n".join(all_texts(window))
        qtbot.waitUntil(lambda: not services.flows.busy, timeout=5000)
    finally:
        kiosk.remove_card()
        wait_until(lambda: services.card.status is DeviceStatus.NO_MEDIA, 5, "the reader to show no card")
        services.flows.cancel("test end")
        bridge.detach_all()


def test_face_screen_shows_and_speaks_prompts_and_the_latest_frame(qtbot: Any, kiosk: Kiosk) -> None:
    import numpy as np

    from drivers.camera.api import Frame
    from kiosk.messages import face as F
    from models.quality import QualityReason
    from models.verifier import FaceQualityPrompt
    from ui.widgets.flow_bodies import RECORDING, FaceBody

    said: list[str] = []
    body = FaceBody(kiosk.services.camera, say=said.append)      # a still picture: not a webcam
    qtbot.addWidget(body)
    body.show()
    assert body.recording_label.isVisible() and zh(RECORDING) in body.recording_label.text()
    body.post_event(FaceQualityPrompt("face", QualityReason.TOO_FAR))
    qtbot.waitUntil(lambda: body.prompt_label.text() == zh(F.QUALITY[QualityReason.TOO_FAR]), timeout=5000)
    assert said == [zh(F.QUALITY[QualityReason.TOO_FAR])]
    body.post_event(FaceQualityPrompt("face", QualityReason.TOO_FAR))       # the same prompt: said once
    bridge = bridge_for(kiosk.services)
    bridge.frame.connect(body.show_frame)
    listener = body.frame_listener(bridge, "camera")
    for seq in range(1, 6):                  # a burst from the capture thread: at most one waits
        listener(Frame(np.full((480, 640, 3), seq * 40, np.uint8), seq, 0.0))
    qtbot.waitUntil(lambda: body.frames_shown >= 1, timeout=5000)
    qtbot.wait(50)
    assert body.frames_shown == 1 and not body.preview.pixmap().isNull()
    assert said == [zh(F.QUALITY[QualityReason.TOO_FAR])]
    bridge.detach_all()


def test_demo_panel_inserts_a_card_and_types_on_the_simulated_pad(citizen: Citizen, kiosk: Kiosk) -> None:
    from ui.demo import DEMO, NORMAL, SIMULATED, attach_demo

    panel, opener = attach_demo(citizen.window, kiosk.services)
    assert zh(DEMO) in opener.text()
    citizen.qtbot.mouseClick(opener, Qt.MouseButton.LeftButton)
    citizen.sees(zh(SIMULATED), "密码键盘：正常")
    citizen.touch(zh(NORMAL))
    citizen.qtbot.waitUntil(lambda: citizen.window.home.isVisible(), timeout=10000)
    panel.hide_panel()
    citizen.service("card_status")
    citizen.sees(zh(M.PIN_TITLE))
    citizen.qtbot.waitUntil(lambda: kiosk.services.pinpad_simulator.entry_mode == "pin"
                            and bool(getattr(citizen.window.step.body, "keys", None)), timeout=10000)
    for key in "147258":                     # the entry's own on-screen keys press the simulated pad
        citizen.qtbot.mouseClick(citizen.window.step.body.keys[key], Qt.MouseButton.LeftButton)
    citizen.sees("● ● ● ● ● ●")
    citizen.qtbot.mouseClick(citizen.window.step.body.keys["enter"], Qt.MouseButton.LeftButton)
    citizen.sees("张*明")                     # the demo seed's holder (backend/demo_seed.json)
    # The demo people get the demo camera's face, so the face services can be tried in the demo.
    citizen.qtbot.waitUntil(lambda: panel.faces_ready, timeout=30000)
    from kiosk.flows.templates import BackendTemplates
    from models.template import FaceTemplate

    answer = BackendTemplates(kiosk.services.sync.client).template_for("440106195203154324")
    assert isinstance(answer, FaceTemplate)
    answer.wipe()


def test_field_profile_refuses_services_before_an_operator_signs_in(citizen: Citizen, kiosk: Kiosk) -> None:
    from kiosk.field.service import start_field
    from ui.field_console import attach_field
    from ui.flows import OPERATOR_FIRST

    field = start_field(kiosk.services)
    try:
        citizen.window.flows = dict(flow_factories(kiosk.services, field))
        citizen.qtbot.mouseClick(citizen.window.attract, Qt.MouseButton.LeftButton)
        citizen.service("retiree_certification")
        citizen.sees(zh(OPERATOR_FIRST))
        assert not kiosk.services.flows.busy
        # The staff console covers the citizen screen with the sign-in until an operator is in.
        console = attach_field(citizen.window, field, kiosk.services.config, kiosk.tmp / "reports")
        citizen.qtbot.waitUntil(console.isVisible, timeout=5000)
        assert console.stack.currentWidget() is console.signin
        console.close_console()
        console.show_tab("roster")
        assert console.isVisible() and console.stack.currentWidget() is console.signin
    finally:
        field.stop()


def test_service_screens_keep_the_size_rules_in_both_languages(citizen: Citizen, kiosk: Kiosk) -> None:
    """Body text >= 32 px, titles >= 48 px, targets >= 60 px, nothing clipped at 1920x1080: the bank
    list with its disabled bank, and a plain entry with the demo's simulated keys beside it."""
    from shell_helpers import check_screen

    from ui.demo import attach_demo

    def settled(c: Citizen) -> bool:
        c.qtbot.wait(150)                   # let the layouts follow the new texts
        return True

    panel, _opener = attach_demo(citizen.window, kiosk.services)
    id_number, _ = kiosk.person("唐国平", template=None)
    kiosk.insert(id_number, "唐国平")
    citizen.service("real_name")
    citizen.sees(zh(M.BANK_TITLE))
    checked = settled(citizen) and check_screen(citizen.window, "bank list zh")
    citizen.touch("English")
    citizen.sees("Not available")
    checked += settled(citizen) and check_screen(citizen.window, "bank list en")
    citizen.touch("中文")
    citizen.touch("中国工商银行")
    citizen.touch(zh(M.AGREE))
    citizen.sees(zh(M.BANK_CARD_TITLE))
    citizen.qtbot.waitUntil(lambda: isinstance(citizen.window.step.body, __import__(
        "ui.widgets.flow_bodies", fromlist=["EntryBody"]).EntryBody), timeout=10000)
    checked += settled(citizen) and check_screen(citizen.window, "bank card entry zh")
    citizen.touch("English")
    checked += settled(citizen) and check_screen(citizen.window, "bank card entry en")
    panel.show_panel()
    checked += settled(citizen) and check_screen(citizen.window, "demo panel en")
    citizen.touch("中文")
    checked += settled(citizen) and check_screen(citizen.window, "demo panel zh")
    assert checked > 100


def test_operator_dialog_shows_sync_and_device_status(citizen: Citizen, kiosk: Kiosk) -> None:
    from ui.demo import status_lines

    citizen.window.operator.status = lambda: status_lines(kiosk.services)
    dialog = citizen.window.operator.open_dialog()
    try:
        text = dialog.status_label.text()
        assert dialog.status_label.isVisible()
        assert "数据同步" in text and "待发送" in text and "读卡器：" in text and "密码键盘：正常" in text
    finally:
        dialog.reject()

