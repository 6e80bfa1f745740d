"""Small helpers shared by screens: translatable text sources, labels and buttons with roles.

A :data:`Text` is either an English msgid (translated with ``_()`` each time it is shown, so a
language switch re-renders it) or a zero-argument callable returning the finished string (for
formatted text such as "3 tries left"). Screens keep the *source*, never only the rendered
string, so ``retranslate()`` can redraw everything live.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QPushButton, QSizePolicy, QWidget

from kiosk.i18n import _
from ui import theme

Text = str | Callable[[], str]


def render(text: Text | None) -> str:
    if text is None:
        return ""
    return text() if callable(text) else _(text)


def label(role: str = "", *, wrap: bool = True, align: Qt.AlignmentFlag | None = None,
          parent: QWidget | None = None) -> QLabel:
    widget = QLabel(parent)
    if role:
        widget.setProperty("role", role)
    widget.setWordWrap(wrap)
    widget.setTextFormat(Qt.TextFormat.PlainText)   # text from flows is never interpreted as HTML
    if align is not None:
        widget.setAlignment(align)
    return widget


def button(role: str = "", *, height: int = theme.BUTTON_HEIGHT, parent: QWidget | None = None) -> QPushButton:
    widget = QPushButton(parent)
    if role:
        widget.setProperty("role", role)
    widget.setMinimumHeight(max(height, theme.MIN_TARGET_PX))
    widget.setMinimumWidth(theme.MIN_TARGET_PX * 3)
    widget.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
    widget.setFocusPolicy(Qt.FocusPolicy.NoFocus)     # touch screen: no stray focus rings
    widget.setAutoDefault(False)
    return widget


def screen_widget(parent: QWidget | None = None) -> QWidget:
    widget = QWidget(parent)
    widget.setObjectName("screen")
    return widget
