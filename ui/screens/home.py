"""The home screen: the services as large buttons, plus "finish" to end the visit."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from kiosk.i18n import N_, _
from ui import theme
from ui.qt_compat import emit
from ui.services import SERVICES
from ui.widgets.common import button, label

CHOOSE = N_("Please choose a service")
CHOOSE_HINT = N_("Touch a large button below. You can cancel at any step.")
CARD_IN = N_("Your card is in the reader.")
FINISH = N_("Finish")
COMPACT_BUTTON_HEIGHT = 146


class ServiceButton(QPushButton):
    """A large button with the service's name and, below it, one line on what it is for."""

    def __init__(self, parent: QWidget | None = None, *, compact: bool = False) -> None:
        super().__init__(parent)
        self.setProperty("role", "service")
        height = COMPACT_BUTTON_HEIGHT if compact else theme.SERVICE_BUTTON_HEIGHT
        if compact:
            self.setStyleSheet(f"QPushButton {{ min-height: {height}px; }}")   # not its labels
        self.setMinimumHeight(height)
        self.setMinimumWidth(760)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        box = QVBoxLayout(self)
        box.setContentsMargins(40, 6 if compact else 16, 40, 6 if compact else 16)
        box.setSpacing(6)
        self.title_label = label("service-title", wrap=False)
        self.subtitle_label = label("service-subtitle")
        for part in (self.title_label, self.subtitle_label):
            part.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
            box.addWidget(part)

    def set_texts(self, title: str, subtitle: str) -> None:
        self.title_label.setText(title)
        self.subtitle_label.setText(subtitle)
        self.setAccessibleName(title)


class HomeScreen(QWidget):
    service_chosen = Signal(str)
    finish_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("screen")
        self._card_present = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(96, 40, 96, 40)
        layout.setSpacing(24)
        self.title_label = label("title")
        self.hint_label = label("muted")
        title_row = QHBoxLayout()
        title_row.addWidget(self.title_label, 1)
        layout.addLayout(title_row)
        layout.addWidget(self.hint_label)
        grid = QGridLayout()
        # Seven services or more take four rows: lower buttons (far above the touch minimum) and
        # tighter margins, so that every service still fits 1080 px above the bottom notices.
        compact = len(SERVICES) > 6
        if compact:
            layout.setContentsMargins(96, 24, 96, 24)
            layout.setSpacing(16)
        grid.setSpacing(12 if compact else 32)
        self.service_buttons: dict[str, ServiceButton] = {}
        for i, spec in enumerate(SERVICES):
            btn = ServiceButton(compact=compact)
            btn.clicked.connect(lambda _checked=False, key=spec.key: emit(self.service_chosen, key))
            grid.addWidget(btn, i // 2, i % 2)
            self.service_buttons[spec.key] = btn
        # "Finish" takes the free sixth cell: everything fits 1080 px without scrolling.
        self.finish_button = button("secondary")
        self.finish_button.clicked.connect(self.finish_requested)
        if len(SERVICES) % 2:
            grid.addWidget(self.finish_button, len(SERVICES) // 2, len(SERVICES) % 2,
                           Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignBottom)
        else:   # no free cell: beside the title, so that every service still fits 1080 px
            title_row.addWidget(self.finish_button, 0, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        layout.addLayout(grid)
        layout.addStretch(1)
        self.retranslate()

    def set_card_present(self, present: bool) -> None:
        self._card_present = present
        self.retranslate()

    def retranslate(self) -> None:
        self.title_label.setText(_(CHOOSE))
        hint = _(CHOOSE_HINT)
        self.hint_label.setText(f"{theme.ICON_INFO} {_(CARD_IN)} {hint}" if self._card_present else hint)
        for spec in SERVICES:
            # Title and a one-line purpose: the second line helps people who do not know the term.
            self.service_buttons[spec.key].set_texts(_(spec.title), _(spec.subtitle))
        self.finish_button.setText(_(FINISH))

    def prompt(self) -> str:
        return _(CHOOSE)

    def reset(self) -> None:
        self._card_present = False
        self.retranslate()
