"""An on-screen keyboard for the staff's text fields (operator id, password, districts, search) on a
touch kiosk with no physical keyboard. It appears when one of its fields gets focus and types into
that field; its keys never take focus. Not for citizens' PINs (those are typed on the PIN pad)."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QGridLayout, QLineEdit, QPushButton, QWidget

from kiosk.i18n import N_, _
from ui import theme
from ui.widgets.common import button

ROWS = ["1234567890", "qwertyuiop", "asdfghjkl-", "zxcvbnm,._"]
SHIFT = N_("Shift")
SPACE = N_("Space")
BACKSPACE = N_("Delete")
KEY_PX = 64


class OnScreenKeyboard(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.target: QLineEdit | None = None
        self._shift = False
        self.keys: dict[str, QPushButton] = {}
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(6)
        for r, row in enumerate(ROWS):
            for c, char in enumerate(row):
                key = self._key(char)
                key.clicked.connect(lambda _c=False, ch=char: self.type_text(ch.upper() if self._shift else ch))
                grid.addWidget(key, r, c)
        r = len(ROWS)
        for name, col, span, action in (("shift", 0, 2, self.toggle_shift), ("space", 2, 6, lambda: self.type_text(" ")),
                                        ("backspace", 8, 2, self.backspace)):
            key = self._key(name)
            key.clicked.connect(lambda _c=False, a=action: a())
            grid.addWidget(key, r, col, 1, span)
        self.retranslate()
        self.hide()

    def _key(self, name: str) -> QPushButton:
        key = button("secondary", height=KEY_PX)
        key.setMinimumWidth(theme.MIN_TARGET_PX)
        key.setStyleSheet(f"min-height: {KEY_PX}px; padding: 0px;")
        self.keys[name] = key
        return key

    def attach(self, edits: Sequence[QLineEdit]) -> None:
        """Show the keyboard for these fields: focus on one makes it the target."""
        for edit in edits:
            edit.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.FocusIn and isinstance(watched, QLineEdit):
            self.target = watched
            self.show()
        return False

    def type_text(self, text: str) -> None:
        if self.target is not None:
            self.target.insert(text)

    def backspace(self) -> None:
        if self.target is not None:
            self.target.backspace()

    def toggle_shift(self) -> None:
        self._shift = not self._shift
        self.retranslate()

    def retranslate(self) -> None:
        for row in ROWS:
            for char in row:
                self.keys[char].setText(char.upper() if self._shift else char)
        self.keys["shift"].setText(("⇧ " if self._shift else "") + _(SHIFT))
        self.keys["space"].setText(_(SPACE))
        self.keys["backspace"].setText(_(BACKSPACE))
