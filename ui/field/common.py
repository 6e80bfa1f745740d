"""Shared bits of the field screens: background work with the answer on the Qt thread, and the
sentence for a typed error from the core."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject

from kiosk.i18n import _
from ui import dispatch


class Background(QObject):
    """Runs ``job()`` on a thread; ``done(result_or_exception)`` is called on the Qt thread.

    The answer goes through the application-wide dispatcher (ui/dispatch.py), not a signal of this
    object: the screen owning it may be closed (and this object deleted) before the job ends."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.busy = False

    def run(self, job: Callable[[], Any], done: Callable[[Any], None]) -> None:
        self.busy = True

        def work() -> None:
            try:
                result: Any = job()
            except Exception as exc:     # typed errors become the screen's message
                result = exc
            dispatch.post(lambda: self._deliver(done, result) if dispatch.alive(self) else None)

        threading.Thread(target=work, name="field-ui-job", daemon=True).start()

    def _deliver(self, done: Callable[[Any], None], result: Any) -> None:
        self.busy = False
        done(result)


def error_text(exc: BaseException) -> str:
    """A FieldError carries a msgid and its arguments; SignIn/Roster errors an English sentence."""
    message = getattr(exc, "message", None)
    if isinstance(message, str):
        return _(message).format(**getattr(exc, "format_args", {}))
    code = getattr(exc, "code", None)
    if isinstance(code, str):
        from ui.field.texts import ERROR_TEXTS

        if code in ERROR_TEXTS:
            return _(ERROR_TEXTS[code])
    return str(exc)
