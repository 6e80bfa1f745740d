"""The take-your-card screen: shown after every visit that ends with its card still in the reader,
and whenever a card nobody may use is in the reader (left behind, or there at start-up)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QVBoxLayout, QWidget

from kiosk.i18n import N_, _
from ui import theme
from ui.widgets.common import label

TAKE_CARD = N_("Please take your social security card")
TAKE_CARD_SECONDS = N_("Please take the card out of the slot now ({n} s).")
LEFT_CARD = N_("A card is still in the reader")
LEFT_CARD_WHAT = N_("This card will not be used. If it is yours, please take it out. "
                    "Otherwise please tell a staff member, or call {hotline}.")
LEFT_CARD_NEXT = N_("The next person can start once the card is out.")
RETAINED = N_("The card left in the reader was kept safe inside the kiosk. Its owner can collect it at "
              "the service counter.")


class TakeCardScreen(QWidget):
    def __init__(self, hotline: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("screen")
        self._hotline = hotline
        self._seconds: int | None = None
        self._left = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(96, 60, 96, 60)
        layout.setSpacing(36)
        self.title_label = label("hero", align=Qt.AlignmentFlag.AlignCenter)
        self.detail_label = label("title", align=Qt.AlignmentFlag.AlignCenter)
        self.next_label = label("muted", align=Qt.AlignmentFlag.AlignCenter)
        layout.addStretch(1)
        layout.addWidget(self.title_label)
        layout.addWidget(self.detail_label)
        layout.addWidget(self.next_label)
        layout.addStretch(1)
        self.retranslate()

    def show_countdown(self, seconds: int) -> None:
        """The visit just ended with its card in the reader."""
        self._left, self._seconds = False, seconds
        self.retranslate()

    def show_left(self) -> None:
        """A card nobody may use: left behind, or found at start-up."""
        self._left, self._seconds = True, None
        self.retranslate()

    @property
    def showing_left(self) -> bool:
        return self._left

    def retranslate(self) -> None:
        if self._left:
            self.title_label.setText(f"{theme.ICON_INFO} {_(LEFT_CARD)}")
            self.detail_label.setText(_(LEFT_CARD_WHAT).format(hotline=self._hotline))
            self.next_label.setText(_(LEFT_CARD_NEXT))
        else:
            self.title_label.setText(_(TAKE_CARD))
            self.detail_label.setText(_(TAKE_CARD_SECONDS).format(n=self._seconds or 0))
            self.next_label.setText("")
        self.next_label.setVisible(bool(self.next_label.text()))

    def prompt(self) -> str:
        if self._left:
            return f"{_(LEFT_CARD)}. {_(LEFT_CARD_WHAT).format(hotline=self._hotline)}"
        return _(TAKE_CARD)

    def reset(self) -> None:
        """Nothing personal is ever shown here; the wipe keeps its state (the card is still in)."""
