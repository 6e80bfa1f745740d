"""Shared bits of the field screens: background work with the answer on the Qt thread, and the
sentence for a typed error from the core."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from kiosk.i18n import _
from ui.qt_compat import emit


class Background(QObject):
    """Runs ``job()`` on a thread; ``done(result_or_exception)`` is called on the Qt thread."""

    finished = Signal(object, object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.finished.connect(self._deliver)
        self.busy = False

    def run(self, job: Callable[[], Any], done: Callable[[Any], None]) -> None:
        self.busy = True

        def work() -> None:
            try:
                result: Any = job()
            except Exception as exc:     # typed errors become the screen's message
                result = exc
            emit(self.finished, done, result)

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
