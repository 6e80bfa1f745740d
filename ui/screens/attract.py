"""The attract screen: welcome, "insert your card or touch to start", an animated card hint."""

from __future__ import annotations

from PySide6.QtCore import QEasingCurve, QRectF, Qt, QVariantAnimation, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPen
from PySide6.QtWidgets import QHBoxLayout, QVBoxLayout, QWidget

from kiosk.i18n import N_, _
from ui import theme
from ui.qt_compat import emit
from ui.widgets.common import button, label
from ui.widgets.phone_hint import PhoneHint

WELCOME = N_("Welcome to the social security card self-service kiosk")
INSERT_OR_TOUCH = N_("Insert your card or touch the screen to start")
CARD_HINT = N_("Chip facing up, pushed gently into the card slot")
ECARD_BUTTON = N_("No card with you? Show your e-card QR code")


class CardHint(QWidget):
    """A card sliding down into a slot, looping: shows *how* to insert, without words or colour."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFixedSize(420, 360)
        self._offset = 0.0
        self.animation = QVariantAnimation(self)
        self.animation.setStartValue(0.0)
        self.animation.setEndValue(1.0)
        self.animation.setDuration(1800)
        self.animation.setLoopCount(-1)
        self.animation.setEasingCurve(QEasingCurve.Type.InOutQuad)
        self.animation.valueChanged.connect(self._moved)

    def _moved(self, value: float) -> None:
        self._offset = float(value)
        self.update()

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        w = self.width()
        slot_y = 280
        card_w, card_h = 240.0, 150.0
        y = 40 + self._offset * 110
        painter.setPen(QPen(QColor(theme.PRIMARY), 6))
        painter.setBrush(QColor(theme.SURFACE))
        painter.drawRoundedRect(QRectF((w - card_w) / 2, y, card_w, card_h), 16, 16)
        painter.setBrush(QColor("#C9A227"))   # the chip
        painter.setPen(QPen(QColor(theme.TEXT), 2))
        painter.drawRoundedRect(QRectF((w - card_w) / 2 + 30, y + 40, 50, 40), 6, 6)
        # the slot, drawn over the card so the card seems to go in
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(theme.BACKGROUND))
        painter.drawRect(QRectF(0, slot_y, w, self.height() - slot_y))
        slot_pen = QPen(QColor(theme.TEXT), 10)
        slot_pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        painter.setPen(slot_pen)
        painter.drawLine(40, slot_y, w - 40, slot_y)
        painter.end()


class AttractScreen(QWidget):
    """Any press on it asks for a visit to start (the card path comes from the device bridge)."""

    touched = Signal()
    ecard_requested = Signal()       # "show your e-card code": the e-card sign-in (kiosk/flows/ecard.py)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("screen")
        self._notice: str | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(96, 60, 96, 60)
        layout.setSpacing(36)
        self.welcome_label = label("hero", align=Qt.AlignmentFlag.AlignCenter)
        self.instruction_label = label("title", align=Qt.AlignmentFlag.AlignCenter)
        self.hint = CardHint()
        self.hint_label = label("muted", align=Qt.AlignmentFlag.AlignCenter)
        layout.addStretch(1)
        layout.addWidget(self.welcome_label)
        layout.addWidget(self.instruction_label)
        # Side by side: the card (how to insert it) and the e-card, for a citizen who carries only a
        # phone. The e-card button shows only where the kiosk offers the sign-in (set_ecard_available).
        self.ecard_button = button("secondary")
        self.ecard_button.clicked.connect(lambda: emit(self.ecard_requested))
        self.ecard_button.setVisible(False)
        self.phone_hint = PhoneHint(scale=0.7)      # how to hold the phone (ui/widgets/phone_hint.py)
        self.phone_hint.setVisible(False)
        ecard = QVBoxLayout()
        ecard.setSpacing(16)
        ecard.addWidget(self.phone_hint, 0, Qt.AlignmentFlag.AlignHCenter)
        ecard.addWidget(self.ecard_button, 0, Qt.AlignmentFlag.AlignHCenter)
        row = QHBoxLayout()
        row.setSpacing(96)
        row.addStretch(1)
        row.addWidget(self.hint, 0, Qt.AlignmentFlag.AlignVCenter)
        row.addLayout(ecard)
        row.addStretch(1)
        layout.addLayout(row)
        layout.addWidget(self.hint_label)
        layout.addStretch(1)
        self.notice_label = label("muted", align=Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.notice_label)
        self.retranslate()

    def showEvent(self, event) -> None:
        self.hint.animation.start()
        super().showEvent(event)

    def hideEvent(self, event) -> None:
        self.hint.animation.stop()
        super().hideEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        emit(self.touched)
        event.accept()

    def retranslate(self) -> None:
        self.welcome_label.setText(_(WELCOME))
        self.instruction_label.setText(_(INSERT_OR_TOUCH))
        self.hint_label.setText(_(CARD_HINT))
        self.ecard_button.setText(_(ECARD_BUTTON))
        self.notice_label.setText(f"{theme.ICON_INFO} {_(self._notice)}" if self._notice else "")
        self.notice_label.setVisible(bool(self._notice))

    def set_ecard_available(self, available: bool) -> None:
        self.ecard_button.setVisible(available)
        self.phone_hint.setVisible(available)

    def set_notice(self, msgid: str | None) -> None:
        """Why the last visit ended (never anything personal); cleared when a visit starts."""
        self._notice = msgid
        self.retranslate()

    def prompt(self) -> str:
        return _(INSERT_OR_TOUCH)

    def reset(self) -> None:
        self._notice = None
        self.retranslate()
