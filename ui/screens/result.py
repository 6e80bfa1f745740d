"""The result screen: an icon and words for the outcome (never colour alone), details, next steps."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from kiosk.i18n import N_, _
from ui import theme
from ui.widgets.common import Text, button, label, render

DONE = N_("Done")
NOTICE = N_("Please note")
GO_HOME = N_("Back to home")
FINISH = N_("Finish and take my card")


class ResultScreen(QWidget):
    home_requested = Signal()
    finish_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("screen")
        self._ok = True
        self._title: Text | None = None
        self._message: Text | None = None
        self._details: list[Text] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(96, 40, 96, 40)
        layout.setSpacing(24)
        badge_row = QHBoxLayout()
        self.badge = label("badge-success", wrap=False)
        badge_row.addWidget(self.badge)
        badge_row.addStretch(1)
        layout.addLayout(badge_row)
        self.title_label = label("success-title")
        self.message_label = label()
        layout.addWidget(self.title_label)
        layout.addWidget(self.message_label)
        self.details_box = QVBoxLayout()
        self.details_box.setSpacing(12)
        layout.addLayout(self.details_box)
        layout.addStretch(1)
        row = QHBoxLayout()
        self.home_button = button("secondary")
        self.finish_button = button()
        self.home_button.clicked.connect(self.home_requested)
        self.finish_button.clicked.connect(self.finish_requested)
        row.addWidget(self.home_button)
        row.addStretch(1)
        row.addWidget(self.finish_button)
        layout.addLayout(row)
        self._detail_labels: list[QLabel] = []
        self.retranslate()

    def set_result(self, title: Text, message: Text, details: Sequence[Text] = (), ok: bool = True) -> None:
        """``details`` may hold personal lines (masked ID number...): they are cleared on wipe."""
        self._clear_details()
        self._ok, self._title, self._message, self._details = ok, title, message, list(details)
        for _detail in self._details:
            detail_label = label()
            self.details_box.addWidget(detail_label)
            self._detail_labels.append(detail_label)
        self.retranslate()

    def retranslate(self) -> None:
        icon, word, role = ((theme.ICON_OK, _(DONE), "success") if self._ok
                            else (theme.ICON_INFO, _(NOTICE), "info"))
        self.badge.setProperty("role", f"badge-{role}")
        self.title_label.setProperty("role", "success-title" if self._ok else "title")
        for widget in (self.badge, self.title_label):
            widget.style().unpolish(widget)
            widget.style().polish(widget)
        self.badge.setText(f"{icon} {word}")
        self.title_label.setText(render(self._title))
        self.message_label.setText(render(self._message))
        for detail_label, detail in zip(self._detail_labels, self._details, strict=True):
            detail_label.setText(render(detail))
        self.home_button.setText(_(GO_HOME))
        self.finish_button.setText(_(FINISH))

    def prompt(self) -> str:
        return " ".join(t for t in (render(self._title), render(self._message)) if t)

    def details_text(self) -> str:
        """The detail lines (personal: said only in private audio mode, docs/voice.md)."""
        return " ".join(t for t in (render(d) for d in self._details) if t)

    def reset(self) -> None:
        self._clear_details()
        self._ok, self._title, self._message, self._details = True, None, None, []
        self.retranslate()

    def _clear_details(self) -> None:
        for detail_label in self._detail_labels:
            detail_label.clear()
            self.details_box.removeWidget(detail_label)
            detail_label.setParent(None)
            detail_label.deleteLater()
        self._detail_labels = []
