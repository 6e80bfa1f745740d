"""Outbox figures: enqueue rate with synchronous=FULL, and drain rate of 10,000 queued records
against a local backend (the real service in its own process, on PostgreSQL by default).

    .venv/bin/python bench/outbox_drain.py [--records 10000] [--batch 200] [--backend pg|embedded]

Prints figures; asserts nothing about speed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "sync")]

from synchelpers import BackendProcess, enrolled_kiosk  # noqa: E402

from kiosk.store import Store  # noqa: E402
from kiosk.sync import SyncWorker  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--backend", choices=["pg", "embedded"], default="pg")
    args = parser.parse_args()

    cluster = None
    with tempfile.TemporaryDirectory(prefix="outbox-bench-") as tmp:
        work = Path(tmp)
        dsn = None
        if args.backend == "pg":
            from pgfixture import PgCluster

            cluster = PgCluster(durable=True).start()       # fsync on: a fair figure for the server
            dsn = cluster.create_database("bench")
        backend = BackendProcess(dsn, work)
        try:
            backend.start()
            signer, client = enrolled_kiosk(backend, work, "bench-kiosk-0001")
            store = Store(work / "kiosk.sqlite3", kiosk_id="bench-kiosk-0001", signer=signer)

            # Enqueue: one transaction per record (state + record), each on disk before it returns.
            latencies = []
            started = time.perf_counter()
            for i in range(args.records):
                t0 = time.perf_counter()
                with store.transaction() as tx:
                    tx.put_state("bench", "last", i)
                    tx.add_record("certification", {"id_number": "440106195203154324", "result": "failed",
                                                    "attempt": i}, operator_id="op-0001")
                latencies.append(time.perf_counter() - t0)
            enqueue_s = time.perf_counter() - started
            lat = sorted(latencies)
            print(f"enqueue  {args.records} records (synchronous=FULL, WAL): {args.records / enqueue_s:,.0f} records/s, "
                  f"commit p50 {statistics.median(lat) * 1000:.2f} ms, p99 {lat[int(len(lat) * 0.99)] * 1000:.2f} ms")

            worker = SyncWorker(store, client, batch_size=args.batch)
            started = time.perf_counter()
            report = worker.drain_once()
            drain_s = time.perf_counter() - started
            assert report.error is None and report.sent == args.records, report
            stored = backend.stored("bench-kiosk-0001")
            assert len(stored) == args.records
            print(f"drain    {args.records} queued records, batch {args.batch}, backend {args.backend}: "
                  f"{args.records / drain_s:,.0f} records/s ({drain_s:.1f} s)")
            store.close()
        finally:
            backend.close()
            if cluster is not None:
                cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
