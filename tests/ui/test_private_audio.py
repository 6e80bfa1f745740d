"""Private audio mode, both directions: headphones plugged into the socket (the real evdev driver
reading the simulator's input-event records through the device bridge) let the voice say the
personal details of a result; pulling them out stops whatever is being said at once, says so
publicly, and nothing private is said after it, not even a prompt already rendered."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from alsafixture import alsa_null  # noqa: F401  (fixture)

from drivers.headphone.factory import HeadphoneSetup, create_headphone_jack
from kiosk import i18n
from kiosk.messages import eyes_free as E
from kiosk.messages import flows as M
from ui.main import bridge_for_devices
from ui.voice import AudioSink, RecordingSink, load_pack, make_prompter
from ui.widgets.common import Text

pytestmark = pytest.mark.gui

DETAILS: list[Text] = [lambda: f"{i18n._(M.LABEL_NAME)}：张*明",
                       lambda: f"{i18n._(M.LABEL_ID_NUMBER)}：4401**********4324"]


@pytest.fixture
def jack() -> Iterator[HeadphoneSetup]:
    setup = create_headphone_jack("simulator")
    try:
        yield setup
    finally:
        setup.close()


def show_result(window: Any) -> None:
    window.result.set_result(M.STATUS_TITLE, M.STATE_MESSAGE["normal"], DETAILS, ok=True)
    window.show_page("result")


def private_words(text: str) -> bool:
    return any(w in text for w in ("张某某", "尾号", "四三二四"))


def test_plugging_in_and_pulling_out(qtbot: Any, make_window: Any, sink: RecordingSink, jack: HeadphoneSetup) -> None:
    assert jack.service is not None and jack.simulator is not None
    bridge = bridge_for_devices({"headphones": jack.service})
    window = make_window(bridge=bridge)
    try:
        show_result(window)
        qtbot.waitUntil(lambda: any(i18n._(M.STATUS_TITLE) in t for t in sink.texts), timeout=5000)
        assert not any(private_words(t) for t in sink.texts)          # public hall: details withheld

        jack.simulator.plug()                                          # -> HeadphonesChanged(True)
        qtbot.waitUntil(lambda: window.prompter.private, timeout=5000)
        qtbot.waitUntil(lambda: any(u.private for u in sink.utterances), timeout=5000)
        said = next(u for u in sink.utterances if u.private)
        assert i18n._(E.PRIVATE_ON) in said.text and i18n._(E.KEY_MAP) in said.text
        assert "张某某" in said.text and "尾号四三二四" in said.text and "4401" not in said.text

        stops, count = sink.stops, len(sink.utterances)
        jack.simulator.unplug()                                        # -> HeadphonesChanged(False)
        qtbot.waitUntil(lambda: not window.prompter.private, timeout=5000)
        assert sink.stops > stops                                      # the private sentence is cut at once
        qtbot.waitUntil(lambda: len(sink.utterances) > count, timeout=5000)
        after = sink.utterances[count:]
        assert i18n._(E.PRIVATE_OFF) in after[0].text and i18n._(M.STATUS_TITLE) in after[0].text
        assert not any(u.private or private_words(u.text) for u in after)
        window.speak_current()                                         # "repeat": public again
        qtbot.wait(300)
        assert not any(u.private or private_words(u.text) for u in sink.utterances[count:])
    finally:
        bridge.detach_all()


def test_a_private_prompt_rendered_before_the_unplug_is_never_played(qtbot: Any, make_window: Any,
                                                                      sink: RecordingSink) -> None:
    window = make_window()
    prompter = window.prompter
    prompter.set_private(True)
    text = " ".join(d() for d in DETAILS)          # type: ignore[operator]
    for _ in range(5):                             # rendered on the worker, delivered on the GUI thread
        prompter.say(text, "zh_CN")
        time.sleep(0.2)                            # the render finishes; its delivery waits in the queue
        prompter.set_private(False)                # the unplug comes first
        qtbot.wait(200)
        prompter.set_private(True)
    prompter.set_private(False)
    qtbot.wait(300)
    assert not any(u.private for u in sink.utterances)


def test_unplugging_cuts_real_playback(qtbot: Any, make_window: Any, alsa_null: Any) -> None:  # noqa: F811
    """Through aplay on ALSA's null device: the private sentence stops within a chunk."""
    sink = AudioSink("default")
    assert sink.player is not None
    prompter = make_prompter("pack", True, sink, pack_dir=None)
    assert load_pack() is not None
    make_window(prompter=prompter)
    qtbot.waitUntil(lambda: not sink.player.busy, timeout=10000)       # the first screen's prompt is over
    prompter.set_private(True)
    prompter.say(" ".join(d() for d in DETAILS) * 3, "zh_CN")          # type: ignore[operator]
    qtbot.waitUntil(lambda: sink.player is not None and sink.player.busy, timeout=5000)
    played = sink.player.played
    started = time.monotonic()
    prompter.set_private(False)                                        # the unplug
    qtbot.waitUntil(lambda: sink.player is not None and not sink.player.busy, timeout=2000)
    assert time.monotonic() - started < 1.0
    assert sink.player.played == played                                # cut, not finished


def test_the_demo_panel_plugs_headphones_in(qtbot: Any, make_window: Any, jack: HeadphoneSetup) -> None:
    from types import SimpleNamespace

    from ui.demo import PLUG_HEADPHONES, UNPLUG_HEADPHONES, DemoPanel

    assert jack.service is not None and jack.simulator is not None
    bridge = bridge_for_devices({"headphones": jack.service})
    window = make_window(bridge=bridge)
    try:
        panel = DemoPanel(SimpleNamespace(headphone_simulator=jack.simulator), window)
        assert panel.headphones_button.text() == i18n._(PLUG_HEADPHONES)
        panel.headphones_button.click()
        qtbot.waitUntil(lambda: window.prompter.private, timeout=5000)
        assert panel.headphones_button.text() == i18n._(UNPLUG_HEADPHONES)
        panel.headphones_button.click()
        qtbot.waitUntil(lambda: not window.prompter.private, timeout=5000)
    finally:
        bridge.detach_all()
