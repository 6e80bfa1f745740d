"""PySide6 6.12.0 takes a reference from True on every Python emit; ui.qt_compat.emit gives it back."""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal

from ui.qt_compat import EMIT_STEALS_REFERENCE, emit


class _Sender(QObject):
    changed = Signal(int)


def test_many_emits_leave_the_refcount_of_true_alone(qapp):
    sender = _Sender()
    got: list[int] = []
    sender.changed.connect(got.append)
    before = sys.getrefcount(True)
    for n in range(5000):
        emit(sender.changed, n)
    assert len(got) == 5000
    assert abs(sys.getrefcount(True) - before) <= 2, (EMIT_STEALS_REFERENCE, sys.getrefcount(True) - before)
