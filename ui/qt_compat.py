"""Work around a PySide6 6.12.0 reference-count bug: ``SignalInstance.emit()`` returns a bool
without a new reference, so every emit from Python takes one reference from ``True``. On Python
3.11 (``True`` is not immortal) the count eventually reaches zero and the process aborts with
"Fatal Python error: bool_dealloc" - in a kiosk that runs for days, or at the end of a test run.

Every signal the UI emits from Python goes through :func:`emit`, which gives the reference back
when (and only when) a probe at import shows the bug, so a fixed PySide6 needs no change here.
Signals forwarded by C++ (``button.clicked.connect(self.some_signal)``) are not affected.
"""

from __future__ import annotations

import ctypes
import sys
from typing import Any

from PySide6.QtCore import QObject, Signal

_incref = ctypes.pythonapi.Py_IncRef
_incref.argtypes = [ctypes.py_object]
_incref.restype = None

_PROBES = 64


class _Probe(QObject):
    ping = Signal()


def _emit_steals_a_reference() -> bool:
    probe = _Probe()
    before = sys.getrefcount(True)
    results = [probe.ping.emit() for _ in range(_PROBES)]
    steals = sys.getrefcount(True) - before - results.count(True) < -_PROBES // 2
    for result in results:              # repair what the probe itself took
        if steals:
            _incref(result)
    return steals


EMIT_STEALS_REFERENCE = _emit_steals_a_reference()


def emit(signal: Any, *args: Any) -> None:
    """``signal.emit(*args)``, safe on every PySide6 version; callable from any thread."""
    result = signal.emit(*args)
    if EMIT_STEALS_REFERENCE:
        _incref(result)
