"""Regression: PySide6 6.12.0 on CPython 3.11 dropped a reference to None/True on every signal
emit and every Qt call returning nothing, aborting the kiosk after a few thousand calls
("Fatal Python error: bool_dealloc"). The pinned PySide6 must not. Run in a subprocess: the bug
kills the interpreter, which must fail this test, not the whole suite."""

from __future__ import annotations

import os
import subprocess
import sys

PROBE = r"""
import sys
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QApplication, QLabel
app = QApplication([])
class Emitter(QObject):
    fired = Signal(int)
emitter = Emitter()
emitter.fired.connect(lambda value: None)
label = QLabel()
none0, true0 = sys.getrefcount(None), sys.getrefcount(True)
for i in range(20000):
    emitter.fired.emit(i)
    label.setText(str(i))
print(sys.getrefcount(None) - none0, sys.getrefcount(True) - true0)
"""


def test_qt_calls_do_not_leak_references_to_none_or_true() -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, f"the Qt probe crashed: {done.stderr[-500:]}"
    none_delta, true_delta = (int(v) for v in done.stdout.split())
    assert abs(none_delta) < 100 and abs(true_delta) < 100, (none_delta, true_delta)
