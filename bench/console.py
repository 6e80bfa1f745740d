"""Console and heartbeat figures on PostgreSQL.

    .venv/bin/python bench/console.py [--kiosks 50] [--beats 20] [--records 20000]

Starts a throw-away PostgreSQL (tests/pgfixture.py) and the backend in a thread, enrolls the kiosks,
and every kiosk sends its signed heartbeats in order (threads, like real kiosks on their timers):
prints heartbeats/s and p50/p99 latency. Then fills ``records`` with synthetic certifications
spread over 14 days and times the pages a signed-in staff member opens: fleet, figures (three
pygal charts) and the CSV export (p50/p99 over 10 loads each).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "console"), str(ROOT)]

from consolekit import STAFF, ConsoleClient, MovableClock, console_config  # noqa: E402
from pgfixture import PgCluster  # noqa: E402

from backend.auth import issue_enrollment_token  # noqa: E402
from backend.console.accounts import create_user  # noqa: E402
from backend.db import records  # noqa: E402
from backend.server import serve_in_thread  # noqa: E402
from kiosk.backend_client import BackendClient  # noqa: E402
from kiosk.signing import Signer  # noqa: E402


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kiosks", type=int, default=50)
    parser.add_argument("--beats", type=int, default=20)
    parser.add_argument("--records", type=int, default=20000)
    args = parser.parse_args()
    cluster = PgCluster().start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            server, services = serve_in_thread(console_config(cluster.create_database("bench"), Path(tmp)),
                                               clock=MovableClock())
            clients = []
            for i in range(args.kiosks):
                signer = Signer.generate()
                client = BackendClient(server.url, f"bench-{i:03d}", signer, timeout_s=10)
                client.enroll(signer.public_key_b64, issue_enrollment_token(services, f"bench-{i:03d}")["token"])
                clients.append(client)
            body = {"reason": "timer", "software": {"version": "0.1.0", "sha256": None}, "models": {},
                    "devices": {"pinpad": "online", "smartcard": "online", "camera": "idle"},
                    "outbox": {"depth": 0, "oldest_unsent_age_s": None}, "last_sync_at": None,
                    "free_disk_bytes": 10**10}

            def run(client: BackendClient) -> list[float]:
                times = []
                for _ in range(args.beats):
                    t0 = time.perf_counter()
                    assert isinstance(client.post_heartbeat(body), dict)
                    times.append(time.perf_counter() - t0)
                return times

            t0 = time.perf_counter()
            with ThreadPoolExecutor(max_workers=16) as pool:
                lat = [x for part in pool.map(run, clients) for x in part]
            wall = time.perf_counter() - t0
            print(f"heartbeats: {len(lat)} from {args.kiosks} kiosks in {wall:.2f} s = {len(lat) / wall:.0f}/s; "
                  f"latency p50 {_pct(lat, 0.5) * 1000:.1f} ms, p99 {_pct(lat, 0.99) * 1000:.1f} ms")

            now = datetime.now(UTC)
            rows = []
            for n in range(args.records):
                when = now - timedelta(minutes=n * 14 * 24 * 60 // max(args.records, 1))
                result = ("passed", "passed", "passed", "failed", "pending_review")[n % 5]
                payload = {"id_number": f"44010619500101{n % 10000:04d}", "result": result, "decision_s": 0.5 + n % 9}
                rows.append({"id": str(uuid.uuid4()), "kiosk_id": f"bench-{n % args.kiosks:03d}", "seq": n // args.kiosks + 1,
                             "type": "certification", "operator_id": None, "person_id": payload["id_number"],
                             "created_at": when, "received_at": when, "day": when.date().isoformat(),
                             "envelope": json.dumps({"payload": payload}), "outcome": "ok", "message": ""})
            with services.engine.begin() as conn:
                for i in range(0, len(rows), 5000):
                    conn.execute(records.insert(), rows[i:i + 5000])
            create_user(services, "bench", "Bench", "administrator", "a long bench password",
                        totp_secret=STAFF["ada"][1])
            backend = type("B", (), {"url": server.url, "clock": services.clock})()
            staff = ConsoleClient(backend)   # type: ignore[arg-type]
            import pyotp

            page = staff.http.get("/console/login")
            from consolekit import csrf_of

            staff.http.post("/console/login", data={"csrf": csrf_of(page.text), "username": "bench",
                                                     "password": "a long bench password",
                                                     "code": pyotp.TOTP(STAFF["ada"][1]).now()})
            for path in ("/console/fleet", "/console/figures", "/console/figures.csv"):
                times = []
                for _ in range(10):
                    t0 = time.perf_counter()
                    answer = staff.http.get(path)
                    times.append(time.perf_counter() - t0)
                    assert answer.status_code == 200, (path, answer.status_code)
                print(f"GET {path}: {args.kiosks} kiosks, {args.records} records: p50 "
                      f"{_pct(times, 0.5) * 1000:.0f} ms, p99 {_pct(times, 0.99) * 1000:.0f} ms")
            staff.close()
            server.stop()
            services.engine.dispose()
    finally:
        cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
