"""Writes field certifications as fast as it can (record + roster done mark in one transaction),
printing ``ACK <record id> <ID number>`` after each commit; the power-loss test SIGKILLs it.

    python tests/field/writer_proc.py DATA_DIR PASSWORD
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from kiosk.field.vault import RosterVault  # noqa: E402
from kiosk.signing import load_signer  # noqa: E402
from kiosk.store import Store  # noqa: E402


def main() -> int:
    data = Path(sys.argv[1])
    store = Store(data / "kiosk.sqlite3", kiosk_id="field-power-01", signer=load_signer(data / "k.key"))
    vault = RosterVault(store, expiry_days=14, kdf_n=1024)
    password = bytearray(sys.argv[2].encode())
    roster = vault.open(vault.unlock("op-7", password))
    done = vault.done_marks(roster)
    print("READY", len(done), flush=True)
    for entry in roster.entries:
        if entry.id_number in done:
            continue
        with store.transaction() as tx:
            ref = tx.add_record("certification", {"id_number": entry.id_number, "result": "passed",
                                                  "channel": "field", "method": "face"}, operator_id="op-7")
            vault.mark_done(tx, roster, entry.id_number, {"result": "passed", "record_id": ref.id,
                                                          "at": time.time(), "operator_id": "op-7"})
        sys.stdout.write(f"ACK {ref.id} {entry.id_number}\n")    # one write: the line arrives whole or not at all
        sys.stdout.flush()
    print("DONE", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
