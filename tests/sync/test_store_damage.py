"""A damaged local store is noticed: emptied, truncated or unreadable stores refuse to open and
say so; a counter behind the backend is moved up at start; a full disk and a read-only store are
named errors."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from synchelpers import BackendProcess, enrolled_kiosk

from kiosk.outbox import Outbox
from kiosk.signing import Signer
from kiosk.store import Store, StoreDamagedError, StoreFullError, StoreReadOnlyError
from kiosk.sync import SyncWorker


def _store_with_records(path: Path, signer: Signer, n: int = 3) -> None:
    store = Store(path, kiosk_id="damage-kiosk-01", signer=signer)
    for i in range(n):
        store.commit_result("attempt_failed", {"n": i})
    store.close()


def test_emptied_store_refuses_to_open(tmp_path: Path, signer: Signer) -> None:
    path = tmp_path / "kiosk.sqlite3"
    _store_with_records(path, signer)
    for suffix in ("-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    path.write_bytes(b"")                                   # truncated to 0 bytes
    with pytest.raises(StoreDamagedError) as info:
        Store(path, kiosk_id="damage-kiosk-01", signer=signer)
    assert "empty" in str(info.value) and "Restore the file from backup" in str(info.value)
    assert path.stat().st_size == 0                          # nothing was created over it
    path.unlink()
    with pytest.raises(StoreDamagedError, match="missing"):
        Store(path, kiosk_id="damage-kiosk-01", signer=signer)


def test_truncated_or_garbled_store_refuses_to_open(tmp_path: Path, signer: Signer) -> None:
    path = tmp_path / "kiosk.sqlite3"
    _store_with_records(path, signer, 200)
    data = path.read_bytes()
    path.write_bytes(b"\x00" * 100 + data[100:4096])         # header destroyed, most pages cut off
    with pytest.raises(StoreDamagedError) as info:
        Store(path, kiosk_id="damage-kiosk-01", signer=signer)
    assert "cannot be read" in str(info.value) or "no kiosk schema" in str(info.value)


def test_new_store_opens_and_leaves_a_marker(tmp_path: Path, signer: Signer) -> None:
    path = tmp_path / "new" / "kiosk.sqlite3"
    _store_with_records(path, signer, 1)
    assert (tmp_path / "new" / "kiosk.sqlite3.created").exists()
    store = Store(path, kiosk_id="damage-kiosk-01", signer=signer)   # and reopens normally
    assert Outbox(store).counts().queued == 1
    store.close()


def test_disk_full_and_read_only_are_named(tmp_path: Path, signer: Signer) -> None:
    store = Store(tmp_path / "kiosk.sqlite3", kiosk_id="damage-kiosk-01", signer=signer)
    store.commit_result("attempt_failed", {"n": 0})
    pages = store.conn.execute("PRAGMA page_count").fetchone()[0]
    store.conn.execute(f"PRAGMA max_page_count = {pages}")        # SQLite's own "disk full" (SQLITE_FULL)
    with pytest.raises(StoreFullError) as info:
        for i in range(200):
            store.commit_result("attempt_failed", {"blob": "x" * 4000, "i": i})
    assert "disk is full" in str(info.value) and "NOT saved" in str(info.value)
    store.conn.execute("PRAGMA max_page_count = 1000000")
    assert store.commit_result("attempt_failed", {"n": 1}).seq >= 2    # usable again once there is space
    store.conn.execute("PRAGMA query_only = ON")                     # writes refused as on a read-only mount
    with pytest.raises(StoreReadOnlyError, match="read-only"):
        store.commit_result("attempt_failed", {"n": 2})
    store.close()


def test_counter_behind_the_backend_is_moved_up_at_start(tmp_path: Path, backend: BackendProcess) -> None:
    kiosk_id = "damage-seq-01"
    signer, client = enrolled_kiosk(backend, tmp_path, kiosk_id)
    store = Store(tmp_path / "kiosk.sqlite3", kiosk_id=kiosk_id, signer=signer)
    for i in range(5):
        store.commit_result("attempt_failed", {"n": i})
    worker = SyncWorker(store, client, batch_size=50)
    assert worker.drain_once().sent == 5
    # The store loses its acknowledged records and its counter (as with a cut WAL).
    with store.transaction() as tx:
        tx.execute("DELETE FROM outbox")
        tx.execute("UPDATE seq_counter SET last_seq = 1")
    store.close()
    store = Store(tmp_path / "kiosk.sqlite3", kiosk_id=kiosk_id, signer=signer)
    worker = SyncWorker(store, client, batch_size=50)
    report = worker.drain_once()                                       # the check runs at start
    assert "behind the backend" in (store.get_meta("store.seq_repaired") or "")
    ref = store.commit_result("attempt_failed", {"n": "after"})
    assert ref.seq == 6
    report = worker.drain_once()
    assert report.error is None and report.dead == 0 and backend.stored(kiosk_id)[-1][0] == ref.id
    store.close()
    conn = sqlite3.connect(tmp_path / "kiosk.sqlite3")
    assert conn.execute("SELECT count(*) FROM outbox WHERE state = 'dead'").fetchone()[0] == 0
    conn.close()
