"""The error screen (outside a step): what happened, what to do next, buttons, the help line."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QVBoxLayout, QWidget

from ui.widgets.common import Text
from ui.widgets.error_panel import ErrorAction, ErrorPanel


class ErrorScreen(QWidget):
    home_requested = Signal()           # back out of the error without a button (the pad's Cancel)

    def __init__(self, hotline: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("screen")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(96, 60, 96, 40)
        self.panel = ErrorPanel(hotline)
        layout.addWidget(self.panel)

    def show_error(self, what_happened: Text, what_to_do: Text, actions: Sequence[ErrorAction],
                   fallback: ErrorAction) -> None:
        self.panel.show_error(what_happened, what_to_do, actions, fallback)

    def retranslate(self) -> None:
        self.panel.retranslate()

    def prompt(self) -> str:
        return self.panel.prompt()

    def reset(self) -> None:
        self.panel.reset()
