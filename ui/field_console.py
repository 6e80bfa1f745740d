"""Field profile: the staff console over the kiosk window, and the operator gate around the services.

On the field profile no citizen service starts before an operator has signed in (docs/field.md):
the console covers the citizen's screen with the sign-in whenever the gate is not ACTIVE (signed out
or locked after ``field.operator_lock_s`` without activity), and every press, touch or key is
activity (``field.gate.touch()``). A visible "Staff" button opens it for the roster, the day report
and sync; the battery level sits next to that button.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QHBoxLayout,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from kiosk.field.operators import OperatorState
from kiosk.i18n import N_, _
from ui import theme
from ui.widgets.common import button

log = logging.getLogger(__name__)

STAFF = N_("Staff")
SIGN_IN = N_("Sign in")
ROSTER = N_("Roster")
DAY_REPORT = N_("Day report")
SYNC = N_("Sync")
BACK_TO_SERVICES = N_("Back to the citizen screen")
GATE_POLL_MS = 1000

_ACTIVITY = {QEvent.Type.MouseButtonPress, QEvent.Type.TouchBegin, QEvent.Type.KeyPress}


class _Activity(QObject):
    def __init__(self, touch: Any, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._touch = touch

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in _ACTIVITY:
            try:
                self._touch()
            except Exception:
                log.exception("field gate touch failed")
        return False


class FieldConsole(QFrame):
    def __init__(self, field: Any, export_dir: Path, parent: QWidget | None = None, *, card: Any = None,
                 pinpad: Any = None) -> None:
        from ui.field.report import DayReportScreen
        from ui.field.roster import RosterScreen
        from ui.field.signin import OperatorSignInScreen
        from ui.field.sync import SyncConflictScreen

        super().__init__(parent)
        self.field = field
        self.setObjectName("fieldConsole")
        self.setStyleSheet(f"QFrame#fieldConsole {{ background: {theme.SURFACE}; border: 4px solid {theme.PRIMARY};"
                           " border-radius: 16px; }")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 16, 24, 16)
        tabs = QHBoxLayout()
        self.stack = QStackedWidget()
        self.signin = OperatorSignInScreen(field, card=card, pinpad=pinpad)
        self.roster = RosterScreen(field)
        self.pages: dict[str, QWidget] = {
            "signin": self.signin, "roster": self.roster,
            "report": DayReportScreen(field, export_dir), "sync": SyncConflictScreen(field)}
        self.tab_buttons: dict[str, QPushButton] = {}
        for key, page in self.pages.items():
            self.stack.addWidget(page)
            btn = button("secondary")
            btn.clicked.connect(lambda _c=False, k=key: self.show_tab(k))
            tabs.addWidget(btn)
            self.tab_buttons[key] = btn
        tabs.addStretch(1)
        self.close_button = button()
        self.close_button.clicked.connect(self.close_console)
        tabs.addWidget(self.close_button)
        layout.addLayout(tabs)
        layout.addWidget(self.stack, 1)
        self.signin.signed_in.connect(self._signed_in)
        self.retranslate()
        self.hide()

    @property
    def active(self) -> bool:
        return self.field.gate.state() is OperatorState.ACTIVE

    def show_tab(self, key: str) -> None:
        if key != "signin" and not self.active:
            key = "signin"                  # nothing but the sign-in without an operator
        page = self.pages[key]
        refresh = getattr(page, "refresh", None)
        if callable(refresh):
            refresh()
        self.stack.setCurrentWidget(page)
        self.open_console()

    def open_console(self) -> None:
        parent = self.parentWidget()
        if parent is not None:
            self.setGeometry(parent.rect().adjusted(40, 110, -40, -40))
        self.show()
        self.raise_()

    def close_console(self) -> None:
        if self.active:                     # the citizen screen only with an operator signed in
            self.hide()

    def _signed_in(self) -> None:
        self.show_tab("roster")

    def check_gate(self) -> None:
        """Cover the citizen screen with the sign-in whenever the gate is not ACTIVE."""
        if not self.active and (not self.isVisible() or self.stack.currentWidget() is not self.signin):
            self.signin.retranslate()
            self.show_tab("signin")

    def retranslate(self) -> None:
        for key, msgid in (("signin", SIGN_IN), ("roster", ROSTER), ("report", DAY_REPORT), ("sync", SYNC)):
            self.tab_buttons[key].setText(_(msgid))
        self.close_button.setText(_(BACK_TO_SERVICES))
        for page in self.pages.values():
            retranslate = getattr(page, "retranslate", None)
            if callable(retranslate):
                retranslate()


def attach_field(window: Any, field: Any, config: Any, export_dir: Path, *, card: Any = None,
                 pinpad: Any = None) -> FieldConsole:
    """The console, the gate poll, activity -> ``gate.touch()``, and the Staff button with the battery.
    ``card`` / ``pinpad`` (the kiosk's services) enable the staff-card sign-in; a roster pick starts
    the retiree certification for that person."""
    from ui.field.battery import BatteryIndicator

    console = FieldConsole(field, export_dir, window, card=card, pinpad=pinpad)
    console.roster.person_picked.connect(lambda id_number: certify_picked(window, console, id_number))
    opener = button("secondary", parent=window)
    opener.setObjectName("staffButton")
    opener.clicked.connect(lambda: console.show_tab("roster"))
    battery = BatteryIndicator(field.battery, config.field.battery_min_percent, parent=window)

    def place() -> None:
        opener.setText(_(STAFF))
        opener.adjustSize()
        opener.move((window.width() - opener.width()) // 2, window.height() - opener.height() - 16)
        opener.raise_()
        battery.adjustSize()
        battery.move(opener.x() + opener.width() + 24, opener.y() + (opener.height() - battery.height()) // 2)
        battery.raise_()
        if not console.isHidden():      # isVisible() is False while the window itself is not shown yet,
            console.open_console()      # which left the console at the window's first 640x480 size

    window.relayout_hooks.append(place)
    place()
    opener.show()
    activity = _Activity(field.gate.touch, window)
    app = QApplication.instance()
    if app is not None:
        app.installEventFilter(activity)
    timer = QTimer(window)
    timer.setInterval(GATE_POLL_MS)
    timer.timeout.connect(console.check_gate)
    timer.start()
    console.check_gate()
    window.field_console = console
    window._field_parts = (opener, battery, activity, timer)
    return console


def certify_picked(window: Any, console: FieldConsole, id_number: str) -> None:
    """A roster row: the retiree certification for that person on the citizen screen (the flow asks
    the person to confirm the name, then consent and the face check); the operator's id goes on the
    record through ``field.flow_deps``."""
    if not console.active:
        console.show_tab("signin")
        return
    core = window.core
    if core.visit is None:
        core.start_visit("operator")
    console.hide()
    window.start_service("retiree_certification", id_number=id_number)
