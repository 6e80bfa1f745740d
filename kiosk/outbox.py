"""The outbox: signed records waiting for the backend, their sync state and their outcomes.

A record is written by :meth:`kiosk.store.Tx.add_record` inside the flow's own transaction; its
id, seq and signature are fixed there and never change, so every resend is byte for byte the
same record and the backend's idempotency by id makes a resend harmless.

States: ``queued`` (not yet acknowledged by the backend) -> ``synced`` (accepted or duplicate,
with the backend's business outcome) or ``dead`` (the backend refused this record by itself:
kept with the reason for the operator, never silently dropped).
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from kiosk.signing import ReviewKey, Signer, canonical_json, is_sealed, seal
from kiosk.store.ids import uuid7_str
from kiosk.store.record_rules import check_size, checked_record

if TYPE_CHECKING:
    from kiosk.store import Store

RECORD_TYPES = ("pin_change", "pin_reset", "pin_unblock", "certification", "registration",
                "attempt_failed", "visit_crash")


def rfc3339(ts: float) -> str:
    """2026-11-23T11:58:29.123Z"""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(ts * 1000) % 1000:03d}Z"


@dataclass(frozen=True)
class RecordRef:
    """What a flow gets back once its record is committed (no payload: it may be personal)."""

    id: str
    seq: int
    type: str
    created_at: str


@dataclass(frozen=True)
class OutboxRow:
    n: int
    id: str
    seq: int
    type: str
    envelope: str                      # the signed JSON, exactly as it is sent
    attempts: int


@dataclass(frozen=True)
class DeadLetter:
    id: str
    seq: int
    type: str
    created_at: str
    reason: str
    dead_at: str


@dataclass(frozen=True)
class RecordOutcome:
    """A per-record business outcome from the backend that the operator should see."""

    id: str
    seq: int
    type: str
    created_at: str
    outcome: str                       # e.g. "already_certified", "deceased"
    message: str


@dataclass(frozen=True)
class RecordSummary:
    """One record as the operator's day report shows it (no payload: it may be personal)."""

    id: str
    seq: int
    type: str
    operator_id: str | None
    created_at: str
    state: str                         # queued | synced | dead
    outcome: str | None
    message: str | None


@dataclass(frozen=True)
class OutboxCounts:
    queued: int
    synced: int
    dead: int
    oldest_unsent_ts: float | None


def _seq_next(conn: sqlite3.Connection, kiosk_id: str) -> int:
    row = conn.execute(
        "INSERT INTO seq_counter (kiosk_id, last_seq) VALUES (?, 1) "
        "ON CONFLICT (kiosk_id) DO UPDATE SET last_seq = last_seq + 1 RETURNING last_seq",
        (kiosk_id,)).fetchone()
    return int(row[0])


def build_envelope(*, record_id: str, kiosk_id: str, seq: int, created_at: str, type: str,
                   operator_id: str | None, payload: Mapping[str, Any], signer: Signer) -> dict[str, Any]:
    envelope: dict[str, Any] = {"id": record_id, "kiosk_id": kiosk_id, "seq": seq, "created_at": created_at,
                                "type": type, "operator_id": operator_id, "payload": dict(payload)}
    envelope["sig"] = signer.sign_b64(canonical_json(envelope))
    return envelope


def append_record(conn: sqlite3.Connection, *, kiosk_id: str, signer: Signer, type: str,
                  payload: Mapping[str, Any], operator_id: str | None,
                  sealed: Mapping[str, bytes | bytearray] | None, review_key: ReviewKey | None) -> RecordRef:
    """Inside an open transaction: allocate seq, seal, sign and insert one record."""
    if not type or not isinstance(type, str):
        raise ValueError("a record needs a type, e.g. \"certification\"")
    # What the backend would refuse is refused now, while the flow can still say so.
    body = checked_record(type, operator_id, payload)
    for name, plaintext in (sealed or {}).items():
        if name in body:
            raise ValueError(f"payload field {name!r} given both in clear and sealed")
        assert review_key is not None
        body[name] = seal(review_key, plaintext)
    now = time.time()
    created_at = rfc3339(now)
    record_id = uuid7_str()
    seq = _seq_next(conn, kiosk_id)
    envelope = build_envelope(record_id=record_id, kiosk_id=kiosk_id, seq=seq, created_at=created_at,
                              type=type, operator_id=operator_id, payload=body, signer=signer)
    text = canonical_json(envelope).decode("utf-8")
    check_size(len(text.encode("utf-8")))
    conn.execute(
        "INSERT INTO outbox (id, kiosk_id, seq, type, operator_id, created_at, created_ts, envelope, has_capture) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (record_id, kiosk_id, seq, type, operator_id, created_at, now, text, 1 if sealed else 0))
    return RecordRef(record_id, seq, type, created_at)


def strip_sealed(envelope_text: str) -> str:
    """The stored copy without its sealed blobs (after sync): the marker says what was there."""
    envelope = json.loads(envelope_text)
    payload = envelope.get("payload", {})
    for name, value in list(payload.items()):
        if is_sealed(value):
            payload[name] = {"enc": value["enc"], "dropped": True}
    return json.dumps(envelope, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class Outbox:
    """Queries and state changes on the outbox; every write is its own short transaction."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def pending(self, limit: int) -> list[OutboxRow]:
        with self.store.read() as conn:
            rows = conn.execute("SELECT n, id, seq, type, envelope, attempts FROM outbox "
                                "WHERE state = 'queued' ORDER BY n LIMIT ?", (limit,)).fetchall()
        return [OutboxRow(*row) for row in rows]

    def mark_synced(self, results: Iterable[Mapping[str, Any]], *, drop_captures: bool = False,
                    meta: Mapping[str, str] | None = None) -> int:
        """Record the backend's acknowledgements (and ``meta`` facts, in the same transaction, so a
        status reader never sees one without the other); returns how many records became synced."""
        now = time.time()
        changed = 0
        with self.store.transaction() as tx:
            for key, value in (meta or {}).items():
                tx.execute("INSERT INTO meta (key, value) VALUES (?, ?) "
                           "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (key, value))
            for result in results:
                cur = tx.execute(
                    "UPDATE outbox SET state = 'synced', synced_ts = ?, status = ?, outcome = ?, message = ?, "
                    "last_error = NULL WHERE id = ? AND state = 'queued'",
                    (now, str(result.get("status", "accepted")), result.get("outcome") or "ok",
                     result.get("message") or "", str(result["id"])))
                changed += cur.rowcount
                if drop_captures and cur.rowcount:
                    _drop_capture(tx.conn, str(result["id"]))
        return changed

    def note_failure(self, ids: Iterable[str], error: str) -> None:
        with self.store.transaction() as tx:
            tx.conn.executemany("UPDATE outbox SET attempts = attempts + 1, last_error = ? "
                                "WHERE id = ? AND state = 'queued'", [(error, i) for i in ids])

    def dead_letter(self, record_id: str, reason: str) -> None:
        with self.store.transaction() as tx:
            tx.execute("UPDATE outbox SET state = 'dead', dead_reason = ?, dead_ts = ?, attempts = attempts + 1 "
                       "WHERE id = ? AND state = 'queued'", (reason, time.time(), record_id))

    def requeue(self, record_id: str) -> bool:
        """Operator action after the cause was fixed (e.g. the kiosk re-enrolled): try a dead letter again."""
        with self.store.transaction() as tx:
            cur = tx.execute("UPDATE outbox SET state = 'queued', dead_reason = NULL, dead_ts = NULL "
                             "WHERE id = ? AND state = 'dead'", (record_id,))
            return cur.rowcount == 1

    def counts(self) -> OutboxCounts:
        with self.store.read() as conn:
            by_state = dict(conn.execute("SELECT state, count(*) FROM outbox GROUP BY state").fetchall())
            oldest = conn.execute("SELECT min(created_ts) FROM outbox WHERE state = 'queued'").fetchone()[0]
        return OutboxCounts(int(by_state.get("queued", 0)), int(by_state.get("synced", 0)),
                            int(by_state.get("dead", 0)), oldest)

    def seq_counter(self) -> int:
        """The last seq this store handed out (0 for a new store)."""
        with self.store.read() as conn:
            row = conn.execute("SELECT last_seq FROM seq_counter WHERE kiosk_id = ?", (self.store.kiosk_id,)).fetchone()
        return int(row[0]) if row else 0

    def raise_seq_counter(self, at_least: int) -> int:
        """Move the counter up to ``at_least`` (never down); returns the value before."""
        with self.store.transaction() as tx:
            row = tx.execute("SELECT last_seq FROM seq_counter WHERE kiosk_id = ?", (self.store.kiosk_id,)).fetchone()
            before = int(row[0]) if row else 0
            if at_least > before:
                tx.execute("INSERT INTO seq_counter (kiosk_id, last_seq) VALUES (?, ?) "
                           "ON CONFLICT (kiosk_id) DO UPDATE SET last_seq = excluded.last_seq",
                           (self.store.kiosk_id, at_least))
        return before

    def dead_letters(self, limit: int = 100) -> list[DeadLetter]:
        with self.store.read() as conn:
            rows = conn.execute("SELECT id, seq, type, created_at, dead_reason, dead_ts FROM outbox "
                                "WHERE state = 'dead' ORDER BY n LIMIT ?", (limit,)).fetchall()
        return [DeadLetter(r[0], r[1], r[2], r[3], r[4] or "", rfc3339(r[5] or 0)) for r in rows]

    def outcomes_needing_attention(self, limit: int = 100) -> list[RecordOutcome]:
        """Synced records whose business outcome is not plain ok, not yet acknowledged by the operator."""
        with self.store.read() as conn:
            rows = conn.execute("SELECT id, seq, type, created_at, outcome, message FROM outbox "
                                "WHERE state = 'synced' AND outcome != 'ok' AND outcome_seen = 0 "
                                "ORDER BY n LIMIT ?", (limit,)).fetchall()
        return [RecordOutcome(*r) for r in rows]

    def outcome_of(self, record_id: str) -> tuple[str, str | None, str | None]:
        """(state, outcome, message) of one record, e.g. for the field day report."""
        with self.store.read() as conn:
            row = conn.execute("SELECT state, outcome, message FROM outbox WHERE id = ?", (record_id,)).fetchone()
        if row is None:
            raise KeyError(record_id)
        return row[0], row[1], row[2]

    def records(self, *, since_ts: float | None = None, operator_id: str | None = None,
                type: str | None = None, limit: int = 10_000) -> list[RecordSummary]:
        """Records kept locally, oldest first, e.g. for the field operator's day report."""
        sql = ("SELECT id, seq, type, operator_id, created_at, state, outcome, "
               "CASE WHEN state = 'dead' THEN dead_reason ELSE message END FROM outbox WHERE 1 = 1")
        params: list[object] = []
        for column, value in (("created_ts >= ?", since_ts), ("operator_id = ?", operator_id), ("type = ?", type)):
            if value is not None:
                sql += f" AND {column}"
                params.append(value)
        sql += " ORDER BY n LIMIT ?"
        params.append(limit)
        with self.store.read() as conn:
            return [RecordSummary(*row) for row in conn.execute(sql, params).fetchall()]

    def acknowledge_outcome(self, record_id: str) -> None:
        with self.store.transaction() as tx:
            tx.execute("UPDATE outbox SET outcome_seen = 1 WHERE id = ?", (record_id,))


def _drop_capture(conn: sqlite3.Connection, record_id: str) -> None:
    row = conn.execute("SELECT envelope FROM outbox WHERE id = ? AND has_capture = 1", (record_id,)).fetchone()
    if row is not None:
        conn.execute("UPDATE outbox SET envelope = ?, has_capture = 0 WHERE id = ?",
                     (strip_sealed(row[0]), record_id))
