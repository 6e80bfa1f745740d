"""Rate-limit lockouts: which phones (persons) and kiosks are locked now, and lifting them.

The limits themselves are counted from ``sms_requests`` over a rolling hour (backend/sms.py):
codes sent per phone and per kiosk, and wrong codes entered per phone and per kiosk. A subject
is locked while a count is at its limit. An operator lifts a lockout by recording a lift: the
subject's windows then count only from that moment (``rate_limit_lifts``), nothing is deleted.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from backend.clock import format_rfc3339
from backend.context import Services
from backend.db import rate_limit_lifts, sms_requests
from backend.errors import ApiError
from kiosk.privacy import mask_phone

KINDS = ("phone", "kiosk")


def window_start(conn: Connection, kind: str, subject: str, now: datetime) -> datetime:
    """Start of the rolling hour for this subject: an hour ago, or the operator's lift if later."""
    start = now - timedelta(hours=1)
    lifted = conn.execute(sa.select(rate_limit_lifts.c.lifted_at).where(
        rate_limit_lifts.c.kind == kind, rate_limit_lifts.c.subject == subject)).scalar()
    if lifted is not None:
        lifted = lifted if lifted.tzinfo else lifted.replace(tzinfo=now.tzinfo)
        start = max(start, lifted)
    return start


def _limits(services: Services) -> dict[tuple[str, str], int]:
    cfg = services.config.sms
    return {("phone", "codes"): cfg.per_phone_per_hour, ("kiosk", "codes"): cfg.per_kiosk_per_hour,
            ("phone", "wrong_codes"): cfg.wrong_codes_per_phone_per_hour,
            ("kiosk", "wrong_codes"): cfg.wrong_codes_per_kiosk_per_hour}


def current(services: Services) -> dict[str, Any]:
    """Every subject at or over a limit now, with the count, the limit and when it frees itself."""
    now = services.clock()
    hour_ago = now - timedelta(hours=1)
    out: list[dict[str, Any]] = []
    with services.engine.connect() as conn:
        lifts = {(r.kind, r.subject): r.lifted_at for r in conn.execute(sa.select(rate_limit_lifts))}
        for kind, column in (("phone", sms_requests.c.phone), ("kiosk", sms_requests.c.kiosk_id)):
            rows = conn.execute(sa.select(column.label("subject"), sms_requests.c.created_at, sms_requests.c.attempts)
                                .where(sms_requests.c.created_at > hour_ago)).all()
            per: dict[str, list[tuple[datetime, int]]] = {}
            for r in rows:
                when = r.created_at if r.created_at.tzinfo else r.created_at.replace(tzinfo=now.tzinfo)
                lifted = lifts.get((kind, r.subject))
                if lifted is not None and when <= (lifted if lifted.tzinfo else lifted.replace(tzinfo=now.tzinfo)):
                    continue
                per.setdefault(r.subject, []).append((when, r.attempts))
            for subject, events in sorted(per.items()):
                for what in ("codes", "wrong_codes"):
                    limit = _limits(services)[(kind, what)]
                    count = len(events) if what == "codes" else sum(a for _w, a in events)
                    if count >= limit:
                        oldest = min(w for w, _a in events)
                        out.append({"kind": kind, "subject": subject, "limit_name": f"{what}_per_{kind}_per_hour",
                                    "count": count, "limit": limit,
                                    "subject_masked": mask_phone(subject) if kind == "phone" else subject,
                                    "until": format_rfc3339(oldest + timedelta(hours=1))})
    return {"lockouts": out}


def lift(services: Services, kind: str, subject: str) -> dict[str, Any]:
    if kind not in KINDS:
        raise ApiError(404, "unknown_lockout_kind", f"kind must be one of {', '.join(KINDS)}")
    now = services.clock()
    dialect = postgresql if services.engine.dialect.name == "postgresql" else sqlite
    with services.engine.begin() as conn:
        stmt = dialect.insert(rate_limit_lifts).values(kind=kind, subject=subject, lifted_at=now)
        conn.execute(stmt.on_conflict_do_update(index_elements=["kind", "subject"], set_={"lifted_at": now}))
    return {"kind": kind, "subject": subject, "lifted_at": format_rfc3339(now)}
