"""Two stateless replicas (two uvicorn processes) against one PostgreSQL database."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from backend_kit import OPERATOR_TOKEN, PERSONS, MovableClock, SigningKiosk, operator_headers, seed_data

from backend.crypto import load_or_create_review_key
from backend.db import kiosks, make_engine, records
from backend.seed import apply_seed

ROOT = Path(__file__).resolve().parents[2]


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def replicas(dsn: str, tmp_path: Path) -> Iterator[list[str]]:
    key = tmp_path / "review.pem"
    load_or_create_review_key(key, create=True)
    env = {**os.environ, "BACKEND__DATABASE__DSN": dsn, "BACKEND__AUTH__OPERATOR_TOKEN": OPERATOR_TOKEN,
           "BACKEND__KEYS__REVIEW_PRIVATE_KEY": str(key), "BACKEND__DEV__ENDPOINTS": "true"}
    procs, urls = [], []
    for i in range(2):
        port = _port()
        log = (tmp_path / f"replica{i}.log").open("w")
        procs.append(subprocess.Popen([sys.executable, "-m", "backend.cli", "serve", "--port", str(port)],
                                      cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT))
        urls.append(f"http://127.0.0.1:{port}")
    deadline = time.monotonic() + 30
    for i, url in enumerate(urls):
        while True:
            try:
                if httpx.get(url + "/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if procs[i].poll() is not None or time.monotonic() > deadline:
                for p in procs:
                    p.kill()
                pytest.fail(f"replica {i} did not start: {(tmp_path / f'replica{i}.log').read_text()[-2000:]}")
            time.sleep(0.1)
    engine = make_engine(dsn)
    apply_seed(engine, seed_data())
    engine.dispose()
    yield urls
    for p in procs:
        p.terminate()
    for p in procs:
        p.wait(timeout=10)


def _enroll(url: str, kiosk: SigningKiosk) -> None:
    token = httpx.post(url + "/v1/operator/enrollment-tokens", json={"kiosk_id": kiosk.kiosk_id}, headers=operator_headers()).json()["token"]
    r = httpx.post(url + "/v1/kiosks/enroll", json={"kiosk_id": kiosk.kiosk_id, "public_key": kiosk.public_key_b64,
                                                    "token": token})
    assert r.status_code == 201, r.text


def test_replay_to_the_other_replica_changes_nothing(replicas, dsn):
    a, b = replicas
    k = SigningKiosk("kiosk-r1", MovableClock.real())
    _enroll(a, k)
    batch = k.batch([k.record("pin_change", {"id_number": PERSONS["alice"]}),
                     k.record("certification", {"id_number": PERSONS["alice"], "result": "passed"})])
    first = httpx.post(a + "/v1/records:batch", json=batch)
    assert first.status_code == 200 and {r["status"] for r in first.json()["results"]} == {"accepted"}
    second = httpx.post(b + "/v1/records:batch", json=batch)
    assert second.status_code == 200 and {r["status"] for r in second.json()["results"]} == {"duplicate"}
    assert [r["outcome"] for r in second.json()["results"]] == [r["outcome"] for r in first.json()["results"]]
    engine = make_engine(dsn)
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(records)).scalar() == 2
    engine.dispose()
    outbox = httpx.get(b + "/v1/dev/sms-outbox", headers=operator_headers()).json()["messages"]
    assert len(outbox) == 1, "one notification, whichever replica ingested"


def test_concurrent_batches_from_many_kiosks_land_exactly_once(replicas, dsn):
    kiosk_count, batches_per_kiosk, per_batch = 12, 4, 25
    clock = MovableClock.real()
    fleet = [SigningKiosk(f"kiosk-c{i:02d}", clock) for i in range(kiosk_count)]
    for k in fleet:
        _enroll(replicas[0], k)
    plans = {k.kiosk_id: [k.batch([k.record("attempt_failed", {"n": j}) for j in range(per_batch)])
                          for _ in range(batches_per_kiosk)] for k in fleet}

    def drive(k: SigningKiosk) -> list[int]:
        statuses = []
        with httpx.Client(timeout=30) as c0, httpx.Client(timeout=30) as c1:
            for i, batch in enumerate(plans[k.kiosk_id]):
                # Every batch goes to both replicas at once (a retry racing the original), in order.
                with ThreadPoolExecutor(2) as pool:
                    futures = [pool.submit(c.post, url + "/v1/records:batch", json=batch)
                               for c, url in ((c0, replicas[i % 2]), (c1, replicas[(i + 1) % 2]))]
                    for f in futures:
                        r = f.result()
                        statuses.append(r.status_code)
                        assert r.status_code == 200, r.text
        return statuses

    with ThreadPoolExecutor(kiosk_count) as pool:
        results = list(pool.map(drive, fleet))
    assert all(s == 200 for statuses in results for s in statuses)
    engine = make_engine(dsn)
    with engine.connect() as conn:
        total = conn.execute(sa.select(sa.func.count()).select_from(records)).scalar()
        distinct = conn.execute(sa.select(sa.func.count(sa.distinct(records.c.id)))).scalar()
        seqs = dict(conn.execute(sa.select(kiosks.c.kiosk_id, kiosks.c.last_seq)).all())
    engine.dispose()
    assert total == distinct == kiosk_count * batches_per_kiosk * per_batch
    assert all(seqs[k.kiosk_id] == batches_per_kiosk * per_batch for k in fleet)


def test_same_people_certified_from_many_kiosks_at_once(replicas, dsn):
    """Kiosks racing on the same retirees (in opposite orders): one ok per person, the rest already_certified."""
    clock = MovableClock.real()
    fleet = [SigningKiosk(f"kiosk-s{i}", clock) for i in range(6)]
    for k in fleet:
        _enroll(replicas[1], k)
    people = [PERSONS["alice"], PERSONS["carol"], PERSONS["nophone"]]
    batches = []
    for i, k in enumerate(fleet):
        order = people if i % 2 == 0 else list(reversed(people))
        batches.append((replicas[i % 2], k.batch([k.record("certification", {"id_number": p.lower(), "result": "passed"})
                                                  for p in order])))
    with ThreadPoolExecutor(len(batches)) as pool:
        answers = list(pool.map(lambda ub: httpx.post(ub[0] + "/v1/records:batch", json=ub[1], timeout=30), batches))
    assert all(a.status_code == 200 for a in answers), [a.text for a in answers]
    outcomes = [r["outcome"] for a in answers for r in a.json()["results"]]
    assert outcomes.count("ok") == len(people)
    assert outcomes.count("already_certified") == len(people) * (len(fleet) - 1)
