"""Roster download (online, before going out) and status: how many, which districts, expiry, and
the list to pick a person from (masked names and IDs, done marks)."""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import QSize, Signal
from PySide6.QtWidgets import QLineEdit, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from kiosk.i18n import _
from kiosk.privacy import mask_name
from ui import theme
from ui.field.common import Background, error_text
from ui.qt_compat import emit
from ui.widgets.common import button, label
from ui.widgets.onscreen_keyboard import OnScreenKeyboard


class RosterScreen(QWidget):
    """``person_picked(id_number)`` when the operator taps a roster line (the certification starts)."""

    person_picked = Signal(str)

    def __init__(self, field: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("screen")
        self.field = field
        self._bg = Background(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(60, 40, 60, 40)
        layout.setSpacing(20)
        self.title = label("title", parent=self)
        self.status = label(parent=self)
        self.districts = QLineEdit(self)
        self.districts.setText(field.config.field.districts)
        self.password = QLineEdit(self)
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.download_button = button(parent=self)
        self.download_button.clicked.connect(self.download)
        self.open_button = button("secondary", parent=self)     # after a card sign-in: the password once
        self.open_button.clicked.connect(self.open_roster)
        self.message = label(parent=self)
        self.search = QLineEdit(self)
        self.search.textChanged.connect(self.refresh_list)
        self.persons = QListWidget(self)
        self.persons.itemClicked.connect(lambda item: emit(self.person_picked, item.data(256)))
        for widget in (self.title, self.status, self.districts, self.password, self.download_button,
                       self.open_button, self.message, self.search, self.persons):
            layout.addWidget(widget)
        self.keyboard = OnScreenKeyboard(self)     # districts, password and search on a touch screen
        self.keyboard.attach([self.districts, self.password, self.search])
        layout.addWidget(self.keyboard)
        self.retranslate()
        self.refresh()

    def retranslate(self) -> None:
        self.title.setText(_("Roster"))
        self.districts.setPlaceholderText(_("Districts, separated by commas"))
        self.password.setPlaceholderText(_("Your password (encrypts the roster on this kiosk)"))
        self.download_button.setText(_("Download roster"))
        self.open_button.setText(_("Open roster"))
        self.search.setPlaceholderText(_("Find: name, address or last digits of the ID number"))
        self.refresh()

    def refresh(self) -> None:
        info = self.field.vault.info()
        if info is None:
            self.status.setText(_("No roster on this kiosk. Download one while online."))
        else:
            days = max(0, int((info.expires_at - time.time()) // 86400))
            self.status.setText(_("{count} persons in {districts}; expires in {days} days.").format(
                count=info.count, districts="、".join(info.districts), days=days))
        session = self.field.gate.session
        locked = info is not None and session is not None and session.roster is None
        self.open_button.setVisible(locked)
        if locked:
            self.message.setText(_("The roster is locked (a staff card cannot open it). Enter your password "
                                   "and press Open roster."))
        self.refresh_list()

    def refresh_list(self) -> None:
        self.persons.clear()
        session = self.field.gate.session
        roster = session.roster if session is not None else None
        if roster is None:
            return
        marks = self.field.vault.done_marks(roster)
        for entry in roster.search(self.search.text()):
            mark = marks.get(entry.id_number, {}).get("result", "")
            done = {"passed": _("certified"), "failed": _("failed"), "skipped": _("skipped"),
                    "pending_review": _("manual review")}.get(mark, _("due {date}").format(date=entry.due_date))
            item = QListWidgetItem(f"{mask_name(entry.name)}   {entry.id_masked}   {entry.district}   {done}")
            item.setData(256, entry.id_number)      # Qt.UserRole: stays in memory, never shown
            item.setSizeHint(QSize(0, theme.BUTTON_HEIGHT - 16))   # a touch target, not a text line
            self.persons.addItem(item)

    def open_roster(self) -> None:
        """The roster this operator downloaded, opened with their password (after a card sign-in)."""
        if self._bg.busy:
            return
        secret = bytearray(self.password.text().encode("utf-8"))
        self.password.clear()
        self.message.setText(_("Checking…"))

        def job() -> object:
            try:
                return self.field.certifier.open_roster(secret)
            finally:
                secret[:] = b"\x00" * len(secret)

        self._bg.run(job, self._opened)

    def _opened(self, result: object) -> None:
        self.message.setText(error_text(result) if isinstance(result, BaseException) else _("Roster opened."))
        self.refresh()

    def download(self) -> None:
        if self._bg.busy:
            return
        districts = [d.strip() for d in self.districts.text().replace("，", ",").split(",") if d.strip()]
        if not districts:
            self.message.setText(_("Enter at least one district."))
            return
        secret = bytearray(self.password.text().encode("utf-8"))
        self.password.clear()
        self.message.setText(_("Downloading…"))
        self.download_button.setEnabled(False)

        def job() -> object:
            try:
                return self.field.certifier.download_roster(districts, secret)
            finally:
                secret[:] = b"\x00" * len(secret)

        self._bg.run(job, self._done)

    def _done(self, result: object) -> None:
        self.download_button.setEnabled(True)
        if isinstance(result, BaseException):
            self.message.setText(error_text(result))
        else:
            self.message.setText(_("Roster downloaded and encrypted on this kiosk."))
        self.refresh()
