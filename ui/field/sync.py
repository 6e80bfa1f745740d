"""Sync status and the conflicts the bureau sent back (certified elsewhere meanwhile, deceased)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QVBoxLayout, QWidget

from kiosk.i18n import _
from ui import dispatch
from ui.field.texts import OUTCOME_ADVICE, OUTCOME_TITLES
from ui.qt_compat import emit
from ui.widgets.common import button, label


class SyncConflictScreen(QWidget):
    status_changed = Signal(object)        # the worker's SyncStatus, handed over from the sync thread

    def __init__(self, field: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("screen")
        self.field = field
        self.layout_ = QVBoxLayout(self)
        self.layout_.setContentsMargins(60, 40, 60, 40)
        self.layout_.setSpacing(20)
        self.title = label("title", parent=self)
        self.status = label(parent=self)
        self.sync_button = button(parent=self)
        self.sync_button.clicked.connect(self.sync_now)
        self.conflicts_title = label("title", parent=self)
        self.conflicts_box = QVBoxLayout()
        for widget in (self.title, self.status, self.sync_button, self.conflicts_title):
            self.layout_.addWidget(widget)
        self.layout_.addLayout(self.conflicts_box)
        self.layout_.addStretch(1)
        self.conflict_rows: list[QWidget] = []
        self.status_changed.connect(lambda _s: self.refresh())
        if field.worker is not None:
            # Through the app-lifetime dispatcher (ui/dispatch.py): the sync thread may publish after
            # this page was deleted, and emitting on a deleted page raised in the worker.
            self._unsubscribe = field.worker.subscribe(
                lambda s: dispatch.post(lambda: emit(self.status_changed, s) if dispatch.alive(self) else None))
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.refresh)
        self._timer.start(5000)
        self.retranslate()

    def retranslate(self) -> None:
        self.title.setText(_("Sync"))
        self.sync_button.setText(_("Sync now"))
        self.conflicts_title.setText(_("Results to check"))
        self.refresh()

    def sync_now(self) -> None:
        if self.field.worker is not None:
            self.field.worker.sync_now()

    def refresh(self) -> None:
        if self.field.store.closed:     # the kiosk is shutting down: a queued update arrived late
            self._timer.stop()
            return
        worker = self.field.worker
        if worker is not None:
            s = worker.snapshot()
            text = _("Waiting to sync: {queued}. Last success: {last}.").format(
                queued=s.queued, last=s.last_success_at or _("never"))
            if s.last_error:
                text += " " + _("Not connected: records are kept and sent when the network is back.")
            if s.dead_count:
                text += " " + _("{count} refused by the bureau: call the office.").format(count=s.dead_count)
            self.status.setText(text)
        for row in self.conflict_rows:
            row.setParent(None)
            row.deleteLater()
        self.conflict_rows = []
        conflicts = self.field.conflicts()
        if not conflicts:
            none = label("muted", parent=self)
            none.setText(_("Nothing to check."))
            self.conflicts_box.addWidget(none)
            self.conflict_rows.append(none)
        for c in conflicts:
            row = QWidget(self)
            row.setObjectName("panel")
            box = QHBoxLayout(row)
            text = label(parent=row)
            text.setText(f"⚠ {_(OUTCOME_TITLES.get(c.outcome, c.outcome))}: {c.person} ({c.created_at[:16]})\n"
                         f"{_(OUTCOME_ADVICE.get(c.outcome, ''))}")
            ok = button("secondary", parent=row)
            ok.setText(_("Seen"))
            ok.clicked.connect(lambda _checked=False, rid=c.record_id: self._acknowledge(rid))
            box.addWidget(text, 1)
            box.addWidget(ok)
            self.conflicts_box.addWidget(row)
            self.conflict_rows.append(row)

    def _acknowledge(self, record_id: str) -> None:
        try:
            self.field.acknowledge_conflict(record_id)
        except Exception as exc:
            from ui.field.common import error_text

            self.status.setText(error_text(exc))
        self.refresh()
