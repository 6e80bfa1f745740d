"""Battery level for the status bar (empty where the platform reports no battery)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QLabel, QWidget

from kiosk.field.battery import BatteryStatus
from kiosk.i18n import _
from ui.widgets.common import label


class BatteryIndicator(QWidget):
    def __init__(self, read: Callable[[], BatteryStatus], minimum: int, parent: QWidget | None = None,
                 every_ms: int = 30_000) -> None:
        super().__init__(parent)
        self._read = read
        self._minimum = minimum
        self.text: QLabel = label(wrap=False, parent=self)
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.refresh)
        self._timer.start(every_ms)
        self.refresh()

    def refresh(self) -> None:
        status = self._read()
        if status.percent is None:
            self.text.setText("")
            self.setVisible(False)
            return
        self.setVisible(True)
        text = _("Battery {percent}%").format(percent=status.percent)
        if status.charging:
            text += " " + _("(charging)")
        elif status.below(self._minimum):
            text = "⚠ " + text + " " + _("(charge before the next certification)")
        self.text.setText(text)
        self.text.adjustSize()
        self.adjustSize()
