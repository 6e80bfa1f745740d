"""The local store: one transaction for state + record, ids, seq, signatures, migrations."""

from __future__ import annotations

import json
import sqlite3
import uuid
from pathlib import Path

import pytest

from backend.crypto import record_signing_bytes
from kiosk.outbox import Outbox
from kiosk.signing import Signer, canonical_json, unb64, verify_signature
from kiosk.store import Store, StoreError
from kiosk.store.ids import uuid7, uuid7_time_ms
from kiosk.store.schema import SCHEMA_VERSION


def test_uuid7_layout_and_order() -> None:
    ids = [uuid7() for _ in range(20_000)]
    assert all(u.version == 7 and u.variant == uuid.RFC_4122 for u in ids)
    assert len(set(ids)) == len(ids)
    assert [u.int for u in ids] == sorted(u.int for u in ids)      # one process: creation order
    assert abs(uuid7_time_ms(ids[0]) - uuid7_time_ms(ids[-1])) < 60_000


def test_uuid7_same_millisecond_stays_ordered_and_unique() -> None:
    ids = [uuid7(now_ms=1_800_000_000_000) for _ in range(5000)]   # more than the 12-bit counter holds
    assert [u.int for u in ids] == sorted(u.int for u in ids)
    assert len(set(ids)) == 5000


def test_state_and_record_commit_together(store: Store) -> None:
    with store.transaction() as tx:
        tx.put_state("pin", "card-1", {"changed": True})
        ref = tx.add_record("pin_change", {"card": "****1234"})
    assert store.get_state("pin", "card-1") == {"changed": True}
    rows = Outbox(store).pending(10)
    assert [r.id for r in rows] == [ref.id] and rows[0].seq == 1


def test_failure_inside_transaction_keeps_neither_state_nor_record(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction() as tx:
        tx.put_state("pin", "card-1", {"changed": True})
        tx.add_record("pin_change", {"card": "****1234"})
        raise RuntimeError("card write failed")
    assert store.get_state("pin", "card-1") is None
    assert Outbox(store).counts().queued == 0
    assert store.commit_result("pin_change", {}).seq == 1           # the rolled-back seq was not used


def test_seq_is_monotonic_and_survives_reopen_and_purge(tmp_path: Path, signer: Signer) -> None:
    path = tmp_path / "k.sqlite3"
    store = Store(path, kiosk_id="k1", signer=signer)
    seqs = [store.commit_result("attempt_failed", {"n": i}).seq for i in range(5)]
    with store.transaction() as tx:
        tx.execute("DELETE FROM outbox")                            # as a purge would
    store.close()
    store = Store(path, kiosk_id="k1", signer=signer)
    seqs.append(store.commit_result("attempt_failed", {"n": 5}).seq)
    assert seqs == [1, 2, 3, 4, 5, 6]
    store.close()


def test_record_is_signed_over_canonical_envelope(store: Store, signer: Signer) -> None:
    ref = store.commit_result("certification", {"id_number": "440106195001011234", "result": "passed",
                                                "name": "张三"}, operator_id="op-7")
    envelope = json.loads(Outbox(store).pending(1)[0].envelope)
    assert envelope["id"] == ref.id and envelope["seq"] == ref.seq and envelope["kiosk_id"] == "test-kiosk-0001"
    assert envelope["operator_id"] == "op-7" and envelope["created_at"].endswith("Z")
    unsigned = {k: v for k, v in envelope.items() if k != "sig"}
    assert canonical_json(unsigned) == record_signing_bytes(envelope)     # same bytes as the backend
    assert verify_signature(signer.public_key_raw, unb64(envelope["sig"]), canonical_json(unsigned))
    unsigned["payload"]["result"] = "failed"
    assert not verify_signature(signer.public_key_raw, unb64(envelope["sig"]), canonical_json(unsigned))


def test_stored_envelope_is_what_is_sent_byte_for_byte(store: Store) -> None:
    store.commit_result("registration", {"x": "中文", "n": 1.5})
    text = Outbox(store).pending(1)[0].envelope
    assert text == canonical_json(json.loads(text)).decode("utf-8")


def test_store_pragmas_and_schema_version(store: Store) -> None:
    with store.read() as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2       # FULL
    assert store.schema_version == SCHEMA_VERSION
    assert (store.path.stat().st_mode & 0o777) == 0o600


def test_store_written_by_newer_version_is_refused(tmp_path: Path, signer: Signer) -> None:
    path = tmp_path / "k.sqlite3"
    Store(path, kiosk_id="k1", signer=signer).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(StoreError, match="newer kiosk version"):
        Store(path, kiosk_id="k1", signer=signer)


def test_migration_from_empty_file_is_idempotent(tmp_path: Path, signer: Signer) -> None:
    path = tmp_path / "k.sqlite3"
    for _ in range(3):
        s = Store(path, kiosk_id="k1", signer=signer)
        assert s.schema_version == SCHEMA_VERSION
        s.commit_result("attempt_failed", {})
        s.close()
    s = Store(path, kiosk_id="k1", signer=signer)
    assert Outbox(s).counts().queued == 3
    s.close()


def test_store_without_key_cannot_write_records(tmp_path: Path) -> None:
    store = Store(tmp_path / "k.sqlite3", kiosk_id="k1")
    with pytest.raises(StoreError, match="kiosk key"):
        store.commit_result("pin_change", {})
    assert Outbox(store).counts().queued == 0
    store.close()


def test_outbox_states_and_outcomes(store: Store) -> None:
    refs = [store.commit_result("certification", {"id_number": "440106195001011234", "result": "passed"})
            for _ in range(3)]
    outbox = Outbox(store)
    assert outbox.mark_synced([{"id": refs[0].id, "status": "accepted", "outcome": "ok", "message": ""},
                               {"id": refs[1].id, "status": "accepted", "outcome": "deceased",
                                "message": "The bureau records this person as deceased"}]) == 2
    outbox.dead_letter(refs[2].id, "malformed: bad id_number")
    counts = outbox.counts()
    assert (counts.queued, counts.synced, counts.dead) == (0, 2, 1)
    assert [o.outcome for o in outbox.outcomes_needing_attention()] == ["deceased"]
    assert outbox.dead_letters()[0].reason == "malformed: bad id_number"
    outbox.acknowledge_outcome(refs[1].id)
    assert outbox.outcomes_needing_attention() == []
    assert outbox.requeue(refs[2].id) and outbox.counts().queued == 1
    assert outbox.outcome_of(refs[1].id) == ("synced", "deceased", "The bureau records this person as deceased")


def test_after_commit_listener_sees_new_records_only(store: Store) -> None:
    seen: list[int] = []
    store.on_commit(lambda refs: seen.extend(r.seq for r in refs))
    with store.transaction() as tx:
        tx.put_state("a", "b", 1)                                   # no record: no wake-up
    store.commit_result("pin_change", {})
    with store.transaction() as tx:
        tx.add_record("pin_change", {})
        tx.add_record("attempt_failed", {})
    assert seen == [1, 2, 3]


def test_nested_transaction_is_refused_and_the_outer_one_rolls_back(store: Store) -> None:
    with pytest.raises(StoreError, match="already open"), store.transaction() as tx:
        tx.add_record("pin_change", {})
        store.commit_result("attempt_failed", {})
    assert Outbox(store).counts().queued == 0


def test_closed_store_says_so(tmp_path: Path, signer: Signer) -> None:
    s = Store(tmp_path / "closing.sqlite3", kiosk_id="test-kiosk-0001", signer=signer)
    assert s.closed is False
    s.close()
    assert s.closed is True
    with pytest.raises(sqlite3.ProgrammingError):
        s.get_meta("anything")
