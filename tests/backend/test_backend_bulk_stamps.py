"""backend.bulk's COPY path converts timestamps through UtcDateTime's own conversion: an aware
datetime is stored as the same UTC instant as the plain path stores it, and a naive one (its zone
unknown) is refused the same way on both paths, on a real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from backend import bulk
from backend.context import Services
from backend.db import dev_sms_outbox

BEIJING = timezone(timedelta(hours=8))


def _insert_plain(conn: sa.Connection, rows: list[dict]) -> None:
    conn.execute(dev_sms_outbox.insert(), rows)


def test_aware_stamps_are_stored_alike_on_both_paths(services: Services) -> None:
    at = datetime(2026, 12, 7, 9, 30, tzinfo=BEIJING)
    with services.engine.begin() as conn:
        bulk.insert(conn, dev_sms_outbox, [{"phone": "13800000001", "text": "copy", "sent_at": at}])
        _insert_plain(conn, [{"phone": "13800000002", "text": "plain", "sent_at": at}])
        stored = conn.execute(sa.select(dev_sms_outbox.c.text, dev_sms_outbox.c.sent_at)
                              .order_by(dev_sms_outbox.c.id)).all()
    assert [s for _, s in stored] == [datetime(2026, 12, 7, 1, 30, tzinfo=UTC)] * 2


@pytest.mark.parametrize("path", [bulk.insert, lambda conn, table, rows: _insert_plain(conn, rows)],
                         ids=["copy", "plain"])
def test_a_naive_stamp_is_refused_on_both_paths(services: Services, path) -> None:
    naive = datetime(2026, 12, 7, 9, 30)
    with pytest.raises(sa.exc.StatementError) as refused, services.engine.begin() as conn:
        path(conn, dev_sms_outbox, [{"phone": "13800000003", "text": "naive", "sent_at": naive}])
    assert isinstance(refused.value.orig, ValueError)
    assert "naive datetime given to a UTC column" in str(refused.value.orig)
    with services.engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(dev_sms_outbox)) == 0
