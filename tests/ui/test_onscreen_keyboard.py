"""The staff's on-screen keyboard (field profile: operator id, password, districts, search)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit, QVBoxLayout, QWidget

from kiosk import i18n
from ui.widgets.onscreen_keyboard import OnScreenKeyboard


def test_keyboard_appears_on_focus_and_types_into_the_focused_field(qtbot: Any) -> None:
    host = QWidget()
    qtbot.addWidget(host)
    box = QVBoxLayout(host)
    user, password = QLineEdit(), QLineEdit()
    password.setEchoMode(QLineEdit.EchoMode.Password)
    keyboard = OnScreenKeyboard()
    keyboard.attach([user, password])
    for widget in (user, password, keyboard):
        box.addWidget(widget)
    host.show()
    qtbot.waitExposed(host)
    assert keyboard.isHidden()                          # nothing to type into yet
    user.setFocus()
    qtbot.waitUntil(keyboard.isVisible, timeout=2000)
    for name in ("o", "p", "-", "7"):
        qtbot.mouseClick(keyboard.keys[name], Qt.MouseButton.LeftButton)
    assert user.text() == "op-7" and user.hasFocus()    # the keys never take the focus
    password.setFocus()
    qtbot.waitUntil(lambda: keyboard.target is password, timeout=2000)
    qtbot.mouseClick(keyboard.keys["shift"], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(keyboard.keys["a"], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(keyboard.keys["shift"], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(keyboard.keys["b"], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(keyboard.keys["backspace"], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(keyboard.keys["c"], Qt.MouseButton.LeftButton)
    assert password.text() == "Ac" and user.text() == "op-7"
    i18n.set_language("zh_CN")
    keyboard.retranslate()
    assert keyboard.keys["space"].text() == "空格"
