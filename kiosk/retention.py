"""The purge job: what the kiosk may keep, and for how long.

- Synced records are deleted ``store.retention_days`` after the backend acknowledged them.
  Queued and dead-lettered records are never purged: they have not reached the bureau.
- Sealed review captures (already encrypted; the kiosk never holds them in clear) are stripped
  from synced records ``store.capture_retention_hours`` after sync (0: at once, by the sync).

Run it at start-up and then periodically (:func:`start_purge_timer`), and from tests directly.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from kiosk.outbox import strip_sealed
from kiosk.store import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PurgeReport:
    records_deleted: int
    captures_dropped: int


def purge(store: Store, *, retention_days: int, capture_retention_hours: int,
          now: float | None = None) -> PurgeReport:
    now = time.time() if now is None else now
    record_cutoff = now - retention_days * 86400
    capture_cutoff = now - capture_retention_hours * 3600
    with store.transaction() as tx:
        rows = tx.execute("SELECT id, envelope FROM outbox WHERE state = 'synced' AND has_capture = 1 "
                          "AND synced_ts <= ?", (capture_cutoff,)).fetchall()
        for record_id, envelope in rows:
            tx.execute("UPDATE outbox SET envelope = ?, has_capture = 0 WHERE id = ?",
                       (strip_sealed(envelope), record_id))
        deleted = tx.execute("DELETE FROM outbox WHERE state = 'synced' AND synced_ts <= ?",
                             (record_cutoff,)).rowcount
    report = PurgeReport(deleted, len(rows))
    if deleted or rows:
        log.info("store purged", extra={"records_deleted": deleted, "captures_dropped": len(rows)})
    return report


def purge_from_config(store: Store, config: Any) -> PurgeReport:
    return purge(store, retention_days=config.store.retention_days,
                 capture_retention_hours=config.store.capture_retention_hours)


def start_purge_timer(store: Store, config: Any, every_s: float = 3600.0) -> threading.Event:
    """Purge now and then every ``every_s`` on a daemon thread; set the returned event to stop."""
    stop = threading.Event()

    def loop() -> None:
        while True:
            try:
                purge_from_config(store, config)
            except Exception:
                log.exception("store purge failed")
            if stop.wait(every_s):
                return

    threading.Thread(target=loop, name="store-purge", daemon=True).start()
    return stop
