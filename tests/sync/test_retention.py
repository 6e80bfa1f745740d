"""The purge job: synced records expire, unsent ones never do, captures go after sync."""

from __future__ import annotations

import json
import time

from kiosk.outbox import Outbox
from kiosk.retention import purge
from kiosk.store import Store


def _synced(store: Store, ids: list[str], at: float) -> None:
    Outbox(store).mark_synced([{"id": i, "status": "accepted", "outcome": "ok"} for i in ids])
    with store.transaction() as tx:
        tx.conn.executemany("UPDATE outbox SET synced_ts = ? WHERE id = ?", [(at, i) for i in ids])


def test_purge_deletes_only_old_synced_records(store: Store) -> None:
    now = time.time()
    old = [store.commit_result("pin_change", {}).id for _ in range(3)]
    recent = store.commit_result("pin_change", {}).id
    queued = store.commit_result("pin_change", {}).id
    dead = store.commit_result("pin_change", {}).id
    _synced(store, old, now - 31 * 86400)
    _synced(store, [recent], now - 29 * 86400)
    Outbox(store).dead_letter(dead, "malformed")
    report = purge(store, retention_days=30, capture_retention_hours=0, now=now)
    assert report.records_deleted == 3
    with store.read() as conn:
        left = {r[0] for r in conn.execute("SELECT id FROM outbox")}
    assert left == {recent, queued, dead}


def test_captures_are_stripped_after_their_retention(store: Store) -> None:
    now = time.time()
    a = store.commit_result("certification", {"id_number": "440106195001011234"}, sealed={"capture": b"a" * 50}).id
    b = store.commit_result("certification", {"id_number": "440106195001011234"}, sealed={"capture": b"b" * 50}).id
    c = store.commit_result("certification", {"id_number": "440106195001011234"}, sealed={"capture": b"c" * 50}).id
    _synced(store, [a], now - 5 * 3600)
    _synced(store, [b], now - 1 * 3600)                              # c stays queued: kept until sent
    report = purge(store, retention_days=30, capture_retention_hours=2, now=now)
    assert report == type(report)(0, 1)
    with store.read() as conn:
        rows = dict(conn.execute("SELECT id, envelope FROM outbox").fetchall())
    assert json.loads(rows[a])["payload"]["capture"] == {"enc": "x25519-hkdf-sha256-aesgcm", "dropped": True}
    assert "ct" in json.loads(rows[b])["payload"]["capture"]
    assert "ct" in json.loads(rows[c])["payload"]["capture"]


def test_sync_ack_can_drop_captures_at_once(store: Store) -> None:
    ref = store.commit_result("certification", {"id_number": "440106195001011234"}, sealed={"capture": b"x" * 10})
    Outbox(store).mark_synced([{"id": ref.id, "status": "accepted", "outcome": "ok"}], drop_captures=True)
    with store.read() as conn:
        envelope, has = conn.execute("SELECT envelope, has_capture FROM outbox").fetchone()
    assert has == 0 and json.loads(envelope)["payload"]["capture"]["dropped"] is True
