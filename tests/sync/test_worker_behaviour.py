"""The sync worker's thread: backoff growth, jitter bounds, what cuts a wait short, stopping."""

from __future__ import annotations

import random
import socket
import time
from pathlib import Path

from kiosk.backend_client import BackendClient
from kiosk.signing import Signer
from kiosk.store import Store
from kiosk.sync import SyncStatus, SyncWorker


def _closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


def test_backoff_doubles_to_the_cap_with_jitter(store: Store) -> None:
    worker = SyncWorker(store, BackendClient(_closed_port_url(), "k", None), backoff_initial_s=1.0,
                        backoff_max_s=60.0, rng=random.Random(3))
    for failures, cap in [(1, 1.0), (2, 2.0), (3, 4.0), (6, 32.0), (7, 60.0), (50, 60.0)]:
        delays = [worker.backoff_delay(failures) for _ in range(200)]
        assert all(cap / 2 <= d <= cap for d in delays), (failures, min(delays), max(delays))
        assert max(delays) - min(delays) > cap / 4                 # jitter: kiosks do not retry in step


def test_new_records_do_not_cut_a_backoff_but_sync_now_does(store: Store, signer: Signer) -> None:
    client = BackendClient(_closed_port_url(), "test-kiosk-0001", signer, timeout_s=1.0)
    worker = SyncWorker(store, client, backoff_initial_s=30.0, backoff_max_s=30.0, idle_poll_s=30.0)
    states: list[SyncStatus] = []
    worker.subscribe(states.append)
    store.commit_result("attempt_failed", {})
    worker.start()
    try:
        deadline = time.monotonic() + 10
        while worker.snapshot().state != "waiting_retry" and time.monotonic() < deadline:
            time.sleep(0.02)
        attempts_after_first = _attempts(store)
        assert attempts_after_first == 1 and worker.snapshot().next_retry_in_s is not None
        store.commit_result("attempt_failed", {})                   # wake(): must not hammer a down backend
        time.sleep(0.3)
        assert _attempts(store) == attempts_after_first
        worker.sync_now()                                           # the operator's button: try at once
        deadline = time.monotonic() + 10
        while _attempts(store) == attempts_after_first and time.monotonic() < deadline:
            time.sleep(0.02)
        assert _attempts(store) > attempts_after_first
    finally:
        started = time.monotonic()
        worker.stop(10)
        stopped_in = time.monotonic() - started
    assert stopped_in < 5, "stop() waited out the 30 s backoff"
    assert worker.snapshot().state == "stopped"
    assert {"sending", "waiting_retry"} <= {s.state for s in states}
    snap = worker.snapshot()
    assert snap.queued == 2 and snap.last_error and snap.last_error_at


def _attempts(store: Store) -> int:
    with store.read() as conn:
        return int(conn.execute("SELECT max(attempts) FROM outbox").fetchone()[0] or 0)


def test_worker_status_survives_restart(tmp_path: Path, signer: Signer) -> None:
    path = tmp_path / "k.sqlite3"
    store = Store(path, kiosk_id="k", signer=signer)
    store.commit_result("attempt_failed", {})
    SyncWorker(store, BackendClient(_closed_port_url(), "k", signer, timeout_s=1.0)).drain_once()
    store.close()
    store = Store(path, kiosk_id="k", signer=signer)
    snap = SyncWorker(store, BackendClient(_closed_port_url(), "k", signer)).snapshot()
    assert snap.queued == 1 and snap.last_error and "unavailable" in snap.last_error
    assert snap.oldest_unsent_age_s is not None and snap.state == "stopped"
    store.close()
