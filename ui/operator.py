"""The operator exit: a hidden gesture opens a secret dialog; repeated wrong secrets lock it.

* Gesture: 5 taps within 4 s on the top-left corner, or a 3 s press there. Nothing is drawn, so
  a citizen does not find it by looking; an operator is told where it is.
* The secret is checked with :func:`kiosk.operator_secret.verify_secret` (PBKDF2, ~0.1 s) on a
  helper thread, so the UI never freezes; the typed text is cleared as soon as it is read.
* ``ui.operator_max_failures`` wrong secrets in a row lock the exit for ``ui.operator_lockout_s``.
* With no ``ui.operator_secret_hash`` configured the exit is disabled (the dialog says so).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from PySide6.QtCore import QElapsedTimer, QObject, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QDialog, QGridLayout, QHBoxLayout, QLineEdit, QVBoxLayout, QWidget

from kiosk.i18n import N_, _
from kiosk.operator_secret import verify_secret
from ui import dispatch, theme
from ui.qt_compat import emit
from ui.widgets.common import button, label

log = logging.getLogger(__name__)

TAPS = 5
TAP_WINDOW_MS = 4000
LONG_PRESS_MS = 3000
CORNER_PX = 120

TITLE = N_("Operator exit")
ENTER = N_("Enter the operator secret.")
WRONG = N_("Wrong secret. {left} tries left before the exit locks.")
LOCKED = N_("Too many wrong secrets. The exit is locked for {minutes} more minutes.")
CHECKING = N_("Checking...")
NOT_CONFIGURED = N_("No operator secret is configured, so the exit is disabled. Set ui.operator_secret_hash.")
OK = N_("Exit the kiosk")
CANCEL = N_("Cancel")
DELETE = N_("Delete")


class OperatorLock:
    """Counts wrong secrets; plain Python with an injectable clock (tested without waiting)."""

    def __init__(self, max_failures: int, lockout_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_failures = max_failures
        self.lockout_s = lockout_s
        self._clock = clock
        self.failures = 0
        self._locked_until = 0.0

    def locked_for(self) -> float:
        return max(0.0, self._locked_until - self._clock())

    def record_failure(self) -> None:
        self.failures += 1
        if self.failures >= self.max_failures:
            self._locked_until = self._clock() + self.lockout_s
            self.failures = 0
            log.warning("operator exit locked after repeated wrong secrets",
                        extra={"lockout_s": self.lockout_s})

    def record_success(self) -> None:
        self.failures = 0

    @property
    def tries_left(self) -> int:
        return self.max_failures - self.failures


class CornerGesture(QWidget):
    """Invisible hot corner. Emits ``triggered`` on 5 quick taps or a long press."""

    triggered = Signal()

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setFixedSize(CORNER_PX, CORNER_PX)
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground)
        self._taps: list[int] = []
        self._clock = QElapsedTimer()
        self._clock.start()
        self._long_press = QTimer(self)
        self._long_press.setSingleShot(True)
        self._long_press.setInterval(LONG_PRESS_MS)
        self._long_press.timeout.connect(self._fire)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        now = self._clock.elapsed()
        self._taps = [t for t in self._taps if now - t < TAP_WINDOW_MS] + [now]
        self._long_press.start()
        if len(self._taps) >= TAPS:
            self._fire()
        event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self._long_press.stop()
        event.accept()

    def _fire(self) -> None:
        self._taps.clear()
        self._long_press.stop()
        emit(self.triggered)


class OperatorDialog(QDialog):
    """Secret entry with an on-screen keypad (a kiosk has no keyboard; a plugged one works too)."""


    def __init__(self, secret_hash: str, lock: OperatorLock, parent: QWidget | None = None,
                 status: Callable[[], list[str]] | None = None) -> None:
        super().__init__(parent)
        self._status = status
        self.setWindowFlags(Qt.WindowType.Dialog | Qt.WindowType.FramelessWindowHint
                            | Qt.WindowType.WindowStaysOnTopHint)
        self.setModal(True)
        self.setMinimumWidth(900)
        self._hash = secret_hash
        self._lock = lock
        self._message_source: Callable[[], str] = lambda: _(ENTER)

        outer = QHBoxLayout(self)
        outer.setContentsMargins(48, 40, 48, 40)
        outer.setSpacing(48)
        layout = QVBoxLayout()
        layout.setSpacing(20)
        outer.addLayout(layout)
        # Operator status beside the keypad (counts and device states only, nothing personal).
        self.status_label = label("muted")
        self.status_label.setMinimumWidth(600)
        self.status_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.status_label.setVisible(status is not None)
        outer.addWidget(self.status_label)
        self.title_label = label("title")
        self.message_label = label()
        self.secret_edit = QLineEdit()
        self.secret_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.secret_edit.setContextMenuPolicy(Qt.ContextMenuPolicy.NoContextMenu)
        self.secret_edit.returnPressed.connect(self.submit)
        layout.addWidget(self.title_label)
        layout.addWidget(self.message_label)
        layout.addWidget(self.secret_edit)
        pad = QGridLayout()
        pad.setSpacing(12)
        self._keys = []
        for i, digit in enumerate("123456789"):
            key = button(height=theme.BUTTON_HEIGHT)
            key.setText(digit)
            key.clicked.connect(lambda _c=False, d=digit: self.secret_edit.insert(d))
            pad.addWidget(key, i // 3, i % 3)
            self._keys.append(key)
        self.delete_button = button("secondary")
        self.delete_button.clicked.connect(self.secret_edit.backspace)
        zero = button()
        zero.setText("0")
        zero.clicked.connect(lambda: self.secret_edit.insert("0"))
        pad.addWidget(self.delete_button, 3, 0)
        pad.addWidget(zero, 3, 1)
        layout.addLayout(pad)
        row = QHBoxLayout()
        self.cancel_button = button("secondary")
        self.ok_button = button()
        self.cancel_button.clicked.connect(self.reject)
        self.ok_button.clicked.connect(self.submit)
        row.addWidget(self.cancel_button)
        row.addStretch(1)
        row.addWidget(self.ok_button)
        layout.addLayout(row)
        self._refresh_lock()
        self.retranslate()

    def retranslate(self) -> None:
        self.title_label.setText(_(TITLE))
        self.message_label.setText(self._message_source())
        self.ok_button.setText(_(OK))
        self.cancel_button.setText(_(CANCEL))
        self.delete_button.setText(_(DELETE))
        if self._status is not None:
            try:
                self.status_label.setText("\n".join(self._status()))
            except Exception as exc:        # the status must never keep the operator out
                self.status_label.setText(str(exc))

    def _set_message(self, source: Callable[[], str]) -> None:
        self._message_source = source
        self.message_label.setText(source())

    def _refresh_lock(self) -> bool:
        if not self._hash:
            self._set_message(lambda: _(NOT_CONFIGURED))
            self.ok_button.setEnabled(False)
            return True
        left = self._lock.locked_for()
        if left > 0:
            minutes = max(1, round(left / 60))
            self._set_message(lambda: _(LOCKED).format(minutes=minutes))
            self.ok_button.setEnabled(False)
            return True
        self.ok_button.setEnabled(True)
        return False

    def submit(self) -> None:
        if self._refresh_lock() or not self.ok_button.isEnabled():
            return
        secret = self.secret_edit.text()
        self.secret_edit.setText("")             # also clears the undo history
        self.ok_button.setEnabled(False)
        self._set_message(lambda: _(CHECKING))
        stored = self._hash
        def check() -> None:
            ok = 1 if verify_secret(secret, stored) else 0
            # Through the dispatcher: the dialog may be closed and deleted while PBKDF2 runs.
            dispatch.post(lambda: self._on_checked(ok) if dispatch.alive(self) else None)

        threading.Thread(target=check, daemon=True, name="operator-verify").start()

    @Slot(int)
    def _on_checked(self, ok: int) -> None:
        if ok:
            self._lock.record_success()
            log.warning("operator exit accepted")
            self.accept()
            return
        self._lock.record_failure()
        log.warning("operator exit: wrong secret")
        if not self._refresh_lock():
            left = self._lock.tries_left
            self._set_message(lambda: _(WRONG).format(left=left))

    def done(self, result: int) -> None:
        self.secret_edit.setText("")
        super().done(result)


class OperatorExit(QObject):
    """Ties the corner gesture, the dialog and the lock together; ``exit_confirmed`` on success."""

    exit_confirmed = Signal()

    def __init__(self, window: QWidget, secret_hash: str, lock: OperatorLock) -> None:
        super().__init__(window)
        self._window = window
        self._hash = secret_hash
        self.lock = lock
        self.dialog: OperatorDialog | None = None
        self.status: Callable[[], list[str]] | None = None     # operator status lines (run() sets it)
        self.corner = CornerGesture(window)
        self.corner.triggered.connect(self.open_dialog)

    def open_dialog(self) -> OperatorDialog:
        if self.dialog is None:
            self.dialog = OperatorDialog(self._hash, self.lock, self._window, status=self.status)
            self.dialog.finished.connect(self._closed)
            self.dialog.open()
            self.dialog.adjustSize()
            center = self._window.geometry().center()
            self.dialog.move(center.x() - self.dialog.width() // 2, center.y() - self.dialog.height() // 2)
        return self.dialog

    def _closed(self, result: int) -> None:
        dialog, self.dialog = self.dialog, None
        if dialog is not None:
            dialog.deleteLater()
        if result == QDialog.DialogCode.Accepted:
            emit(self.exit_confirmed)

    def retranslate(self) -> None:
        if self.dialog is not None:
            self.dialog.retranslate()
