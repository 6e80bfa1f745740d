"""Application-wide event filter: no way out by keyboard for a citizen, and any touch is activity.

Installed on the QApplication, so it sees every event before any widget does:

* Swallows Escape, F1-F12, and any key with Ctrl, Alt or Meta held (Alt+F4, Ctrl+Q, Ctrl+W,
  Alt+Tab...) where Qt sees them. Shortcuts the X server or the window manager grabs first (Ctrl+
  Alt+Backspace, VT switching) must be disabled in the kiosk's X/session configuration.
* Swallows context menus (long press on a touch screen would otherwise open one).
* Reports every press, touch and key as citizen activity (the idle timer restarts).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent

_BLOCKED_MODIFIERS = (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier
                      | Qt.KeyboardModifier.MetaModifier)
_BLOCKED_KEYS = {Qt.Key.Key_Escape, Qt.Key.Key_Meta, Qt.Key.Key_Super_L, Qt.Key.Key_Super_R,
                 Qt.Key.Key_Menu, Qt.Key.Key_Close, Qt.Key.Key_Sleep, Qt.Key.Key_PowerOff,
                 *(Qt.Key(Qt.Key.Key_F1.value + i) for i in range(12))}
_ACTIVITY = {QEvent.Type.MouseButtonPress, QEvent.Type.TouchBegin, QEvent.Type.KeyPress,
             QEvent.Type.Wheel, QEvent.Type.TabletPress}


def is_blocked_key(event: QKeyEvent) -> bool:
    return bool(event.modifiers() & _BLOCKED_MODIFIERS) or Qt.Key(event.key()) in _BLOCKED_KEYS


class KioskGuard(QObject):
    def __init__(self, on_activity: Callable[[], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._on_activity = on_activity
        self.blocked = 0        # how many events were swallowed (for tests and the doctor's log)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind in _ACTIVITY:
            self._on_activity()
        if kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease, QEvent.Type.ShortcutOverride) \
                and isinstance(event, QKeyEvent) and is_blocked_key(event):
            self.blocked += 1
            return True
        if kind == QEvent.Type.ContextMenu:
            self.blocked += 1
            return True
        return False
