"""The PIN entry panel (pytest-qt, offscreen): dots and count from KeyEvents, hints, tries left,
large type and touch targets, and the whole path from a key on the simulated pad to the screen."""

from __future__ import annotations

import threading
import time

from pinpad_testkit import PAN
from PySide6.QtCore import Qt

from drivers.pinpad.api import EntryMode, KeyEvent, KeyKind
from drivers.pinpad.factory import PinPadSetup
from kiosk.i18n import set_language
from ui.widgets.pin_entry import EMPTY, FILLED, PinEntryWidget


def _event(kind: KeyKind, count: int, mode: EntryMode = EntryMode.PIN, value: str = "") -> KeyEvent:
    return KeyEvent("pinpad", kind, count, mode, value)


def test_dots_count_and_next_step(qtbot) -> None:  # type: ignore[no-untyped-def]
    set_language("en")
    widget = PinEntryWidget()
    qtbot.addWidget(widget)
    widget.start(EntryMode.PIN, 6, 6, tries_left=None)
    assert widget.dots.text().count(EMPTY) == 6 and "Enter 6 digits" in widget.hint.text()
    assert widget.tries.isHidden()
    for n in range(1, 4):
        widget.on_key_event(_event(KeyKind.DIGIT_HIDDEN, n))
    assert widget.dots.text().count(FILLED) == 3 and widget.dots.text().count(EMPTY) == 3
    assert widget.count_label.text() == "3 of 6 digits entered"
    widget.on_key_event(_event(KeyKind.ENTER, 3))
    assert "Too few digits" in widget.hint.text()
    widget.on_key_event(_event(KeyKind.CLEAR, 0))
    assert widget.dots.text().count(FILLED) == 0
    for n in range(1, 7):
        widget.on_key_event(_event(KeyKind.DIGIT_HIDDEN, n))
    assert "Press Enter" in widget.hint.text()
    assert not any(ch.isdigit() for ch in widget.dots.text())


def test_tries_left_and_chinese_texts(qtbot) -> None:  # type: ignore[no-untyped-def]
    set_language("zh_CN")
    try:
        widget = PinEntryWidget()
        qtbot.addWidget(widget)
        widget.start(EntryMode.PIN, 6, 6, tries_left=2)
        assert widget.title.text() == "请在密码键盘上输入社保卡密码"
        assert widget.tries.text() == "本卡密码还可尝试 2 次" and not widget.tries.isHidden()
        widget.on_key_event(_event(KeyKind.DIGIT_HIDDEN, 1))
        assert widget.count_label.text() == "已输入 1 位，共 6 位"
    finally:
        set_language("en")


def test_plain_mode_shows_the_digits(qtbot) -> None:  # type: ignore[no-untyped-def]
    set_language("en")
    widget = PinEntryWidget()
    qtbot.addWidget(widget)
    widget.start(EntryMode.PLAIN, 11, 11)
    for i, d in enumerate("138", start=1):
        widget.on_key_event(_event(KeyKind.DIGIT, i, EntryMode.PLAIN, d))
    widget.on_key_event(_event(KeyKind.BACKSPACE, 2, EntryMode.PLAIN))
    assert widget.dots.text() == "13" and widget.count_label.text() == "2 of 11 digits entered"


def test_large_type_and_touch_targets(qtbot) -> None:  # type: ignore[no-untyped-def]
    widget = PinEntryWidget(show_keypad=True)
    qtbot.addWidget(widget)
    widget.resize(1000, 1000)
    widget.show()
    qtbot.waitExposed(widget)
    for label in (widget.count_label, widget.hint, widget.tries, widget.dots):
        label.ensurePolished()
        assert label.font().pixelSize() >= 32, label.objectName()
    widget.title.ensurePolished()
    assert widget.title.font().pixelSize() >= 48
    assert set(widget.keys) == {*"0123456789", "enter", "cancel", "clear", "backspace"}
    for key in widget.keys.values():
        assert key.height() >= 60 and key.width() >= 60
    pressed: list[str] = []
    widget.key_requested.connect(pressed.append)
    qtbot.mouseClick(widget.keys["7"], Qt.MouseButton.LeftButton)
    assert pressed == ["7"]
    assert not widget.keys["enter"].isEnabled()      # nothing typed yet


def test_events_from_another_thread_arrive_queued(qtbot) -> None:  # type: ignore[no-untyped-def]
    widget = PinEntryWidget()
    qtbot.addWidget(widget)
    widget.start(EntryMode.PIN, 4, 6)
    seen_on: list[bool] = []
    widget.add_echo_listener(lambda _n: seen_on.append(threading.current_thread() is threading.main_thread()))
    worker = threading.Thread(target=lambda: [widget.feed(_event(KeyKind.DIGIT_HIDDEN, n)) for n in (1, 2)])
    worker.start()
    worker.join()
    assert widget.count == 0              # nothing is drawn from the worker thread itself
    qtbot.waitUntil(lambda: widget.count == 2, timeout=2000)
    assert seen_on == [True, True]


def test_key_on_the_simulated_pad_reaches_the_screen(qtbot, pad: PinPadSetup) -> None:  # type: ignore[no-untyped-def]
    widget = PinEntryWidget()
    qtbot.addWidget(widget)
    widget.start(EntryMode.PIN, 6, 6)
    handle = pad.service.start_pin_entry(PAN, timeout_s=5).on_event(widget.listener())
    sim = pad.simulator
    assert sim is not None
    end = time.monotonic() + 3
    while sim.entry_mode != "pin":
        assert time.monotonic() < end
        time.sleep(0.005)
    sim.type_keys("123")
    qtbot.waitUntil(lambda: widget.count == 3, timeout=2000)
    assert widget.dots.text().count(FILLED) == 3
    handle.cancel()
    assert not handle.wait(5).ok


def test_keyboard_feeds_pad_keys_in_the_demo(qtbot) -> None:  # type: ignore[no-untyped-def]
    widget = PinEntryWidget(keyboard_keys=True)
    qtbot.addWidget(widget)
    pressed: list[str] = []
    widget.key_requested.connect(pressed.append)
    qtbot.keyClicks(widget, "42")
    qtbot.keyClick(widget, Qt.Key.Key_Backspace)
    qtbot.keyClick(widget, Qt.Key.Key_Return)
    qtbot.keyClick(widget, Qt.Key.Key_Escape)
    qtbot.keyClick(widget, Qt.Key.Key_A)
    assert pressed == ["4", "2", "backspace", "enter", "cancel"]
    plain = PinEntryWidget()
    qtbot.addWidget(plain)
    got: list[str] = []
    plain.key_requested.connect(got.append)
    qtbot.keyClicks(plain, "7")
    assert got == []                      # off by default: a real kiosk has no keyboard
