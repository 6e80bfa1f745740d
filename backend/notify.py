"""Notifications to the bound phone after a PIN change, reset or unlock.

Rows are written to ``notifications`` in the same transaction as the record (so a record never
loses its notification and a replay never doubles it), then delivered after commit. A replica
claims a row before sending (``UPDATE ... WHERE sent_at IS NULL``), so two replicas never send
the same message; a failed send releases the claim for a later sweep (``deliver_pending``).
A gateway that is itself a table (``write_in``, the development one) is written by ingest in the
record's own transaction instead: nothing to claim, lose or send twice.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from backend import bulk
from backend.context import Services
from backend.db import notifications

log = logging.getLogger(__name__)

_WHAT = {
    "pin_change": ("修改", "changed"),
    "pin_reset": ("重置", "reset"),
    "pin_unblock": ("解锁", "unlocked"),
}


def notification_text(record_type: str, kiosk_id: str, when: datetime) -> str:
    """No secrets: what happened, where, when, and what to do if it was not you."""
    zh, en = _WHAT[record_type]
    stamp = when.strftime("%Y-%m-%d %H:%M UTC")
    return (f"【社保卡】您的社会保障卡密码已于{stamp}在自助终端{kiosk_id}{zh}。如非本人操作，请立即致电12333。"
            f" Your social security card PIN was {en} at kiosk {kiosk_id} on {stamp}."
            " If this was not you, call 12333 now.")


# The claim below on PostgreSQL, sent straight to psycopg (SQLAlchemy Core's execution of it cost
# several times psycopg's CPU per batch; backend/bulk.py:fetch).
_CLAIM_SQL = ("UPDATE notifications SET sent_at = %s, attempts = attempts + 1 WHERE id IN (SELECT id FROM "
              "notifications WHERE sent_at IS NULL ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED) "
              "AND sent_at IS NULL RETURNING id, phone, text")


class _Claimed(NamedTuple):
    id: int
    phone: str
    text: str


def deliver_pending(services: Services, record_ids: Sequence[str] | None = None, limit: int = 100,
                    conn: Connection | None = None) -> int:
    """Send notifications not yet sent (for ``record_ids``, or any); returns how many went out.
    ``conn``: claim on this connection (outside any transaction of it) instead of a pooled one."""
    # Find and claim in one statement, one transaction: a row another replica holds or claimed
    # first is skipped (SKIP LOCKED, and sent_at re-checked). Two round trips fewer per batch than
    # a read then a claim (bench/backend_ingest.py, the realistic mix).
    pending = sa.select(notifications.c.id).where(notifications.c.sent_at.is_(None)) \
        .order_by(notifications.c.id).limit(limit).with_for_update(skip_locked=True)
    if record_ids is not None:
        pending = pending.where(notifications.c.record_id.in_(list(record_ids)))
    with contextlib.ExitStack() as stack:
        if conn is None:
            conn = stack.enter_context(services.engine.connect())
        stack.enter_context(conn.begin())
        if record_ids is None and bulk.on_postgresql(conn):
            claimed = [_Claimed(*r) for r in bulk.fetch(conn, _CLAIM_SQL, (bulk.naive_utc(services.clock()), limit))]
        else:
            claimed = conn.execute(notifications.update()
                                   .where(notifications.c.id.in_(pending.scalar_subquery()),
                                          notifications.c.sent_at.is_(None))
                                   .values(sent_at=services.clock(), attempts=notifications.c.attempts + 1)
                                   .returning(notifications.c.id, notifications.c.phone, notifications.c.text)).all()
    if not claimed:
        return 0
    claimed.sort(key=lambda r: r.id)
    send_many = getattr(services.sms_gateway, "send_many", None)
    if send_many is not None:
        try:
            send_many([(r.phone, r.text) for r in claimed])
            return len(claimed)
        except Exception:
            log.warning("notifications not delivered; will retry", exc_info=True)
            _release(services, [r.id for r in claimed])
            return 0
    sent = 0
    for row in claimed:
        try:
            services.sms_gateway.send(row.phone, row.text)
            sent += 1
        except Exception:
            log.warning("notification not delivered; will retry", exc_info=True, extra={"notification": row.id})
            _release(services, [row.id])
    return sent


def _release(services: Services, ids: list[int]) -> None:
    with services.engine.begin() as conn:
        conn.execute(notifications.update().where(notifications.c.id.in_(ids)).values(sent_at=None))
