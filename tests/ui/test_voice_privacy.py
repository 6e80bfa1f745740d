"""Privacy in a public hall, over every citizen service end to end: the audio queue (every
utterance handed to the sink) never holds a name, an ID number, a phone or card number, a PIN,
a PIN-length count or a balance, and everything in it is a known prompt said whole.

The kiosk is the real demo kiosk (virtual card, PIN pad simulator, camera, embedded backend) as in
test_services.py; the voice is the real pack engine with a RecordingSink."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton
from service_helpers import (
    GOOD_PIN,
    LIVE,
    Kiosk,
    bridge_for,
    flow_factories,
    kiosk_with_templates,
    sees,
    zh,
)

from drivers.api import DeviceStatus
from kiosk.messages import flows as M
from kiosk.privacy import mask_id_number
from kiosk.session import EndReason
from kiosk.voice import catalog
from kiosk.voice.compose import composer
from ui.voice import RecordingSink

pytestmark = pytest.mark.gui


@pytest.fixture(scope="module")
def kiosk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kiosk]:
    k = kiosk_with_templates(tmp_path_factory.mktemp("voice-privacy"), ui={"idle_timeout_s": 120, "countdown_s": 5})
    try:
        yield k
    finally:
        k.services.close()


class Visit:
    def __init__(self, qtbot: Any, window: Any, kiosk: Kiosk) -> None:
        self.qtbot, self.window, self.kiosk = qtbot, window, kiosk
        self.pad = kiosk.services.pinpad_simulator

    def sees(self, *needles: str, timeout: float = 30.0) -> None:
        sees(self.qtbot, self.window, *needles, timeout=timeout)

    def touch(self, text: str) -> None:
        def find() -> QPushButton | None:
            return next((b for b in self.window.findChildren(QPushButton)
                         if b.isVisible() and b.isEnabled() and b.text() == text), None)
        self.qtbot.waitUntil(lambda: find() is not None, timeout=30000)
        button = find()
        assert button is not None
        self.qtbot.mouseClick(button, Qt.MouseButton.LeftButton)

    def service(self, key: str) -> None:
        self.qtbot.waitUntil(lambda: self.window.current_page == "home", timeout=10000)
        self.qtbot.mouseClick(self.window.home.service_buttons[key], Qt.MouseButton.LeftButton)

    def types(self, digits: str, mode: str = "pin") -> None:
        self.qtbot.waitUntil(lambda: self.pad.entry_mode == mode, timeout=30000)
        for d in digits:
            self.pad.press(d)
        self.pad.press("enter")

    def end(self) -> None:
        services = self.kiosk.services
        self.qtbot.wait(1000)           # the result screen is spoken (with its personal data withheld)
        self.kiosk.remove_card()
        self.qtbot.waitUntil(lambda: services.card.status is DeviceStatus.NO_MEDIA, timeout=5000)
        if services.session.visit is not None:
            services.session.end_visit(EndReason.FINISHED)
        self.qtbot.waitUntil(lambda: self.window.current_page == "attract", timeout=5000)
        self.qtbot.wait(300)            # let the last prompts reach the sink


def test_no_personal_data_reaches_the_audio_in_any_service(qtbot: Any, make_window: Any, kiosk: Kiosk,
                                                           sink: RecordingSink) -> None:
    services = kiosk.services
    kiosk.camera_shows(LIVE)
    bridge = bridge_for(services)
    window = make_window(core=services.session, bridge=bridge, flows=flow_factories(services))
    visit = Visit(qtbot, window, kiosk)
    personal: list[str] = [GOOD_PIN, "370914", "246813"]
    try:
        # Card status: name, ID number, card number on the result screen.
        id_number, phone = kiosk.person("张建国")
        personal += ["张建国", "张*国", id_number, mask_id_number(id_number), phone or ""]
        kiosk.insert(id_number, "张建国")
        visit.service("card_status")
        visit.sees(zh(M.PIN_TITLE))
        visit.types(GOOD_PIN)
        visit.sees("张*国")
        visit.end()

        # PIN change, with a wrong PIN first (tries left may be said; nothing else).
        id_number, phone = kiosk.person("刘德明")
        personal += ["刘德明", "刘*明", id_number, phone or ""]
        card = kiosk.insert(id_number, "刘德明")
        visit.service("pin_change")
        visit.sees(zh(M.OLD_PIN_TITLE))
        visit.types("111111")
        visit.touch(zh("Try again"))
        visit.types(GOOD_PIN)
        visit.sees(zh(M.NEW_PIN_TITLE))
        visit.types("370914")
        visit.sees(zh(M.NEW_PIN_AGAIN_TITLE))
        visit.types("370914")
        visit.sees(zh(M.PIN_CHANGED_TITLE))
        assert card.pin == "370914"
        visit.end()

        # PIN reset: face check and an SMS code sent to the (masked) phone number.
        id_number, phone = kiosk.person("陈淑芬")
        assert phone is not None
        personal += ["陈淑芬", id_number, phone, phone[-4:]]
        card = kiosk.insert(id_number, "陈淑芬")
        card.tries_left = 0
        visit.service("pin_reset")
        visit.touch(zh(M.CHOICE_RESET))
        visit.touch(zh(M.AGREE))
        visit.sees(zh(M.SMS_TITLE), timeout=60)
        code = kiosk.latest_code(phone)()
        personal.append(code)
        visit.types(code, mode="plain")
        visit.sees(zh(M.NEW_PIN_TITLE))
        visit.types("246813")
        visit.sees(zh(M.NEW_PIN_AGAIN_TITLE))
        visit.types("246813")
        visit.sees(zh(M.PIN_RESET_TITLE))
        visit.end()

        # Retiree certification by ID number: "is this your name: 周*兰?" is asked on screen.
        id_number, _ = kiosk.person("周桂兰")
        personal += ["周桂兰", "周*兰", id_number]
        qtbot.mouseClick(window.attract, Qt.MouseButton.LeftButton)
        visit.service("retiree_certification")
        visit.touch(zh(M.WITHOUT_CARD))
        visit.sees(zh(M.ID_NUMBER_TITLE))
        visit.types(id_number, mode="plain")
        visit.sees("周*兰")
        visit.touch(zh(M.YES_THIS_IS_ME))
        visit.touch(zh(M.AGREE))
        visit.sees(zh(M.CERTIFIED_TITLE), timeout=60)
        visit.end()

        # Real-name registration: bank card number and the phone reserved at the bank.
        id_number, phone = kiosk.person("唐国平", template=None)
        assert phone is not None
        card_number = f"62220202{id_number[-8:]}000"
        personal += ["唐国平", id_number, phone, card_number]
        kiosk.seed_bank_account(bank_code="ICBC", card_number=card_number, name="唐国平", id_number=id_number,
                                phone=phone, kind="debit")
        kiosk.insert(id_number, "唐国平")
        visit.service("real_name")
        visit.touch("中国工商银行")
        visit.touch(zh(M.AGREE))
        visit.sees(zh(M.BANK_CARD_TITLE))
        visit.types(card_number, mode="plain")
        visit.sees(zh(M.PHONE_TITLE))
        visit.types(phone, mode="plain")
        visit.sees(zh(M.SMS_TITLE))
        code = kiosk.latest_code(phone)()
        personal.append(code)
        visit.types(code, mode="plain")
        visit.sees(zh(M.REGISTERED_TITLE))
        visit.end()
    finally:
        services.flows.cancel("test end")
        bridge.detach_all()

    queue = sink.utterances
    assert len(queue) >= 20                                  # every step was spoken
    said = "\n".join(u.text for u in queue)
    leaked = [p for p in personal if p and p in said]
    assert not leaked, f"personal data in the audio queue: {leaked}"
    fixed = {n for language in ("zh_CN", "en") for t in catalog.templates(language) for n in re.findall(r"\d{5,}", t.text)}
    numbers = set(re.findall(r"\d{5,}", said)) - fixed - {"12333"}     # the hotline and the prompts' own examples
    assert not numbers, f"long numbers said: {numbers}"
    for u in queue:
        assert u.engine == "pack" and u.pcm
        if not u.withheld:                      # said whole: it must be known prompts only
            again = composer(u.language).compose(u.text)
            assert again.complete, f"not a known prompt: {u.text!r} ({again.withheld})"
        else:                                   # only the kinds are recorded, never values
            assert all(w.startswith("personal:") or w in ("unknown text", "digits", "date") for w in u.withheld)
    assert sum(1 for u in queue if not u.withheld) >= 15
    withheld = {w for u in queue for w in u.withheld}
    assert "personal:name" in withheld or "personal:phone" in withheld      # the rule was exercised
