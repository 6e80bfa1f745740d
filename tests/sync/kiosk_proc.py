"""A kiosk process for the fault tests: writes records (telling "the citizen" after each commit)
while its sync worker drains them to the backend. The tests SIGKILL it at random moments.

    python kiosk_proc.py DATA_DIR URL KIOSK_ID COUNT [--drain]

Prints ``ACK <id> <seq>`` after each committed record (the moment a citizen would see "done"),
``DRAINED`` when --drain is given and the outbox is empty (then exits 0).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from kiosk.backend_client import BackendClient
from kiosk.outbox import Outbox
from kiosk.signing import load_signer
from kiosk.store import Store
from kiosk.sync import SyncWorker


def main() -> int:
    data_dir, url, kiosk_id, count = Path(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
    drain = "--drain" in sys.argv
    signer = load_signer(data_dir / "kiosk.key")
    store = Store(data_dir / "kiosk.sqlite3", kiosk_id=kiosk_id, signer=signer)
    client = BackendClient(url, kiosk_id, signer, timeout_s=5.0, sync_timeout_s=10.0)
    worker = SyncWorker(store, client, batch_size=25, idle_poll_s=0.05, backoff_initial_s=0.05,
                        backoff_max_s=0.2)
    worker.start()
    for i in range(count):
        with store.transaction() as tx:
            n = (tx.get_state("visits", "count") or 0) + 1
            tx.put_state("visits", "count", n)
            ref = tx.add_record("attempt_failed", {"step": "pin_entry", "visit_no": n, "i": i})
        print(f"ACK {ref.id} {ref.seq}", flush=True)
        if i % 7 == 0:
            time.sleep(0.002)
    if drain:
        deadline = time.monotonic() + 60
        while Outbox(store).counts().queued and time.monotonic() < deadline:
            worker.sync_now()
            time.sleep(0.05)
        print("DRAINED" if not Outbox(store).counts().queued else "NOT-DRAINED", flush=True)
    worker.stop(5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
