"""One long-lived way for any thread to run a closure on the UI thread.

Why: a queued call that targets a short-lived QObject (a presenter, a PIN widget, a face body) can
race with that object's deletion. Qt drops posted events of a deleted object, but when the object is
deleted on one thread while another thread posts to it (``QMetaObject.invokeMethod`` on a widget
whose visit just ended), or when the last Python reference to a per-visit QObject is dropped on the
flow thread, Qt touches freed memory: the kiosk segfaulted in libQt6Core after ~20 fast
"service, Cancel" taps. So worker threads never post to a per-visit object: they post a closure to
this one dispatcher, which lives (parented to the QApplication) for the whole run, and the closure
checks on the UI thread whether its widget is still there (:func:`alive`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QCoreApplication, QObject, Qt, Signal, Slot

from ui.qt_compat import emit

log = logging.getLogger(__name__)


class _Dispatcher(QObject):
    _run = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self._run.connect(self._on_run, Qt.ConnectionType.QueuedConnection)

    @Slot(object)
    def _on_run(self, job: Callable[[], Any]) -> None:
        try:
            job()
        except Exception:           # one bad closure must not take the event loop down
            log.exception("UI job failed")


_lock = threading.Lock()
_dispatcher: _Dispatcher | None = None


def _get() -> _Dispatcher:
    global _dispatcher
    with _lock:
        if _dispatcher is None or not shiboken6.isValid(_dispatcher):
            app = QCoreApplication.instance()
            if app is None:
                raise RuntimeError("ui.dispatch needs a QApplication")
            dispatcher = _Dispatcher()
            if dispatcher.thread() is not app.thread():
                dispatcher.moveToThread(app.thread())
            dispatcher.setParent(app)       # C++ owns it; deleted with the application only
            _dispatcher = dispatcher
        return _dispatcher


def ensure() -> None:
    """Create the dispatcher now (the UI thread, at start-up), not on a worker thread later."""
    _get()


def post(job: Callable[[], Any]) -> None:
    """Any thread: run ``job()`` on the UI thread soon (in order of posting)."""
    emit(_get()._run, job)


def alive(obj: Any) -> bool:
    """UI thread: is this Qt object still there (not deleted by the end of its visit)?"""
    return obj is not None and shiboken6.isValid(obj)
