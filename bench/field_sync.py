"""How long the sync of a field kiosk's offline day(s) takes once it is back online.

1,000 certifications are written offline exactly as the field certifier writes them (signed record
with the operator's id + the roster's done mark, one transaction each, synchronous=FULL), while the
backend is down; then the backend (the real service in its own process, on PostgreSQL with fsync
on) comes up and the sync worker drains the outbox. Prints figures; asserts nothing about speed.

    .venv/bin/python bench/field_sync.py [--records 1000] [--batch 200]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "sync"), str(ROOT / "tests" / "field")]

from fieldhelpers import roster_answer  # noqa: E402
from synchelpers import BackendProcess, enrolled_kiosk  # noqa: E402

from kiosk.field.vault import RosterVault  # noqa: E402
from kiosk.store import Store  # noqa: E402
from kiosk.sync import SyncWorker  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=200)
    args = parser.parse_args()

    from pgfixture import PgCluster

    cluster = PgCluster(durable=True).start()
    try:
        with tempfile.TemporaryDirectory(prefix="field-sync-bench-") as tmp:
            work = Path(tmp)
            backend = BackendProcess(cluster.create_database("fieldbench"), work)
            backend.start()
            kiosk_id = "field-bench-01"
            signer, client = enrolled_kiosk(backend, work, kiosk_id)
            answer = roster_answer(args.records)
            from backend.seed import apply_seed

            apply_seed(backend.engine(), {"persons": [
                {"id_number": p["id_number"], "name": p["name"], "retired": True, "district": p["district"],
                 "face_template": p["template"]} for p in answer["persons"]]})
            backend.stop()                                           # the field: no network

            store = Store(work / "kiosk.sqlite3", kiosk_id=kiosk_id, signer=signer)
            vault = RosterVault(store, expiry_days=14)
            password = bytearray(b"bench operator password")
            _info, key = vault.save(answer, operator_id="op-7", secret=password)
            roster = vault.open(key)
            latencies = []
            started = time.perf_counter()
            for entry in roster.entries:
                t0 = time.perf_counter()
                with store.transaction() as tx:
                    ref = tx.add_record("certification", {
                        "id_number": entry.id_number, "result": "passed", "channel": "field", "method": "face",
                        "face_outcome": "match", "attempt": 1, "match_score": 0.71, "liveness_score": 0.99,
                        "on_roster": True, "roster_id": roster.info.roster_id}, operator_id="op-7")
                    vault.mark_done(tx, roster, entry.id_number, {"result": "passed", "record_id": ref.id,
                                                                  "at": time.time(), "operator_id": "op-7"})
                latencies.append(time.perf_counter() - t0)
            write_s = time.perf_counter() - started

            backend.start()                                          # back online
            worker = SyncWorker(store, client, batch_size=args.batch, idle_poll_s=3600)
            t0 = time.perf_counter()
            report = worker.drain_once()
            drain_s = time.perf_counter() - t0
            stored = backend.stored(kiosk_id)
            assert report.error is None and len(stored) == args.records, (report, len(stored))
            assert [s[1] for s in stored] == sorted(s[1] for s in stored)
            lat = sorted(latencies)
            print(f"offline writes: {args.records} certifications (record + roster mark, one transaction each) "
                  f"in {write_s:.2f} s; commit p50 {statistics.median(lat) * 1000:.1f} ms, "
                  f"p99 {lat[int(len(lat) * 0.99) - 1] * 1000:.1f} ms")
            print(f"sync when back online: {args.records} records in {drain_s:.2f} s "
                  f"({args.records / drain_s:.0f} records/s, batch {args.batch}); backend holds {len(stored)}, "
                  f"in seq order, outcomes: {sorted({s[3] for s in stored})}")
            client.close()
            store.close()
            backend.close()
    finally:
        cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
