"""Helpers for the shell tests: read every text a window shows or holds."""

from __future__ import annotations

from PySide6.QtGui import QFontInfo
from PySide6.QtWidgets import QAbstractButton, QLabel, QLineEdit, QTextEdit, QWidget

DEMO_SECRET = "8888"     # config/profiles/demo.toml documents it


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def visible_texts(root: QWidget) -> list[str]:
    """Every text a person could see in ``root``'s tree right now."""
    texts = []
    for widget in [root, *root.findChildren(QWidget)]:
        if not widget.isVisible():
            continue
        if isinstance(widget, (QLabel, QAbstractButton, QLineEdit)):
            texts.append(widget.text())
        elif isinstance(widget, QTextEdit):
            texts.append(widget.toPlainText())
    return [t for t in texts if t]


def all_texts(root: QWidget) -> list[str]:
    """Every text held anywhere in the tree, visible or not (for the wipe checks)."""
    texts = [root.windowTitle()]
    for widget in [root, *root.findChildren(QWidget)]:
        texts += [widget.toolTip(), widget.accessibleName(), widget.accessibleDescription(),
                  widget.windowTitle(), widget.statusTip(), widget.whatsThis()]
        if isinstance(widget, (QLabel, QAbstractButton, QLineEdit)):
            texts.append(widget.text())
        if isinstance(widget, QLineEdit):
            texts.append(widget.placeholderText())
        if isinstance(widget, QTextEdit):
            texts.append(widget.toPlainText())
    return [t for t in texts if t]


TITLE_ROLES = {"title", "hero", "error-title", "success-title", "service-title"}


def check_screen(window, name: str) -> int:
    """Font sizes, target sizes and clipping of everything visible; returns how many were checked."""
    checked = 0
    for widget in window.findChildren(QWidget):
        if not widget.isVisible() or widget.window() is not window:
            continue
        if isinstance(widget, QLabel) and widget.text():
            px = QFontInfo(widget.font()).pixelSize()
            assert px >= 32, (name, widget.text(), px)
            if widget.property("role") in TITLE_ROLES:
                assert px >= 48, (name, widget.text(), px)
            if widget.wordWrap():
                assert widget.heightForWidth(widget.width()) <= widget.height() + 2, (name, "clipped", widget.text())
            else:
                assert widget.sizeHint().width() <= widget.width() + 2, (name, "clipped", widget.text())
            checked += 1
        if isinstance(widget, QAbstractButton):
            assert widget.height() >= 60 and widget.width() >= 60, (name, widget.text(), widget.size())
            if widget.text():
                assert QFontInfo(widget.font()).pixelSize() >= 32, (name, widget.text())
                if widget.layout() is None:      # a plain button: its label must fit
                    assert widget.sizeHint().width() <= widget.width() + 2, (name, "clipped", widget.text())
            checked += 1
    return checked
