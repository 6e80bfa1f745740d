"""The operator's day report: the counts in large type, the visits, export to CSV and PDF."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QGridLayout, QListWidget, QVBoxLayout, QWidget

from kiosk.field.report import RESULT_LABELS, SYNC_LABELS, summary_rows
from kiosk.i18n import _
from ui.field.common import Background, error_text
from ui.widgets.common import button, label


class DayReportScreen(QWidget):
    def __init__(self, field: Any, export_dir: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("screen")
        self.field = field
        self.export_dir = export_dir
        self._bg = Background(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(60, 40, 60, 40)
        layout.setSpacing(20)
        self.title = label("title", parent=self)
        self.grid = QGridLayout()
        self.count_labels: list[tuple[Any, Any]] = []
        for row in range(6):
            name, value = label(parent=self), label("title", parent=self)
            self.grid.addWidget(name, row, 0)
            self.grid.addWidget(value, row, 1)
            self.count_labels.append((name, value))
        self.lines = QListWidget(self)
        self.export_button = button(parent=self)
        self.export_button.clicked.connect(self.export)
        self.message = label(parent=self)
        layout.addWidget(self.title)
        layout.addLayout(self.grid)
        layout.addWidget(self.lines)
        layout.addWidget(self.export_button)
        layout.addWidget(self.message)
        self.retranslate()

    def retranslate(self) -> None:
        self.title.setText(_("Day report"))
        self.export_button.setText(_("Export CSV and PDF"))
        self.refresh()

    def refresh(self) -> None:
        try:
            report = self.field.day_report()
        except Exception as exc:
            self.message.setText(error_text(exc))
            return
        for (name, value), (text, number) in zip(self.count_labels, summary_rows(report), strict=True):
            name.setText(text)
            value.setText(str(number))
        self.lines.clear()
        for line in report.lines:
            self.lines.addItem(f"{line.time_local}  {line.person}  {_(RESULT_LABELS.get(line.result, line.result))}"
                               f"  {_(SYNC_LABELS.get(line.sync_state, line.sync_state))}")

    def export(self) -> None:
        if self._bg.busy:
            return
        self.message.setText(_("Exporting…"))
        self._bg.run(lambda: self.field.export_report(self.export_dir), self._done)

    def _done(self, result: object) -> None:
        if isinstance(result, BaseException):
            self.message.setText(error_text(result))
            return
        csv_path, pdf_path = result  # type: ignore[misc]
        self.message.setText(_("Saved: {csv} and {pdf}").format(csv=csv_path.name, pdf=pdf_path.name))
