"""The PIN entry panel: dots for the digits typed on the pad, their count, what to press next, and
the card's remaining tries when known. In plain mode (phone numbers, SMS codes) the digits show.

Fed by drivers.pinpad.api.KeyEvent objects: call :meth:`PinEntryWidget.feed` from any thread (the
pad's worker thread calls it); the event goes through a thread-safe queue and the application-wide
dispatcher (``ui.dispatch``) to the GUI thread (the pad's worker never touches a widget). Signals
go through ``ui.qt_compat.emit`` like everywhere in ui/ (PySide6 6.12.0 dropped a reference on every
emit; the pinned 6.11.3 does not, tests/core/test_qt_refcount.py, and the helper is then a plain emit).
The widget never learns a PIN digit: PIN-mode events carry only "a digit was pressed" and the count.

Self-contained: explicit pixel sizes (body >= 32 px, title >= 48 px, touch targets >= 60 px) so it
reads the same with or without the shell's style sheet. The on-screen keypad is off by default; the
demo turns it on and connects ``key_requested`` to the simulator's ``press``.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Callable

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QGridLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from drivers.pinpad.api import EntryMode, KeyEvent, KeyKind
from kiosk.i18n import _
from kiosk.messages.pinpad import PIN_SHIELD_HINT, PIN_TITLE, PLAIN_TITLE
from ui import dispatch
from ui.qt_compat import emit

BODY_PX = 36
TITLE_PX = 52
DOTS_PX = 72
TARGET_PX = 96          # on-screen keys: well above the 60 px minimum
FILLED, EMPTY = "●", "○"
TEXT, MUTED, PRIMARY, ERROR = "#1A1A1A", "#3D4651", "#0B4F9C", "#A4161A"

KEYPAD_LAYOUT = [["1", "2", "3"], ["4", "5", "6"], ["7", "8", "9"], ["clear", "0", "backspace"],
                 ["cancel", "enter"]]


class PinEntryWidget(QWidget):
    key_requested = Signal(str)             # on-screen key pressed: "0".."9", "enter", "cancel"...

    def __init__(self, parent: QWidget | None = None, *, show_keypad: bool = False,
                 keyboard_keys: bool = False) -> None:
        """``show_keypad``: on-screen keys; ``keyboard_keys``: the PC keyboard's digits, Enter,
        Esc, Backspace and Delete also come out of ``key_requested`` (demo profile only: a real
        kiosk has no keyboard and PINs go to the EPP)."""
        super().__init__(parent)
        self._keyboard_keys = keyboard_keys
        if keyboard_keys:
            self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setObjectName("pinEntry")
        self._mode = EntryMode.PIN
        self.pin_title = PIN_TITLE          # msgid over the dots; the e-card PIN has its own
        self._min_len, self._max_len = 6, 6
        self._count = 0
        self._plain: list[str] = []
        self._tries_left: int | None = None
        self._last_kind: KeyKind | None = None
        self.last_echo_at = 0.0
        self._inbox: queue.SimpleQueue[KeyEvent] = queue.SimpleQueue()
        self._echo_listeners: list[Callable[[int], None]] = []

        self.title = self._label(TITLE_PX, bold=True)
        self.dots = self._label(DOTS_PX, color=PRIMARY)
        self.dots.setWordWrap(False)        # one line of dots or digits, never broken in two
        self.dots.setAccessibleName("digits entered")
        self.count_label = self._label(BODY_PX)
        self.hint = self._label(BODY_PX, color=MUTED)
        self.tries = self._label(BODY_PX, color=ERROR, bold=True)
        layout = QVBoxLayout(self)
        layout.setSpacing(18)         # 24 left a two-line English hint 4 px short at 1080 px
        for widget in (self.title, self.dots, self.count_label, self.hint, self.tries):
            layout.addWidget(widget)
        self.keys: dict[str, QPushButton] = {}
        if show_keypad:
            layout.addLayout(self._keypad())
        self._render()

    # -- building ------------------------------------------------------------------------------
    @staticmethod
    def _set(label: QLabel, text: str) -> None:
        if label.text() != text:          # every void Qt call costs a None reference (see above)
            label.setText(text)

    def _label(self, px: int, *, bold: bool = False, color: str = TEXT) -> QLabel:
        widget = QLabel(self)
        widget.setTextFormat(Qt.TextFormat.PlainText)
        widget.setWordWrap(True)
        widget.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        widget.setStyleSheet(f"font-size: {px}px; color: {color};{' font-weight: bold;' if bold else ''}")
        return widget

    def _keypad(self) -> QGridLayout:
        grid = QGridLayout()
        grid.setSpacing(16)
        for row, names in enumerate(KEYPAD_LAYOUT):
            for col, name in enumerate(names):
                key = QPushButton(self)
                key.setMinimumSize(TARGET_PX, TARGET_PX)
                key.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
                key.setFocusPolicy(Qt.FocusPolicy.NoFocus)
                key.setStyleSheet(f"font-size: {BODY_PX}px; min-height: {TARGET_PX}px;")
                key.clicked.connect(lambda _checked=False, n=name: emit(self.key_requested, n))
                self.keys[name] = key
                if len(names) == 3:
                    grid.addWidget(key, row, col)
                else:                   # the last row: Cancel, then a wide Enter
                    grid.addWidget(key, row, 0 if col == 0 else 1, 1, 1 if col == 0 else 2)
        return grid

    def keyPressEvent(self, event: QKeyEvent) -> None:
        name = key_name_for(event.key(), event.text()) if self._keyboard_keys else None
        if name is None:
            super().keyPressEvent(event)
            return
        emit(self.key_requested, name)
        event.accept()

    # -- state -----------------------------------------------------------------------------------
    def start(self, mode: EntryMode = EntryMode.PIN, min_len: int = 6, max_len: int = 6,
              tries_left: int | None = None) -> None:
        """Show an empty entry; call before the pad's entry command starts."""
        self._mode, self._min_len, self._max_len = mode, min_len, max_len
        self._tries_left = tries_left
        self.clear()

    def set_tries_left(self, tries_left: int | None) -> None:
        self._tries_left = tries_left
        self._render()

    def clear(self) -> None:
        self._count = 0
        self._plain.clear()
        self._last_kind = None
        self._render()

    @property
    def count(self) -> int:
        return self._count

    @property
    def last_kind(self) -> KeyKind | None:
        """The kind of the last key shown (the eyes-free visit: Clear with nothing typed repeats)."""
        return self._last_kind

    def feed(self, event: KeyEvent) -> None:
        """Thread-safe: hand a KeyEvent over to the GUI thread."""
        self._inbox.put(event)
        # Through the long-lived dispatcher, never invokeMethod on this widget: the widget may be
        # deleted (its step ended) while the pad's thread posts, and Qt would touch freed memory.
        dispatch.post(lambda: self._drain_inbox() if dispatch.alive(self) else None)

    @Slot()
    def _drain_inbox(self) -> None:
        while True:
            try:
                event = self._inbox.get_nowait()
            except queue.Empty:
                return
            self.on_key_event(event)

    def add_echo_listener(self, listener: Callable[[int], None]) -> None:
        """Called on the GUI thread with the digit count each time a key event has been shown."""
        self._echo_listeners.append(listener)

    def listener(self) -> Callable[[object], None]:
        """A device listener (handle.on_event / service.subscribe) that forwards KeyEvents."""
        def forward(event: object) -> None:
            if isinstance(event, KeyEvent):
                self.feed(event)
        return forward

    def on_key_event(self, event: KeyEvent) -> None:
        """GUI thread only (tests may call it directly)."""
        kind = event.kind
        if kind is KeyKind.DIGIT and self._mode is EntryMode.PLAIN:
            self._plain.append(event.value)
        elif kind is KeyKind.CLEAR:
            self._plain.clear()
        elif kind is KeyKind.BACKSPACE and self._plain:
            self._plain.pop()
        self._count = event.count
        self._last_kind = kind
        self._render()
        self.last_echo_at = time.perf_counter()
        for listener in self._echo_listeners:
            listener(self._count)

    def retranslate(self) -> None:
        self._render()

    # -- drawing ---------------------------------------------------------------------------------
    def _render(self) -> None:
        pin = self._mode is EntryMode.PIN
        self._set(self.title, _(self.pin_title) if pin else _(PLAIN_TITLE))
        if pin:
            slots = max(self._max_len, self._count)
            self._set(self.dots, " ".join([FILLED] * self._count + [EMPTY] * (slots - self._count)))
        else:
            self._set(self.dots, group_digits("".join(self._plain), self._max_len) or " ")
        # The dots or digits never wrap: the layout must give them their width (else they are cut).
        self.dots.setMinimumWidth(self.dots.sizeHint().width())
        if self._min_len == self._max_len:
            count = _("{count} of {total} digits entered").format(count=self._count, total=self._max_len)
        else:   # a bank card: 16 to 19 digits; "of 19" beside "16 more" contradicted itself
            count = _("{count} digits entered ({min} to {max})").format(
                count=self._count, min=self._min_len, max=self._max_len)
        self._set(self.count_label, count)
        self._set(self.hint, self._next_step(pin))
        tries = "" if self._tries_left is None else _("Tries left on this card: {n}").format(n=self._tries_left)
        self._set(self.tries, tries)
        if self.tries.isHidden() == bool(tries):
            self.tries.setVisible(bool(tries))
        enter = self.keys.get("enter")
        if enter is not None and enter.isEnabled() != (self._count >= self._min_len):
            enter.setEnabled(self._count >= self._min_len)
        for name, key in self.keys.items():
            if key.text() != _key_text(name):
                key.setText(_key_text(name))

    def _next_step(self, pin: bool) -> str:
        if self._last_kind is KeyKind.ENTER and self._count < self._min_len:
            return _("Too few digits. Enter at least {n} digits.").format(n=self._min_len)
        if self._count == 0:        # nothing typed yet: not "more"
            text = (_("Enter {n} digits.").format(n=self._min_len) if self._min_len == self._max_len
                    else _("Enter {min} to {max} digits.").format(min=self._min_len, max=self._max_len))
            return f"{text} {_(PIN_SHIELD_HINT)}" if pin else text
        if self._count < self._min_len:
            remaining = self._min_len - self._count
            text = _("Enter {n} more digits.").format(n=remaining)
            return f"{text} {_(PIN_SHIELD_HINT)}" if pin and self._count == 0 else text
        if self._count < self._max_len:
            return _("Press Enter (确认) when done, or type more digits.")
        return _("Press Enter (确认) to continue, or Clear (更正) to start again.")


def group_digits(digits: str, length: int) -> str:
    """Long numbers in groups, as printed on cards and phones: 11 digits (a mobile number) 3-4-4,
    18 (an ID number) 6-8-4, others (bank cards, codes over 8) in fours; short codes as they are."""
    if len(digits) <= 8 and length <= 8:
        return digits
    sizes = [3, 4, 4] if length == 11 else [6, 8, 4] if length == 18 else [4] * ((len(digits) + 3) // 4)
    groups, start = [], 0
    for size in sizes:
        if start >= len(digits):
            break
        groups.append(digits[start:start + size])
        start += size
    if start < len(digits):
        groups.append(digits[start:])
    return " ".join(groups)


def _key_text(name: str) -> str:
    return {"enter": _("Enter"), "cancel": _("Cancel"), "clear": _("Clear"),
            "backspace": _("Backspace")}.get(name, name)


_QT_KEYS = {Qt.Key.Key_Return: "enter", Qt.Key.Key_Enter: "enter", Qt.Key.Key_Escape: "cancel",
            Qt.Key.Key_Backspace: "backspace", Qt.Key.Key_Delete: "clear"}


def key_name_for(key: int, text: str = "") -> str | None:
    """The pad key name ("0".."9", "enter", "cancel", "backspace", "clear") for a Qt key, or None."""
    if len(text) == 1 and text.isdigit() and text.isascii():
        return text
    try:
        return _QT_KEYS.get(Qt.Key(key))
    except ValueError:                    # not a key Qt names
        return None
