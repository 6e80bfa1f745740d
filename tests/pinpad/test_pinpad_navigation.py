"""The eyes-free navigation command: every key of the real pad driver, over the simulator's pty, as
an event with its value; it runs until canceled, and an entry submitted meanwhile waits for it."""

from __future__ import annotations

import threading
import time
from typing import Any

from waiting import wait_until

from drivers.api import CompletionCode
from drivers.pinpad.api import EntryMode, KeyEvent, KeyKind
from drivers.pinpad.factory import PinPadSetup


def test_navigation_reports_every_key_until_canceled(pad: PinPadSetup) -> None:
    events: list[KeyEvent] = []
    got = threading.Event()

    def listen(event: Any) -> None:
        if isinstance(event, KeyEvent):
            events.append(event)
            got.set()

    handle = pad.service.start_navigation(timeout_s=30).on_event(listen)
    wait_until(lambda: pad.simulator.entry_mode == "plain", 5)
    for key in ("8", "2", "0", "enter", "cancel", "clear", "5"):
        pad.simulator.press(key)
    wait_until(lambda: len(events) == 7, 5)
    assert [(e.kind, e.value) for e in events] == [
        (KeyKind.DIGIT, "8"), (KeyKind.DIGIT, "2"), (KeyKind.DIGIT, "0"), (KeyKind.ENTER, ""),
        (KeyKind.CANCEL, ""), (KeyKind.CLEAR, ""), (KeyKind.DIGIT, "5")]
    assert all(e.mode is EntryMode.PLAIN and e.count == 0 for e in events)
    assert not handle.done                       # Enter and Cancel do not end it: the host does
    handle.cancel()
    assert handle.wait(5).code is CompletionCode.CANCELED
    wait_until(lambda: pad.simulator.entry_mode != "plain", 5)     # the keypad is closed again


def test_an_entry_waits_for_navigation_to_be_canceled(pad: PinPadSetup) -> None:
    nav = pad.service.start_navigation(timeout_s=30)
    wait_until(lambda: pad.simulator.entry_mode == "plain", 5)
    entry = pad.service.start_plain_entry(4, timeout_s=10, min_len=4, auto_end=True)
    pad.simulator.press("1")                     # still navigation's: not typed into the entry
    time.sleep(0.3)
    assert not entry.done and not nav.done
    nav.cancel()
    assert nav.wait(5).code is CompletionCode.CANCELED
    wait_until(lambda: pad.simulator.entry_mode == "plain", 5)
    for digit in "4321":
        pad.simulator.press(digit)
    done = entry.wait(5)
    assert done.ok and done.result == "4321"
