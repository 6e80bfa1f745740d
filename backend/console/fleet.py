"""The fleet: each kiosk's latest heartbeat, its state at a glance, and its alerts.

State is always shown as colour + word + icon (never colour alone): ok ✔, warning ▲, alert ✖.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from backend.context import Services
from backend.db import kiosks
from backend.heartbeat import kiosk_heartbeats

BAD_DEVICE_STATES = frozenset({"offline", "noDevice", "serviceDown", "hardwareError"})
HISTORY = 50


@dataclass(frozen=True)
class Alert:
    code: str                 # device_offline | outbox_old | clock_drift | no_heartbeat | dead_letters
    detail: str               # a device name, a duration: no personal data
    severity: str             # alert | warning


@dataclass
class KioskState:
    kiosk_id: str
    state: str = "alert"      # ok | warning | alert
    last: dict[str, Any] | None = None
    devices: dict[str, str] = field(default_factory=dict)
    models: dict[str, str] = field(default_factory=dict)
    alerts: list[Alert] = field(default_factory=list)


def _row(row: Any) -> dict[str, Any]:
    out = dict(row)
    out["devices"] = json.loads(row["devices"])
    out["models"] = json.loads(row["models"])
    out["dead_letter_detail"] = json.loads(row["dead_letter_detail"] or "[]")
    return out


def assess(services: Services, kiosk_id: str, last: dict[str, Any] | None, now: datetime) -> KioskState:
    cfg = services.config.console
    state = KioskState(kiosk_id, last=last)
    if last is None:
        state.alerts.append(Alert("no_heartbeat", "never", "alert"))
        return state
    state.devices, state.models = last["devices"], last["models"]
    silent = (now - last["received_at"]).total_seconds()
    if silent > cfg.heartbeat_stale_s:
        state.alerts.append(Alert("no_heartbeat", f"{int(silent)} s", "alert"))
    for name, status in sorted(state.devices.items()):
        if status in BAD_DEVICE_STATES:
            state.alerts.append(Alert("device_offline", f"{name}: {status}", "alert"))
    oldest = last["oldest_unsent_age_s"]
    if oldest is not None and oldest > cfg.outbox_max_age_s:
        state.alerts.append(Alert("outbox_old", f"{int(oldest // 60)} min, {last['outbox_depth']}", "warning"))
    if last["dead_letters"]:
        # Records the backend refused for good: nothing is stuck behind them, but each needs a look
        # (the kiosk page lists them with the backend's reasons).
        state.alerts.append(Alert("dead_letters", str(last["dead_letters"]), "warning"))
    if abs(last["clock_drift_s"]) > cfg.clock_drift_max_s:
        state.alerts.append(Alert("clock_drift", f"{last['clock_drift_s']:+.0f} s", "warning"))
    severities = {a.severity for a in state.alerts}
    state.state = "alert" if "alert" in severities else "warning" if severities else "ok"
    return state


def overview(services: Services) -> list[KioskState]:
    latest = (sa.select(kiosk_heartbeats.c.kiosk_id, sa.func.max(kiosk_heartbeats.c.id).label("id"))
              .group_by(kiosk_heartbeats.c.kiosk_id).subquery())
    with services.reader.connect() as conn:
        enrolled = [r[0] for r in conn.execute(sa.select(kiosks.c.kiosk_id).order_by(kiosks.c.kiosk_id))]
        rows = conn.execute(sa.select(kiosk_heartbeats).join(latest, kiosk_heartbeats.c.id == latest.c.id)) \
            .mappings().all()
    by_kiosk = {r["kiosk_id"]: _row(r) for r in rows}
    now = services.clock()
    ids = sorted(set(enrolled) | set(by_kiosk))
    return [assess(services, k, by_kiosk.get(k), now) for k in ids]


def history(services: Services, kiosk_id: str) -> tuple[KioskState, list[dict[str, Any]]]:
    with services.reader.connect() as conn:
        rows = conn.execute(sa.select(kiosk_heartbeats).where(kiosk_heartbeats.c.kiosk_id == kiosk_id)
                            .order_by(kiosk_heartbeats.c.id.desc()).limit(HISTORY)).mappings().all()
    beats = [_row(r) for r in rows]
    return assess(services, kiosk_id, beats[0] if beats else None, services.clock()), beats
