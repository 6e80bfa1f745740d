"""The sync worker against the real backend service (its own process, real HTTP, real database)."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

from synchelpers import BackendProcess, enrolled_kiosk, inject_signed

from kiosk.backend_client import BackendClient, BatchAccepted
from kiosk.outbox import Outbox
from kiosk.store import Store
from kiosk.sync import SyncStatus, SyncWorker

ID_DECEASED = "440106193001019999"
ID_CERTIFIED = "440104194811026548"      # demo seed: certified until 2026-12-31


def _wait(predicate, timeout_s: float = 30.0, what: str = "condition") -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")


def _worker(store: Store, client: BackendClient, **kw: float) -> SyncWorker:
    params = {"batch_size": 50, "idle_poll_s": 0.1, "backoff_initial_s": 0.05, "backoff_max_s": 0.3, **kw}
    return SyncWorker(store, client, **params)  # type: ignore[arg-type]


def test_queue_built_while_backend_down_drains_in_order(tmp_path: Path, backend: BackendProcess) -> None:
    kiosk_id = "sync-down-0001"
    signer, client = enrolled_kiosk(backend, tmp_path, kiosk_id)
    store = Store(tmp_path / "kiosk.sqlite3", kiosk_id=kiosk_id, signer=signer)
    worker = _worker(store, client)
    statuses: list[SyncStatus] = []
    worker.subscribe(statuses.append)
    backend.stop()
    try:
        worker.start()
        refs = [store.commit_result("attempt_failed", {"step": "pin_entry", "n": i}) for i in range(600)]
        _wait(lambda: worker.snapshot().state == "waiting_retry", what="the worker to back off")
        down = worker.snapshot()
        assert down.queued == 600 and down.oldest_unsent_age_s is not None and down.oldest_unsent_age_s > 0
        assert down.last_error is not None and "unavailable" in down.last_error
        assert down.next_retry_in_s is not None and down.next_retry_in_s <= 0.3
        time.sleep(1.0)                                       # several failed retries, nothing lost
        assert worker.snapshot().queued == 600
    finally:
        backend.start()
    _wait(lambda: worker.snapshot().queued == 0, what="the queue to drain")
    worker.stop(10)
    stored = backend.stored(kiosk_id)
    assert [r[0] for r in stored] == [r.id for r in refs]      # every record, once, in the kiosk's order
    assert [r[1] for r in stored] == list(range(1, 601))
    final = worker.snapshot()
    assert final.last_error is None and final.last_success_at is not None and final.dead_count == 0
    assert any(s.state == "waiting_retry" for s in statuses) and any(s.queued == 0 for s in statuses)
    store.close()


def test_replayed_batch_changes_nothing(tmp_path: Path, backend: BackendProcess) -> None:
    kiosk_id = "sync-replay-0001"
    signer, client = enrolled_kiosk(backend, tmp_path, kiosk_id)
    store = Store(tmp_path / "kiosk.sqlite3", kiosk_id=kiosk_id, signer=signer)
    for i in range(30):
        store.commit_result("attempt_failed", {"n": i})
    with store.read() as conn:
        envelopes = [r[0] for r in conn.execute("SELECT envelope FROM outbox ORDER BY n")]
    first = client.post_records(envelopes)
    assert isinstance(first, BatchAccepted) and {r["status"] for r in first.results} == {"accepted"}
    before = backend.stored(kiosk_id)
    again = client.post_records(envelopes)
    assert isinstance(again, BatchAccepted)
    assert [r["status"] for r in again.results] == ["duplicate"] * 30
    assert [(r["id"], r["outcome"]) for r in again.results] == [(r["id"], r["outcome"]) for r in first.results]
    assert backend.stored(kiosk_id) == before and len(before) == 30
    # The worker, which never saw the first answer (as after a crash), resends and is told "duplicate".
    report = _worker(store, client).drain_once()
    assert report.sent == 30 and report.error is None
    assert backend.stored(kiosk_id) == before
    assert set(backend.count_by_id(kiosk_id).values()) == {1}
    store.close()


def test_poison_records_are_dead_lettered_and_the_rest_drains(tmp_path: Path, backend: BackendProcess) -> None:
    kiosk_id = "sync-poison-0001"
    signer, client = enrolled_kiosk(backend, tmp_path, kiosk_id)
    store = Store(tmp_path / "kiosk.sqlite3", kiosk_id=kiosk_id, signer=signer)
    good = [store.commit_result("attempt_failed", {"n": i}).id for i in range(20)]
    # Lacks id_number: the kiosk's own checks refuse it now, so an older kiosk queued it.
    malformed = inject_signed(store, signer, kiosk_id, "certification", {"result": "passed"})
    good += [store.commit_result("attempt_failed", {"n": i}).id for i in range(20, 40)]
    tampered = store.commit_result("attempt_failed", {"n": 40}).id
    good += [store.commit_result("attempt_failed", {"n": i}).id for i in range(41, 60)]
    # Someone edits a stored record: its signature no longer verifies.
    conn = sqlite3.connect(store.path)
    (text,) = conn.execute("SELECT envelope FROM outbox WHERE id = ?", (tampered,)).fetchone()
    conn.execute("UPDATE outbox SET envelope = ? WHERE id = ?", (text.replace('"n":40', '"n":41'), tampered))
    conn.commit()
    conn.close()
    worker = _worker(store, client, batch_size=25)
    report = worker.drain_once()
    assert report.error is None and report.dead == 2 and report.sent == len(good)
    assert [r[0] for r in backend.stored(kiosk_id)] == good
    status = worker.snapshot()
    assert status.queued == 0 and status.dead_count == 2
    reasons = {d.id: d.reason for d in status.dead_letters}
    assert "id_number" in reasons[malformed] and "signature" in reasons[tampered]
    store.close()


def test_unenrolled_kiosk_dead_letters_nothing_and_drains_after_enrollment(
        tmp_path: Path, backend: BackendProcess) -> None:
    from kiosk.signing import create_key

    kiosk_id = "sync-unenrolled-0001"
    signer = create_key(tmp_path / "kiosk.key")
    client = BackendClient(backend.url, kiosk_id, signer, timeout_s=5.0)
    store = Store(tmp_path / "kiosk.sqlite3", kiosk_id=kiosk_id, signer=signer)
    for i in range(10):
        store.commit_result("attempt_failed", {"n": i})
    worker = _worker(store, client)
    report = worker.drain_once()
    assert report.sent == 0 and report.dead == 0 and "unknown_kiosk" in (report.error or "")
    status = worker.snapshot()
    assert status.queued == 10 and status.dead_count == 0 and "enroll" in (status.last_error or "")
    client.enroll(signer.public_key_b64, backend.enrollment_token(kiosk_id))
    assert worker.drain_once().sent == 10
    assert len(backend.stored(kiosk_id)) == 10
    store.close()


def test_business_outcomes_come_back_for_the_operator(tmp_path: Path, backend: BackendProcess) -> None:
    kiosk_id = "sync-outcome-0001"
    seed = {"persons": [{"id_number": ID_DECEASED, "name": "测试", "retired": True, "deceased": True}]}
    r = BackendClient(backend.url, "x", None)._http.post(
        "/v1/operator/seed", json=seed, headers={"Authorization": f"Bearer {backend.operator_token}"})
    assert r.status_code == 200, r.text
    signer, client = enrolled_kiosk(backend, tmp_path, kiosk_id)
    store = Store(tmp_path / "kiosk.sqlite3", kiosk_id=kiosk_id, signer=signer)
    dead_person = store.commit_result("certification", {"id_number": ID_DECEASED, "result": "passed"},
                                      operator_id="op-0042")
    plain = store.commit_result("attempt_failed", {"n": 1})
    worker = _worker(store, client)
    assert worker.drain_once().sent == 2
    attention = worker.snapshot().attention
    assert [(a.id, a.outcome) for a in attention] == [(dead_person.id, "deceased")]
    assert attention[0].message
    assert Outbox(store).outcome_of(plain.id)[:2] == ("synced", "ok")
    Outbox(store).acknowledge_outcome(dead_person.id)
    assert worker.snapshot().attention == ()
    stored = backend.stored(kiosk_id)
    assert stored[0][0] == dead_person.id and stored[0][3] == "deceased"
    store.close()


def test_sealed_capture_reaches_backend_and_is_dropped_locally(tmp_path: Path, backend: BackendProcess) -> None:
    import sqlalchemy as sa
    from cryptography.hazmat.primitives import serialization

    from backend.crypto import open_sealed
    from backend.db import records

    kiosk_id = "sync-capture-0001"
    signer, client = enrolled_kiosk(backend, tmp_path, kiosk_id)
    store = Store(tmp_path / "kiosk.sqlite3", kiosk_id=kiosk_id, signer=signer)   # no pinned key
    worker = _worker(store, client)
    worker.drain_once()                                          # online once: fetches the review key
    assert store.review_key() is not None
    photo = b"\xff\xd8\xff\xe0 decision frame"
    ref = store.commit_result("certification", {"id_number": ID_CERTIFIED, "result": "review"},
                              sealed={"capture": photo})
    assert worker.drain_once().sent == 1
    with backend.engine().connect() as conn:
        envelope = json.loads(conn.execute(sa.select(records.c.envelope).where(records.c.id == ref.id)).scalar())
    private = serialization.load_pem_private_key((backend.data_dir / "review_x25519.pem").read_bytes()
                                                 if backend.dsn else
                                                 (backend.data_dir / "embedded" / "review_x25519.pem").read_bytes(),
                                                 password=None)
    assert open_sealed(private, envelope["payload"]["capture"]) == photo
    with store.read() as conn:
        local = json.loads(conn.execute("SELECT envelope FROM outbox WHERE id = ?", (ref.id,)).fetchone()[0])
    assert local["payload"]["capture"] == {"enc": "x25519-hkdf-sha256-aesgcm", "dropped": True}
    store.close()


def test_concurrent_writers_while_syncing_keep_seq_order(tmp_path: Path, backend: BackendProcess) -> None:
    import threading

    kiosk_id = "sync-threads-0001"
    signer, client = enrolled_kiosk(backend, tmp_path, kiosk_id)
    store = Store(tmp_path / "kiosk.sqlite3", kiosk_id=kiosk_id, signer=signer)
    worker = _worker(store, client, batch_size=20)
    worker.start()

    def writer(k: int) -> None:
        for i in range(150):
            with store.transaction() as tx:
                tx.put_state("writer", str(k), i)
                tx.add_record("attempt_failed", {"writer": k, "i": i})

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    _wait(lambda: worker.snapshot().queued == 0, what="the queue to drain")
    worker.stop(10)
    with store.read() as conn:
        local = conn.execute("SELECT id, seq FROM outbox ORDER BY n").fetchall()
    assert [r[1] for r in local] == list(range(1, 601))          # seq follows commit order, no duplicates
    assert [(r[0], r[1]) for r in backend.stored(kiosk_id)] == [tuple(r) for r in local]
    assert [store.get_state("writer", str(k)) for k in range(4)] == [149] * 4
    store.close()
