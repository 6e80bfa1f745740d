"""What went wrong and what to do next: used by the error screen and by the step layout.

Every failure a citizen sees says what to do next. The panel refuses an empty "what to do",
always offers at least one button, and always ends with the standing help line (service
counter or the 12333 hotline), so even an unexpected error leaves the person a way forward.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PySide6.QtWidgets import QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from kiosk.i18n import N_, _
from ui import theme
from ui.widgets.common import Text, button, label, render


@dataclass(frozen=True)
class ErrorAction:
    """A button on an error: its label and what it does (on the UI thread)."""

    label: Text
    on_click: Callable[[], None]
    primary: bool = True


# Standard labels flows should reuse, so the same action reads the same everywhere.
RETRY = N_("Try again")
OTHER_CARD = N_("Use another card")
GO_HOME = N_("Back to home")
FINISH = N_("Finish and take my card")
COUNTER_HINT = N_("Please go to the counter with your ID card.")
HELP_LINE = N_("Need help? Go to a service counter or call {hotline}.")


class ErrorPanel(QWidget):
    def __init__(self, hotline: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._hotline = hotline
        self._what: Text | None = None
        self._todo: Text | None = None
        self._actions: list[ErrorAction] = []
        layout = QVBoxLayout(self)
        layout.setSpacing(28)
        self._badge = label("badge-error", wrap=False)
        self._what_label = label("error-title")
        self._todo_label = label()
        self._help_label = label("muted")
        self._buttons_row = QHBoxLayout()
        self._buttons_row.setSpacing(32)
        self._buttons: list[QPushButton] = []
        badge_row = QHBoxLayout()
        badge_row.addWidget(self._badge)
        badge_row.addStretch(1)
        layout.addLayout(badge_row)
        layout.addWidget(self._what_label)
        layout.addWidget(self._todo_label)
        layout.addStretch(1)
        layout.addLayout(self._buttons_row)
        layout.addWidget(self._help_label)
        self.retranslate()

    def show_error(self, what_happened: Text, what_to_do: Text, actions: Sequence[ErrorAction],
                   fallback: ErrorAction) -> None:
        """``fallback`` is used when ``actions`` is empty: a person is never left without a button."""
        if not render(what_to_do).strip():
            raise ValueError("an error shown to a citizen must say what to do next (what_to_do is empty)")
        self._what, self._todo = what_happened, what_to_do
        self._actions = list(actions) or [fallback]
        self._clear_buttons()
        for action in self._actions:
            btn = button("" if action.primary else "secondary")
            btn.clicked.connect(action.on_click)
            self._buttons_row.addWidget(btn)
            self._buttons.append(btn)
        self._buttons_row.addStretch(1)
        self.retranslate()

    @property
    def buttons(self) -> list[QPushButton]:
        return list(self._buttons)

    def retranslate(self) -> None:
        self._badge.setText(f"{theme.ICON_ERROR} {_('Something went wrong')}")
        self._what_label.setText(render(self._what))
        self._todo_label.setText(render(self._todo))
        self._help_label.setText(_(HELP_LINE).format(hotline=self._hotline))
        for btn, action in zip(self._buttons, self._actions, strict=True):
            btn.setText(render(action.label))

    def prompt(self) -> str:
        return " ".join(t for t in (render(self._what), render(self._todo)) if t)

    def reset(self) -> None:
        self._what = self._todo = None
        self._actions = []
        self._clear_buttons()
        self.retranslate()

    def _clear_buttons(self) -> None:
        while self._buttons_row.count():
            self._buttons_row.takeAt(0)
        for old in self._buttons:
            old.setParent(None)
            old.deleteLater()
        self._buttons = []

