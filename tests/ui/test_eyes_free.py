"""The eyes-free visit: with headphones plugged into the (simulated) socket, a person who cannot see
the screen completes card status, PIN change and retiree certification by ear, with the PIN pad's
keys only (the real pad driver over its pty simulator): 2/8 move, Enter chooses, 0 repeats, 5 says
the keys, Cancel goes back. The test listens to the audio queue (a RecordingSink behind the real
voice pack) to find its way, like the person would, and asserts what was said and the outcome.

The kiosk is the real demo kiosk of test_services.py (virtual card, PIN pad simulator, still camera
with the real face models, embedded backend)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from service_helpers import (
    GOOD_PIN,
    LIVE,
    Kiosk,
    bridge_for,
    flow_factories,
    kiosk_with_templates,
    screen_text,
    zh,
)

from drivers.api import DeviceStatus
from kiosk.messages import eyes_free as E
from kiosk.messages import flows as M
from kiosk.session import EndReason
from ui.screens.take_card import TAKE_CARD
from ui.voice import RecordingSink

pytestmark = pytest.mark.gui


@pytest.fixture(scope="module")
def kiosk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kiosk]:
    k = kiosk_with_templates(tmp_path_factory.mktemp("eyes-free"), ui={"idle_timeout_s": 120, "countdown_s": 5})
    try:
        yield k
    finally:
        k.services.close()


class Listener:
    """A person with headphones on, hands on the PIN pad, eyes closed."""

    def __init__(self, qtbot: Any, window: Any, kiosk: Kiosk, sink: RecordingSink) -> None:
        self.qtbot, self.window, self.kiosk, self.sink = qtbot, window, kiosk, sink
        self.pad = kiosk.services.pinpad_simulator
        self.jack = kiosk.services.headphone_simulator

    def heard(self, *needles: str, since: int = 0, timeout: float = 30.0) -> str:
        """Wait until one utterance (after ``since``) holds every needle; returns its text."""
        def found() -> str | None:
            return next((u.text for u in self.sink.utterances[since:] if all(n in u.text for n in needles)), None)
        try:
            self.qtbot.waitUntil(lambda: found() is not None, timeout=int(timeout * 1000))
        except Exception:
            said = "\n".join(u.text for u in self.sink.utterances[since:])
            raise AssertionError(f"never heard {needles!r}; heard:\n{said}") from None
        return found() or ""

    def plug(self) -> None:
        self.jack.plug()
        self.qtbot.waitUntil(lambda: self.window.prompter.private, timeout=5000)

    def navigating(self) -> bool:
        return self.window.eyes_free.listening and self.pad.entry_mode == "plain"

    def key(self, name: str) -> None:
        """A navigation key: pressed once the pad listens for one (a real person waits for the voice)."""
        self.qtbot.waitUntil(self.navigating, timeout=30000)
        self.pad.press(name)

    def choose(self, label: str, *, tries: int = 8) -> None:
        """Press 8 until the voice says ``label``, then Enter."""
        for _ in range(tries):
            mark = len(self.sink.utterances)
            self.key("8")
            said = self.heard(zh(E.OPTION_OF).split("{")[0], since=mark)
            if said.endswith(label):
                self.key("enter")
                return
        raise AssertionError(f"never heard the choice {label!r}")

    def types(self, digits: str, mode: str = "pin") -> None:
        self.qtbot.waitUntil(lambda: self.pad.entry_mode == mode and not self.navigating(), timeout=30000)
        for d in digits:
            self.pad.press(d)
        self.pad.press("enter")

    def card_out(self) -> None:
        services = self.kiosk.services
        self.kiosk.remove_card()
        self.qtbot.waitUntil(lambda: services.card.status is DeviceStatus.NO_MEDIA, timeout=5000)
        if services.session.visit is not None:
            services.session.end_visit(EndReason.FINISHED)
        self.qtbot.waitUntil(lambda: self.window.current_page == "attract", timeout=5000)


@pytest.fixture
def person(qtbot: Any, make_window: Any, kiosk: Kiosk, sink: RecordingSink) -> Iterator[Listener]:
    services = kiosk.services
    kiosk.camera_shows(LIVE)
    bridge = bridge_for(services)
    window = make_window(core=services.session, bridge=bridge, flows=flow_factories(services))
    listener = Listener(qtbot, window, kiosk, sink)
    try:
        listener.plug()
        yield listener
    finally:
        services.flows.cancel("test end")
        if kiosk.services.headphone_simulator.plugged:
            kiosk.services.headphone_simulator.unplug()
        qtbot.waitUntil(lambda: not window.prompter.private, timeout=5000)
        if services.card.status is not DeviceStatus.NO_MEDIA:
            kiosk.remove_card()
        bridge.detach_all()


def test_card_status_by_ear(person: Listener, kiosk: Kiosk) -> None:
    person.heard(zh(E.PRIVATE_ON), zh(E.KEY_MAP))            # plugging in: private mode and the key map
    id_number, _ = kiosk.person("张建国")
    kiosk.insert(id_number, "张建国")
    person.heard(zh(E.KEY_MAP), zh("Please choose a service"))   # a new visit: the keys again
    person.key("5")
    person.heard(zh(E.KEY_MAP), since=len(person.sink.utterances))
    person.choose(zh("Card status"))
    person.heard(zh(M.PIN_TITLE))
    mark = len(person.sink.utterances)
    person.types(GOOD_PIN)
    assert person.heard("已输入六位，共六位", since=mark)          # each digit answered in the headphones
    said = person.heard(zh(M.STATUS_TITLE), "张某某", since=mark)  # the result, with its details, privately
    assert "尾号" in said and id_number not in said and "张建国" not in said
    assert "张*国" in screen_text(person.window)
    person.key("0")                                           # say it again
    again = person.heard(zh(M.STATUS_TITLE), "张某某", since=len(person.sink.utterances))
    assert again == said
    person.key("cancel")                                      # back home, then Cancel again: finish
    person.heard(zh("Please choose a service"), since=len(person.sink.utterances))
    mark = len(person.sink.utterances)
    person.key("cancel")
    person.heard(zh(TAKE_CARD), since=mark)                   # the visit ended: the card is handed back
    person.card_out()
    private = [u for u in person.sink.utterances if u.private]
    assert private and all(u.engine == "pack" and u.pcm for u in private)


def test_pin_change_by_ear(person: Listener, kiosk: Kiosk) -> None:
    id_number, _ = kiosk.person("刘德明")
    card = kiosk.insert(id_number, "刘德明")
    person.heard(zh("Please choose a service"))
    person.choose(zh("Change PIN"))
    person.heard(zh(M.OLD_PIN_TITLE))
    person.qtbot.waitUntil(lambda: person.pad.entry_mode == "pin", timeout=30000)
    mark = len(person.sink.utterances)
    person.pad.press("clear")                                 # Clear with nothing typed: say the step again
    person.heard(zh(M.OLD_PIN_TITLE), since=mark)
    person.types("111111")                                    # wrong: the error's choices by ear
    person.heard(zh("Try again"), zh(E.OPTION_OF).split("{")[0])
    person.key("enter")                                       # choice 1 is "try again"
    person.heard(zh(M.OLD_PIN_TITLE), since=len(person.sink.utterances) - 1)
    person.types(GOOD_PIN)
    person.heard(zh(M.NEW_PIN_TITLE))
    person.types("370914")
    person.heard(zh(M.NEW_PIN_AGAIN_TITLE))
    person.types("370914")
    person.heard(zh(M.PIN_CHANGED_TITLE))
    assert card.pin == "370914"
    assert person.window.current_page == "result"
    person.key("cancel")
    person.heard(zh("Please choose a service"), since=len(person.sink.utterances))
    person.card_out()


def test_retiree_certification_by_ear(person: Listener, kiosk: Kiosk) -> None:
    id_number, _ = kiosk.person("周桂兰")
    kiosk.insert(id_number, "周桂兰")
    person.heard(zh("Please choose a service"))
    before = len(kiosk.records())
    person.choose(zh("Retiree certification"))
    person.heard(zh(M.AGREE), zh(E.OPTION_OF).split("{")[0])     # the consent question, its first choice
    person.key("enter")
    said = person.heard(zh(M.CERTIFIED_TITLE), "周某某", timeout=60)
    assert "至" in said and "尾号" in said                      # the period and the number's last four
    certified = [r for r in kiosk.records()[before:] if r["type"] == "certification"]
    assert certified and certified[-1]["payload"]["result"] == "passed"
    person.key("cancel")
    person.heard(zh("Please choose a service"), since=len(person.sink.utterances))
    person.card_out()


def test_cancel_on_the_error_screen_goes_home(person: Listener, kiosk: Kiosk) -> None:
    """Cancel leaves an error the way its screen does (ErrorScreen.home_requested): the visit stays."""
    id_number, _ = kiosk.person("张建国")
    kiosk.insert(id_number, "张建国")
    person.heard(zh("Please choose a service"))
    visit = kiosk.services.session.visit
    person.window.show_error(lambda: zh(M.STATUS_TITLE), lambda: zh("Back to home"))
    assert person.window.current_page == "error"
    mark = len(person.sink.utterances)
    person.key("cancel")
    person.heard(zh("Please choose a service"), since=mark)
    assert person.window.current_page == "home" and kiosk.services.session.visit is visit
    person.card_out()
