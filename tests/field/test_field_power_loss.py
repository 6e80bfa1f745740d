"""The local store survives a sudden stop mid-write: a writer process (record + roster done mark
per transaction) is SIGKILLed at random moments, many times, and restarted.

After every kill: the database passes ``PRAGMA integrity_check``, the roster still opens, every
acknowledged certification is there, and records and done marks match one for one (never a record
without its mark, never a mark without its record, never a person twice). SIGKILL is not a power
cut: that part rests on SQLite's WAL + ``synchronous=FULL`` contract (docs/sync.md, docs/field.md).
``FIELD_POWER_SEED`` / ``FIELD_POWER_ITERATIONS`` repeat or lengthen a run.
"""

from __future__ import annotations

import json
import os
import random
import select
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from fieldhelpers import roster_answer

from kiosk.field.vault import RosterVault
from kiosk.signing import create_key
from kiosk.store import Store

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "power cut 2026"


def _run_until_killed(data: Path, rng: random.Random, acked: dict[str, str]) -> bool:
    """Start the writer, kill it after a random number of ACKs (+ a random few ms); True when it finished."""
    proc = subprocess.Popen([sys.executable, str(ROOT / "tests" / "field" / "writer_proc.py"), str(data), PASSWORD],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    assert proc.stdout is not None
    target = rng.randint(0, 40)
    seen = 0
    finished = False
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if not select.select([proc.stdout], [], [], 1.0)[0]:
            continue
        line = proc.stdout.readline()
        if not line:
            break
        if _ack(line, acked):
            seen += 1
            if seen >= target:
                time.sleep(rng.uniform(0, 0.02))      # mid-transaction, mid-fsync or between two
                break
        elif line.startswith("DONE"):
            finished = True
            break
    proc.kill()
    proc.wait(10)
    for line in (proc.stdout.read() or "").splitlines(keepends=True):   # ACKs printed before the kill landed
        _ack(line, acked)
        finished = finished or line.startswith("DONE")
    err = proc.stderr.read() if proc.stderr else ""
    assert "Traceback" not in err, err
    return finished


def _ack(line: str, acked: dict[str, str]) -> bool:
    """Count an acknowledgement only when its whole line arrived: a line cut by the kill was never
    finished, so the citizen was never told "done" (the record may or may not exist: both are fine)."""
    parts = line.split()
    if not line.endswith("\n") or len(parts) != 3 or parts[0] != "ACK":
        return False
    acked[parts[1]] = parts[2]
    return True


def test_sigkill_mid_write_loses_nothing_acknowledged_and_keeps_records_and_marks_together(tmp_path: Path) -> None:
    seed = int(os.environ.get("FIELD_POWER_SEED", random.randrange(1 << 30)))
    iterations = int(os.environ.get("FIELD_POWER_ITERATIONS", "25"))
    print(f"FIELD_POWER_SEED={seed}")
    rng = random.Random(seed)
    create_key(tmp_path / "k.key")
    from kiosk.signing import load_signer

    store = Store(tmp_path / "kiosk.sqlite3", kiosk_id="field-power-01", signer=load_signer(tmp_path / "k.key"))
    RosterVault(store, expiry_days=14, kdf_n=1024).save(roster_answer(3000), operator_id="op-7",
                                                         secret=bytearray(PASSWORD.encode()))
    store.close()
    acked: dict[str, str] = {}
    kills = 0
    for _ in range(iterations):
        if _run_until_killed(tmp_path, rng, acked):
            break
        kills += 1
        conn = sqlite3.connect(tmp_path / "kiosk.sqlite3")
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        conn.close()

    store = Store(tmp_path / "kiosk.sqlite3", kiosk_id="field-power-01", signer=load_signer(tmp_path / "k.key"))
    vault = RosterVault(store, expiry_days=14, kdf_n=1024)
    roster = vault.open(vault.unlock("op-7", bytearray(PASSWORD.encode())))
    marks = vault.done_marks(roster)
    with store.read() as conn:
        rows = conn.execute("SELECT id, envelope FROM outbox ORDER BY n").fetchall()
        seqs = [r[0] for r in conn.execute("SELECT seq FROM outbox ORDER BY n").fetchall()]
    records = {rid: json.loads(env)["payload"]["id_number"] for rid, env in rows}
    print(f"kills={kills} acknowledged={len(acked)} records={len(records)}")
    assert kills == iterations, "the writer finished before every kill: give it a longer roster"
    assert len(acked) >= iterations, "the writer hardly wrote anything: the test proves little"
    assert set(acked.items()) <= set(records.items())                       # nothing acknowledged is lost
    assert len(set(records.values())) == len(records)                       # nobody certified twice
    assert {m["record_id"]: idn for idn, m in marks.items()} == records     # record <-> mark, one for one
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    store.close()
