"""The operator's day report: certified, pending review, failed, skipped, pending sync, conflicts;
exported as CSV and PDF. Personal data is masked (ID: 4401**********1234, name not included).

Counts come from the signed records the operator wrote that day (the outbox), so the report shows
exactly what will reach (or reached) the bureau; the backend's outcome is shown per record once
synced (``already_certified``, ``deceased`` are conflicts the operator must look at).
"""

from __future__ import annotations

import csv
import io
import json
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from kiosk.i18n import N_, _
from kiosk.privacy import mask_id_number
from kiosk.store import Store

CJK_FONT_CANDIDATES = (
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", "Noto Sans CJK SC"),
    ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc", "Noto Serif CJK SC"),
)

RESULT_LABELS = {
    "passed": N_("Certified"),
    "pending_review": N_("Assisted: manual review"),
    "failed": N_("Failed"),
    "skipped": N_("Skipped"),
}
SYNC_LABELS = {"queued": N_("Waiting to sync"), "synced": N_("Synced"), "dead": N_("Refused by the bureau")}
CONFLICT_OUTCOMES = ("already_certified", "deceased", "unknown_person")
OUTCOME_LABELS = {
    "ok": N_("Accepted"),
    "already_certified": N_("Already certified elsewhere"),
    "deceased": N_("Recorded as deceased by the bureau"),
    "unknown_person": N_("Not known to the bureau"),
}


@dataclass(frozen=True)
class ReportLine:
    record_id: str
    time_local: str                   # HH:MM
    person: str                       # masked ID number
    result: str                       # passed | pending_review | failed | skipped
    method: str                       # face | assisted | ""
    sync_state: str                   # queued | synced | dead
    outcome: str                      # the backend's outcome once synced, else ""


@dataclass(frozen=True)
class DayReport:
    operator_id: str
    day: str                          # YYYY-MM-DD, kiosk local time
    kiosk_id: str
    certified: int
    pending_review: int
    failed: int
    skipped: int
    pending_sync: int
    conflicts: int
    lines: tuple[ReportLine, ...] = field(default=())


def day_start(now: float | None = None) -> float:
    t = time.localtime(time.time() if now is None else now)
    return time.mktime((t.tm_year, t.tm_mon, t.tm_mday, 0, 0, 0, 0, 0, -1))


def build_day_report(store: Store, operator_id: str, *, now: float | None = None) -> DayReport:
    now = time.time() if now is None else now
    since = day_start(now)
    with store.read() as conn:
        rows = conn.execute(
            "SELECT id, created_ts, envelope, state, outcome FROM outbox WHERE operator_id = ? AND created_ts >= ? "
            "AND type IN ('certification', 'field_visit') ORDER BY n", (operator_id, since)).fetchall()
    lines = []
    for record_id, created_ts, envelope, state, outcome in rows:
        payload = json.loads(envelope).get("payload", {})
        lines.append(ReportLine(record_id, datetime.fromtimestamp(created_ts).strftime("%H:%M"),
                                mask_id_number(str(payload.get("id_number", ""))), str(payload.get("result", "")),
                                str(payload.get("method", "")), state,
                                outcome if state == "synced" and outcome else ""))
    count = lambda result: sum(1 for line in lines if line.result == result)  # noqa: E731
    return DayReport(operator_id, datetime.fromtimestamp(now).strftime("%Y-%m-%d"), store.kiosk_id,
                     certified=count("passed"), pending_review=count("pending_review"), failed=count("failed"),
                     skipped=count("skipped"), pending_sync=sum(1 for line in lines if line.sync_state == "queued"),
                     conflicts=sum(1 for line in lines if line.outcome in CONFLICT_OUTCOMES), lines=tuple(lines))


def summary_rows(report: DayReport) -> list[tuple[str, int]]:
    return [(_(N_("Certified")), report.certified), (_(N_("Assisted: manual review")), report.pending_review),
            (_(N_("Failed")), report.failed), (_(N_("Skipped")), report.skipped),
            (_(N_("Waiting to sync")), report.pending_sync), (_(N_("Conflicts to check")), report.conflicts)]


def _line_cells(line: ReportLine) -> list[str]:
    return [line.time_local, line.person, _(RESULT_LABELS.get(line.result, line.result)),
            _(SYNC_LABELS.get(line.sync_state, line.sync_state)),
            _(OUTCOME_LABELS[line.outcome]) if line.outcome in OUTCOME_LABELS else line.outcome]


def headers() -> list[str]:
    return [_(N_("Time")), _(N_("Person")), _(N_("Result")), _(N_("Sync")), _(N_("Bureau outcome"))]


def to_csv(report: DayReport) -> str:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow([_(N_("Day report")), report.day, report.kiosk_id, report.operator_id])
    for label, value in summary_rows(report):
        w.writerow([label, value])
    w.writerow([])
    w.writerow(headers())
    for line in report.lines:
        w.writerow(_line_cells(line))
    return out.getvalue()


def export_csv(report: DayReport, path: Path) -> Path:
    # UTF-8 with BOM: spreadsheet programs on the office PCs then read the Chinese correctly.
    path.write_text(to_csv(report), encoding="utf-8-sig")
    return path


def find_cjk_font() -> tuple[str, int]:
    """(file, index in the collection) of a simplified-Chinese font; raises with what to install."""
    from fontTools.ttLib import TTCollection

    for path, wanted in CJK_FONT_CANDIDATES:
        if Path(path).is_file():
            for index, font in enumerate(TTCollection(path).fonts):
                if font["name"].getDebugName(4) in (wanted, wanted + " Regular") or \
                        font["name"].getDebugName(1) == wanted:
                    return path, index
    raise FileNotFoundError("no Chinese font for the PDF: install fonts-noto-cjk (scripts/setup.sh)")


def export_pdf(report: DayReport, path: Path) -> Path:
    from fpdf import FPDF

    font_file, index = find_cjk_font()
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_font("cjk", fname=font_file, collection_font_number=index)
    pdf.add_page()
    pdf.set_font("cjk", size=18)
    pdf.cell(0, 12, _(N_("Field certification day report")), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=11)
    pdf.cell(0, 7, f"{_(N_('Day'))}: {report.day}    {_(N_('Kiosk'))}: {report.kiosk_id}    "
                   f"{_(N_('Operator'))}: {report.operator_id}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font("cjk", size=12)
    for label, value in summary_rows(report):
        pdf.cell(70, 8, label, border=1)
        pdf.cell(25, 8, str(value), border=1, align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(5)
    widths = (18, 48, 42, 34, 48)
    pdf.set_font("cjk", size=10)
    for text, w in zip(headers(), widths, strict=True):
        pdf.cell(w, 8, text, border=1, fill=False)
    pdf.ln()
    for line in report.lines:
        for text, w in zip(_line_cells(line), widths, strict=True):
            pdf.cell(w, 7, text, border=1)
        pdf.ln()
    pdf.ln(4)
    pdf.set_font("cjk", size=9)
    pdf.multi_cell(0, 5, _(N_("ID numbers are masked. Names and addresses are not printed. Keep this report "
                                "with the office's records; do not leave it at a visit.")))
    pdf.output(str(path))
    return path
