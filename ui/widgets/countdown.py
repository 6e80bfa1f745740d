"""The idle countdown: a panel over the whole window, "N seconds left, touch the screen to continue".

Any press anywhere counts as activity (the application's event filter tells the SessionCore),
which clears the countdown; the button is there because people expect something to press.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter
from PySide6.QtWidgets import QVBoxLayout, QWidget

from kiosk.i18n import N_, _
from ui import theme
from ui.qt_compat import emit
from ui.widgets.common import button, label

STILL_THERE = N_("Are you still there?")
SECONDS_LEFT = N_("{seconds} seconds left. Touch the screen to continue.")
CONTINUE = N_("Continue")


class CountdownOverlay(QWidget):
    continue_requested = Signal()

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.seconds = 0
        self.hide()
        outer = QVBoxLayout(self)
        outer.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.panel = QWidget()
        self.panel.setObjectName("countdownPanel")
        self.panel.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        self.panel.setFixedWidth(1200)
        box = QVBoxLayout(self.panel)
        box.setContentsMargins(60, 48, 60, 48)
        box.setSpacing(28)
        self.title_label = label("title", align=Qt.AlignmentFlag.AlignCenter)
        self.seconds_label = label(align=Qt.AlignmentFlag.AlignCenter)
        self.continue_button = button()
        self.continue_button.clicked.connect(self.continue_requested)
        box.addWidget(self.title_label)
        box.addWidget(self.seconds_label)
        box.addWidget(self.continue_button)
        outer.addWidget(self.panel)
        parent.installEventFilter(self)
        self.retranslate()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.parent() and event.type() == QEvent.Type.Resize:
            self.setGeometry(self.parentWidget().rect())
        return False

    def show_seconds(self, seconds: int) -> None:
        self.seconds = seconds
        self.retranslate()
        if not self.isVisible():
            self.setGeometry(self.parentWidget().rect())
            self.show()
            self.raise_()

    def clear(self) -> None:
        self.seconds = 0
        self.hide()

    def retranslate(self) -> None:
        self.title_label.setText(f"{theme.ICON_WARNING} {_(STILL_THERE)}")
        self.seconds_label.setText(_(SECONDS_LEFT).format(seconds=self.seconds))
        self.continue_button.setText(_(CONTINUE))

    def prompt(self) -> str:
        return f"{_(STILL_THERE)} {_(SECONDS_LEFT).format(seconds=self.seconds)}"

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(0, 0, 0, 170))
        painter.end()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        emit(self.continue_requested)
        event.accept()
