"""Fault test: SIGKILL the kiosk process at random moments while it writes and syncs, restart it,
and count. Every record acknowledged to the citizen must be in PostgreSQL exactly once."""

from __future__ import annotations

import json
import os
import random
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

from synchelpers import BackendProcess, enrolled_kiosk

KIOSK_PROC = Path(__file__).with_name("kiosk_proc.py")
ITERATIONS = int(os.environ.get("SYNC_FAULT_ITERATIONS", "20"))


class _Reader(threading.Thread):
    """Collects the complete ``ACK`` lines the kiosk printed (a killed process may leave half a line)."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        super().__init__(daemon=True)
        self.proc = proc
        self.lines: list[str] = []

    def run(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            if raw.endswith(b"\n"):
                self.lines.append(raw.decode().strip())


def _spawn(data_dir: Path, url: str, kiosk_id: str, count: int, *extra: str) -> tuple[subprocess.Popen[bytes], _Reader]:
    proc = subprocess.Popen([sys.executable, str(KIOSK_PROC), str(data_dir), url, kiosk_id, str(count), *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    reader = _Reader(proc)
    reader.start()
    return proc, reader


def test_kill_at_random_points_every_acknowledged_record_once(tmp_path: Path, backend: BackendProcess) -> None:
    kiosk_id = "fault-kill-0001"
    enrolled_kiosk(backend, tmp_path, kiosk_id)
    seed = int(os.environ.get("SYNC_FAULT_SEED", str(int(time.time()))))
    rng = random.Random(seed)
    acked: list[str] = []
    for _ in range(ITERATIONS):
        proc, reader = _spawn(tmp_path, backend.url, kiosk_id, 1_000_000)
        target = rng.randint(0, 150)                  # kill after this many acknowledgements...
        deadline = time.monotonic() + 30
        while len(reader.lines) < target and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.001)
        time.sleep(rng.uniform(0, 0.02))              # ...plus a random slice: mid-write or mid-upload
        proc.kill()
        proc.wait(10)
        reader.join(10)
        acked += [line.split()[1] for line in reader.lines if line.startswith("ACK ")]
    # Restart once more and let it drain everything that was committed.
    proc, reader = _spawn(tmp_path, backend.url, kiosk_id, 0, "--drain")
    proc.wait(90)
    reader.join(10)
    assert reader.lines[-1:] == ["DRAINED"], f"seed {seed}: the final run did not drain: {reader.lines[-3:]}"

    assert acked, f"seed {seed}: no record was acknowledged at all"
    counts = backend.count_by_id(kiosk_id)
    missing = [i for i in acked if counts.get(i) != 1]
    assert not missing, f"seed {seed}: {len(missing)} acknowledged records not exactly once in PostgreSQL"
    conn = sqlite3.connect(tmp_path / "kiosk.sqlite3")
    local = conn.execute("SELECT id, seq, state FROM outbox ORDER BY n").fetchall()
    visits = json.loads(conn.execute("SELECT value FROM local_state WHERE namespace = 'visits'").fetchone()[0])
    conn.close()
    # Nothing committed is lost, nothing appears that was not committed, nothing twice.
    assert {r[0] for r in local} == set(counts) and set(counts.values()) == {1}
    assert all(r[2] == "synced" for r in local)
    # State and record were always written together: one visit counted per record.
    assert visits == len(local)
    # The backend holds them in the kiosk's order.
    stored = backend.stored(kiosk_id)
    assert [r[0] for r in stored] == [r[0] for r in local]
    assert [r[1] for r in stored] == sorted(r[1] for r in stored)
    print(f"fault test: seed {seed}, {ITERATIONS} kills, {len(acked)} acknowledged, {len(local)} committed")


def test_backend_killed_mid_ingest_keeps_every_record_once(tmp_path: Path, backend: BackendProcess) -> None:
    from kiosk.store import Store
    from kiosk.sync import SyncWorker

    kiosk_id = "fault-backend-0001"
    signer, client = enrolled_kiosk(backend, tmp_path, kiosk_id)
    store = Store(tmp_path / "kiosk.sqlite3", kiosk_id=kiosk_id, signer=signer)
    refs = [store.commit_result("attempt_failed", {"n": i}) for i in range(3000)]
    worker = SyncWorker(store, client, batch_size=100, idle_poll_s=0.1, backoff_initial_s=0.05, backoff_max_s=0.2)
    seed = int(os.environ.get("SYNC_FAULT_SEED", str(int(time.time()))))
    rng = random.Random(seed)
    worker.start()
    try:
        for _ in range(3):                                 # each restart costs ~2 s of start-up
            time.sleep(rng.uniform(0.05, 0.4))              # mid-batch, most likely
            backend.kill()
            time.sleep(0.1)
            backend.start()
        deadline = time.monotonic() + 60
        while worker.snapshot().queued and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        worker.stop(10)
    assert worker.snapshot().queued == 0, f"seed {seed}: the queue did not drain after the backend came back"
    stored = backend.stored(kiosk_id)
    assert [r[0] for r in stored] == [r.id for r in refs], f"seed {seed}: not every record once, in order"
    store.close()
