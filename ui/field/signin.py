"""Operator sign-in (account + password, or the staff card) and the unlock of a locked session."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLineEdit, QVBoxLayout, QWidget

from kiosk.field.operators import OperatorState
from kiosk.i18n import _
from ui.field.common import Background, error_text
from ui.qt_compat import emit
from ui.widgets.common import button, label


class OperatorSignInScreen(QWidget):
    """Emits ``signed_in`` once the gate is ACTIVE; ``card_requested`` when the operator chooses the
    staff card (the lead runs kiosk.field.card_signin.staff_card_sign_in with the PIN widget)."""

    signed_in = Signal()
    card_requested = Signal()

    def __init__(self, field: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("screen")
        self.field = field
        self._bg = Background(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(80, 60, 80, 60)
        layout.setSpacing(28)
        self.title = label("title", parent=self)
        self.hint = label("muted", parent=self)
        self.operator_id = QLineEdit(self)
        self.password = QLineEdit(self)
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.message = label(parent=self)
        self.sign_in_button = button(parent=self)
        self.card_button = button("secondary", parent=self)
        self.sign_in_button.clicked.connect(self.submit)
        self.password.returnPressed.connect(self.submit)
        self.card_button.clicked.connect(lambda: emit(self.card_requested))
        self.list_button = button("secondary", parent=self)
        self.list_button.clicked.connect(self.update_list)
        row = QHBoxLayout()
        row.addWidget(self.sign_in_button)
        row.addWidget(self.card_button)
        row.addWidget(self.list_button)
        for widget in (self.title, self.hint, self.operator_id, self.password, self.message):
            layout.addWidget(widget)
        layout.addLayout(row)
        layout.addStretch(1)
        self.retranslate()

    @property
    def locked(self) -> bool:
        return self.field.gate.state() is OperatorState.LOCKED

    def retranslate(self) -> None:
        locked = self.locked
        self.title.setText(_("Session locked") if locked else _("Operator sign-in"))
        self.hint.setText(_("Enter your password to continue.") if locked else
                          _("Sign in before serving citizens: your operator id and password, or your staff card "
                            "and PIN."))
        self.operator_id.setPlaceholderText(_("Operator id"))
        self.password.setPlaceholderText(_("Password"))
        self.operator_id.setVisible(not locked)
        self.sign_in_button.setText(_("Unlock") if locked else _("Sign in"))
        self.card_button.setText(_("Staff card"))
        self.list_button.setText(_("Update operator list"))
        self.list_button.setVisible(not locked)

    def update_list(self) -> None:
        """Online (at the office): download the signed authorised-operators list."""
        if self._bg.busy:
            return
        self.message.setText(_("Downloading…"))
        self._bg.run(self.field.refresh_operators, self._list_done)

    def _list_done(self, result: object) -> None:
        if isinstance(result, BaseException):
            self.message.setText(error_text(result))
        else:
            self.message.setText(_("Operator list updated: {count} operators.").format(count=result))

    def submit(self) -> None:
        if self._bg.busy:
            return
        secret = bytearray(self.password.text().encode("utf-8"))
        self.password.clear()               # the field's copy is gone; ours is zeroed after use
        operator_id = self.operator_id.text().strip()
        locked = self.locked
        self.message.setText(_("Checking…"))
        self.sign_in_button.setEnabled(False)

        def job() -> object:
            try:
                if locked:
                    self.field.gate.unlock(password=secret)
                else:
                    self.field.gate.sign_in_password(operator_id, secret)
                    if self.field.vault.info() is not None:
                        try:            # the same password opens the roster this operator downloaded
                            self.field.certifier.open_roster(secret)
                        except Exception as exc:
                            return exc
                return None
            finally:
                secret[:] = b"\x00" * len(secret)

        self._bg.run(job, self._done)

    def _done(self, result: object) -> None:
        self.sign_in_button.setEnabled(True)
        self.retranslate()
        if isinstance(result, BaseException) and self.field.gate.state() is not OperatorState.ACTIVE:
            self.message.setText(error_text(result))
            return
        # Signed in; a roster that did not open is said on the roster screen, not here.
        self.message.setText(error_text(result) if isinstance(result, BaseException) else "")
        emit(self.signed_in)
