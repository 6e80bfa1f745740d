"""The day's figures: services per day and per kiosk, certification success and escalation
rates, face decision time distribution. Charts are SVG rendered on the server by pygal (no
script, no external resource); the same numbers are offered as CSV."""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

import pygal
import sqlalchemy as sa
from pygal.style import Style

from backend.console.tables import review_decisions
from backend.context import Services
from backend.db import records

DAYS = 14
TIME_BINS = (1.0, 2.0, 3.0, 5.0, 8.0, 13.0)        # seconds: upper edges of the decision-time bins
_STYLE = Style(background="transparent", plot_background="transparent", font_family="Noto Sans CJK SC, sans-serif",
               colors=("#1f5fa8", "#c77c02", "#2f7d32", "#b3261e"))


@dataclass
class Figures:
    days: list[str]
    per_day: dict[str, Counter[str]] = field(default_factory=dict)      # day -> type -> count
    per_kiosk: Counter[str] = field(default_factory=Counter)
    certifications: int = 0
    passed: int = 0
    escalated: int = 0
    decision_bins: Counter[str] = field(default_factory=Counter)

    @property
    def success_rate(self) -> float:
        return self.passed / self.certifications if self.certifications else 0.0

    @property
    def escalation_rate(self) -> float:
        return self.escalated / self.certifications if self.certifications else 0.0


def bin_label(seconds: float) -> str:
    low = 0.0
    for edge in TIME_BINS:
        if seconds <= edge:
            return f"{low:g}–{edge:g} s"
        low = edge
    return f"> {TIME_BINS[-1]:g} s"


def compute(services: Services, days: int = DAYS) -> Figures:
    today = services.clock().date()
    day_list = [(today - timedelta(days=i)).isoformat() for i in range(days - 1, -1, -1)]
    figures = Figures(day_list, {d: Counter() for d in day_list})
    with services.reader.connect() as conn:
        rows = conn.execute(sa.select(records.c.day, records.c.kiosk_id, records.c.type, records.c.envelope,
                                      review_decisions.c.decision)
                            .select_from(records.outerjoin(review_decisions,
                                                           review_decisions.c.record_id == records.c.id))
                            .where(records.c.day >= day_list[0])).all()
    for day, kiosk_id, rtype, envelope, decision in rows:
        figures.per_day[day][rtype] += 1
        figures.per_kiosk[kiosk_id] += 1
        if rtype != "certification":
            continue
        payload = json.loads(envelope)["payload"]
        figures.certifications += 1
        result = payload.get("result")
        figures.passed += result == "passed" or (result == "pending_review" and decision == "approved")
        figures.escalated += result in ("pending_review", "failed")     # went to a person, whatever they decided
        if isinstance(payload.get("decision_s"), int | float) and payload["decision_s"] > 0:
            figures.decision_bins[bin_label(float(payload["decision_s"]))] += 1
    return figures


_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>", re.S)


def _render(chart: pygal.Graph) -> str:
    # pygal always writes its tooltip script's settings inline; the page loads no pygal.js and its
    # CSP refuses inline script, so drop that block rather than have every view log a violation.
    return _SCRIPT.sub("", chart.render(is_unicode=True))


def _config(title: str, counts: list[int]) -> pygal.Config:
    """No script, no XML prolog (inlined in the page), whole-number axis for counts."""
    top = max(counts, default=0)
    step = max(1, -(-top // 5))
    return pygal.Config(style=_STYLE, js=[], disable_xml_declaration=True, width=720, height=300,
                        show_legend=True, legend_at_bottom=True, print_values=False, title=title,
                        x_label_rotation=30, truncate_legend=-1, y_labels=list(range(0, top + step + 1, step)),
                        value_formatter=lambda v: f"{v:.0f}")


def per_day_chart(figures: Figures, title: str, total_label: str, cert_label: str) -> str:
    totals = [sum(figures.per_day[d].values()) for d in figures.days]
    chart = pygal.Bar(_config(title, totals))
    chart.x_labels = [d[5:] for d in figures.days]
    chart.add(total_label, totals)
    chart.add(cert_label, [figures.per_day[d]["certification"] for d in figures.days])
    return _render(chart)


def per_kiosk_chart(figures: Figures, title: str, label: str) -> str:
    kiosks = sorted(figures.per_kiosk)
    counts = [figures.per_kiosk[k] for k in kiosks]
    chart = pygal.HorizontalBar(_config(title, counts))
    chart.x_labels = kiosks
    chart.add(label, counts)
    return _render(chart)


def decision_time_chart(figures: Figures, title: str, label: str) -> str:
    labels = [bin_label(e) for e in TIME_BINS] + [f"> {TIME_BINS[-1]:g} s"]
    counts = [figures.decision_bins[b] for b in labels]
    chart = pygal.Bar(_config(title, counts))
    chart.x_labels = labels
    chart.add(label, counts)
    return _render(chart)


def to_csv(figures: Figures) -> str:
    """One table: section, key, value. Counts only: no ID numbers, no names."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["section", "key", "value"])
    for day in figures.days:
        writer.writerow(["services_per_day", day, sum(figures.per_day[day].values())])
    for kiosk, count in sorted(figures.per_kiosk.items()):
        writer.writerow(["services_per_kiosk", kiosk, count])
    writer.writerow(["certification", "total", figures.certifications])
    writer.writerow(["certification", "success_rate", f"{figures.success_rate:.4f}"])
    writer.writerow(["certification", "escalation_rate", f"{figures.escalation_rate:.4f}"])
    for label in [bin_label(e) for e in TIME_BINS] + [f"> {TIME_BINS[-1]:g} s"]:
        writer.writerow(["face_decision_time", label, figures.decision_bins[label]])
    return out.getvalue()
