"""Operator sign-in (account + password, or the staff card) and the unlock of a locked session."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLineEdit, QVBoxLayout, QWidget

from kiosk.field.operators import OperatorState, SignInError
from kiosk.i18n import N_, _
from ui.field.common import Background, error_text
from ui.qt_compat import emit
from ui.widgets.common import button, label
from ui.widgets.onscreen_keyboard import OnScreenKeyboard
from ui.widgets.pin_entry import PinEntryWidget

INSERT_STAFF_CARD = N_("Reading your staff card… Keep it in the reader.")
TYPE_PIN_ON_PAD = N_("Type your card PIN on the PIN pad, then press Enter (确认).")
CARD_SIGNED_IN = N_("Signed in with your staff card.")
ROSTER_STAYS_LOCKED = N_("The roster stays locked: a staff card cannot open it. Enter your password once on the "
                         "roster screen.")
WRONG_PIN_TRIES = N_("Wrong PIN. Tries left on this card: {n}. Try again, or sign in with your password.")
WRONG_PIN = N_("Wrong PIN. Try again, or sign in with your password.")
CARD_REMOVED = N_("The staff card was removed. Insert it again and press Staff card.")
NO_CARD_DEVICES = N_("This kiosk has no card reader or PIN pad ready. Sign in with your password.")


class OperatorSignInScreen(QWidget):
    """Emits ``signed_in`` once the gate is ACTIVE; ``card_requested`` when the operator chooses the
    staff card. Given ``card`` and ``pinpad`` (the kiosk's services), the screen runs
    kiosk.field.card_signin.staff_card_sign_in itself on a worker thread, with the PIN dots fed by
    the pad's key events, and says the outcome in words."""

    signed_in = Signal()
    card_requested = Signal()
    pin_requested = Signal()            # worker thread -> screen: the pad is waiting for the PIN

    def __init__(self, field: Any, parent: QWidget | None = None, *, card: Any = None, pinpad: Any = None,
                 pin_timeout_s: float = 60.0) -> None:
        super().__init__(parent)
        self.setObjectName("screen")
        self.field = field
        self.card, self.pinpad, self.pin_timeout_s = card, pinpad, pin_timeout_s
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
        if card is not None and pinpad is not None:
            self.card_requested.connect(self.start_card_sign_in)
        self.pin = PinEntryWidget(self)          # dots only: the digits never leave the pad
        self.pin.hide()
        self.pin_requested.connect(self._pin_shown, Qt.ConnectionType.QueuedConnection)
        self.list_button = button("secondary", parent=self)
        self.list_button.clicked.connect(self.update_list)
        row = QHBoxLayout()
        row.addWidget(self.sign_in_button)
        row.addWidget(self.card_button)
        row.addWidget(self.list_button)
        for widget in (self.title, self.hint, self.operator_id, self.password, self.message, self.pin):
            layout.addWidget(widget)
        layout.addLayout(row)
        self.keyboard = OnScreenKeyboard(self)     # a touch kiosk has no keyboard for the id and password
        self.keyboard.attach([self.operator_id, self.password])
        layout.addWidget(self.keyboard)
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
        self.pin.retranslate()

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

    # -- staff card + PIN ------------------------------------------------------------------------
    def start_card_sign_in(self) -> None:
        """The staff card in the reader, the PIN on the pad; blocking parts on a worker thread."""
        from kiosk.field.card_signin import staff_card_sign_in

        if self._bg.busy:
            return
        if self.card is None or self.pinpad is None:
            self.message.setText(_(NO_CARD_DEVICES))
            return
        if self.locked:                 # unlocking stays with the password (the same proof, docs/field.md)
            self.message.setText(_("Enter your password to continue."))
            return
        self.message.setText(_(INSERT_STAFF_CARD))
        self.pin.start()
        self.pin.hide()
        for widget in (self.sign_in_button, self.card_button):
            widget.setEnabled(False)
        card, pinpad, listener = self.card, self.pinpad, self.pin.listener()

        def on_pin_entry(handle: Any) -> None:      # worker thread: the widget is fed through its queue
            handle.on_event(listener)
            emit(self.pin_requested)

        def job() -> object:
            try:
                staff_card_sign_in(self.field.gate, card, pinpad, pin_timeout_s=self.pin_timeout_s,
                                   on_pin_entry=on_pin_entry)
            except SignInError as exc:
                return _card_failure(exc, card)
            return None

        self._bg.run(job, self._card_done)

    def _pin_shown(self) -> None:
        self.message.setText(_(TYPE_PIN_ON_PAD))
        self.pin.show()

    def _card_done(self, result: object) -> None:
        self.pin.hide()
        self.pin.clear()
        for widget in (self.sign_in_button, self.card_button):
            widget.setEnabled(True)
        self.retranslate()
        if isinstance(result, BaseException):
            self.message.setText(result.args[0] if isinstance(result, _CardOutcome) else error_text(result))
            return
        text = _(CARD_SIGNED_IN)
        session = self.field.gate.session
        if self.field.vault.info() is not None and (session is None or session.roster is None):
            text = f"{text} {_(ROSTER_STAYS_LOCKED)}"
        self.message.setText(text)
        emit(self.signed_in)


class _CardOutcome(Exception):
    """A card sign-in refusal already put in the operator's words (worker thread -> screen)."""


def _card_failure(exc: SignInError, card: Any) -> BaseException:
    """Refine the gate's code with what the card says: removed, or how many tries are left."""
    try:
        info = card.reader_info().wait(5.0)
        present = bool(info.ok and info.result is not None and info.result.card_present)
    except Exception:
        present = True
    if not present and exc.code in ("wrong_credentials", "pin_not_entered", "card_unreadable"):
        return _CardOutcome(_(CARD_REMOVED))
    if exc.code == "wrong_credentials":
        tries: int | None = None
        try:
            answer = card.pin_tries_left().wait(5.0)
            if answer.ok and answer.result is not None:
                tries = answer.result.tries_left
        except Exception:
            tries = None
        return _CardOutcome(_(WRONG_PIN_TRIES).format(n=tries) if tries is not None else _(WRONG_PIN))
    return exc
