"""Ingest throughput and batch latency of the backend on PostgreSQL, for many simulated kiosks.

    .venv/bin/python bench/backend_ingest.py [--kiosks 40] [--batches 10] [--records 50] [--replicas 2]
                                             [--dsn postgresql://...] [--fast-fsync]

Starts a throw-away PostgreSQL (tests/pgfixture.py; fsync on unless --fast-fsync) unless --dsn is
given, runs ``--replicas`` backend processes (uvicorn) against it, enrolls the kiosks, then every
kiosk sends its batches in order (each waits for its previous answer, like the sync worker),
round-robin over the replicas. Prints records/s, batches/s and p50/p99 batch latency, then the
same for a full replay (everything duplicate).
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "backend"), str(ROOT)]

from backend_kit import MovableClock, SigningKiosk  # noqa: E402
from pgfixture import PgCluster  # noqa: E402

from backend.crypto import load_or_create_review_key  # noqa: E402

TOKEN = "bench-operator-token"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_replicas(dsn: str, n: int, workdir: Path) -> tuple[list[subprocess.Popen[bytes]], list[str]]:
    key = workdir / "review.pem"
    load_or_create_review_key(key, create=True)
    env = {**os.environ, "BACKEND__DATABASE__DSN": dsn, "BACKEND__AUTH__OPERATOR_TOKEN": TOKEN,
           "BACKEND__KEYS__REVIEW_PRIVATE_KEY": str(key)}
    procs, urls = [], []
    for i in range(n):
        port = _port()
        log = (workdir / f"replica{i}.log").open("wb")
        procs.append(subprocess.Popen([sys.executable, "-m", "backend.cli", "serve", "--port", str(port)],
                                      cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT))
        urls.append(f"http://127.0.0.1:{port}")
    for i, url in enumerate(urls):
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(url + "/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if procs[i].poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"replica {i} did not start; see {workdir / f'replica{i}.log'}")
            time.sleep(0.1)
    return procs, urls


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _run(urls: list[str], plans: dict[str, list[dict]], kiosks: int) -> tuple[float, list[float]]:
    latencies: list[float] = []

    def drive(item: tuple[int, list[dict]]) -> list[float]:
        index, batches = item
        mine = []
        with httpx.Client(timeout=60) as client:
            for j, batch in enumerate(batches):
                url = urls[(index + j) % len(urls)]
                t0 = time.perf_counter()
                r = client.post(url + "/v1/records:batch", json=batch)
                mine.append(time.perf_counter() - t0)
                if r.status_code != 200:
                    raise SystemExit(f"batch refused: {r.status_code} {r.text[:300]}")
        return mine

    t0 = time.perf_counter()
    with ThreadPoolExecutor(kiosks) as pool:
        for part in pool.map(drive, enumerate(plans.values())):
            latencies.extend(part)
    return time.perf_counter() - t0, latencies


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kiosks", type=int, default=40)
    parser.add_argument("--batches", type=int, default=10, help="batches per kiosk")
    parser.add_argument("--records", type=int, default=50, help="records per batch")
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--dsn", help="use this PostgreSQL database instead of starting one")
    parser.add_argument("--fast-fsync", action="store_true", help="throw-away server with fsync=off")
    args = parser.parse_args()

    cluster = None
    workdir = Path(tempfile.mkdtemp(prefix="bench-backend-"))
    if args.dsn:
        dsn = args.dsn
    else:
        cluster = PgCluster(durable=not args.fast_fsync).start()
        dsn = cluster.create_database("bench")
    procs: list[subprocess.Popen[bytes]] = []
    try:
        procs, urls = _start_replicas(dsn, args.replicas, workdir)
        clock = MovableClock.real()
        fleet = [SigningKiosk(f"bench-kiosk-{i:04d}", clock) for i in range(args.kiosks)]
        for k in fleet:
            token = httpx.post(urls[0] + "/v1/operator/enrollment-tokens", json={},
                               headers={"Authorization": f"Bearer {TOKEN}"}).json()["token"]
            httpx.post(urls[0] + "/v1/kiosks/enroll",
                       json={"kiosk_id": k.kiosk_id, "public_key": k.public_key_b64, "token": token}
                       ).raise_for_status()
        plans = {k.kiosk_id: [k.batch([k.record("attempt_failed", {"step": "face", "n": j, "score": 0.31})
                                       for j in range(args.records)]) for _ in range(args.batches)]
                 for k in fleet}
        total = args.kiosks * args.batches * args.records
        print(f"backend ingest: {args.kiosks} kiosks x {args.batches} batches x {args.records} records "
              f"= {total} records, {args.replicas} replica(s), PostgreSQL "
              f"{'fsync=off' if args.fast_fsync and not args.dsn else 'as configured' if args.dsn else 'fsync=on'}, "
              f"{os.cpu_count()} CPU(s)")
        for label in ("first delivery", "full replay (all duplicate)"):
            elapsed, lat = _run(urls, plans, args.kiosks)
            print(f"  {label:28s} {total / elapsed:9.0f} records/s  {len(lat) / elapsed:7.1f} batches/s  "
                  f"p50 {1000 * statistics.median(lat):7.1f} ms  p99 {1000 * _percentile(lat, 0.99):7.1f} ms")
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=10)
        if cluster is not None:
            cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
