"""The kiosk's local store: one SQLite file (WAL, ``synchronous=FULL``) holding the outbox and the
visit's local state.

A flow that tells the citizen "done" writes its local state and its outbox record in ONE
transaction, and says "done" only after the ``with`` block returns::

    with store.transaction() as tx:
        tx.put_state("pin", card_key, {"changed_at": ...})
        tx.add_record("pin_change", {"card": masked_number}, operator_id=None)
    # committed and on disk: now show "done"

If anything raises inside the block nothing is kept (no state, no record, no seq used), and the
citizen must not be told "done". :meth:`Store.commit_result` is the one-call form.

One connection, guarded by a lock, serves every thread (the UI's flows and the sync worker);
transactions are short (no network inside), so nobody waits long.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiosk.signing import ReviewKey, Signer, parse_review_key
from kiosk.store import damage
from kiosk.store.schema import MIGRATIONS, SCHEMA_VERSION

if TYPE_CHECKING:  # kiosk.outbox imports kiosk.store.ids, so it is imported lazily here
    from kiosk.outbox import RecordRef

log = logging.getLogger(__name__)

__all__ = ["ReviewKeyMissingError", "Store", "StoreError", "Tx", "open_store"]


class StoreError(Exception):
    """The local store cannot be used; the message says what to do."""


class StoreDamagedError(StoreError):
    """The store existed and is now missing, empty or unreadable: the kiosk must not start on it."""


class StoreFullError(StoreError):
    """The disk is full: nothing was written."""


class StoreReadOnlyError(StoreError):
    """The store cannot be written (read-only file system): nothing was written."""


class ReviewKeyMissingError(StoreError):
    def __init__(self) -> None:
        super().__init__("no backend review key is known: set backend.public_key_file, or let the kiosk "
                         "go online once so it can fetch the key; the record was not written")


class Tx:
    """One open transaction. Valid only inside ``with store.transaction()``."""

    def __init__(self, store: Store, conn: sqlite3.Connection) -> None:
        self._store = store
        self.conn = conn
        self.records: list[RecordRef] = []

    def execute(self, sql: str, params: tuple[Any, ...] | Mapping[str, Any] = ()) -> sqlite3.Cursor:
        return self.conn.execute(sql, params)

    # -- the visit's local state ---------------------------------------------------------------
    def put_state(self, namespace: str, key: str, value: Any) -> None:
        self.conn.execute(
            "INSERT INTO local_state (namespace, key, value, updated_ts) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (namespace, key) DO UPDATE SET value = excluded.value, updated_ts = excluded.updated_ts",
            (namespace, key, json.dumps(value, ensure_ascii=False), time.time()))

    def get_state(self, namespace: str, key: str, default: Any = None) -> Any:
        row = self.conn.execute("SELECT value FROM local_state WHERE namespace = ? AND key = ?",
                                (namespace, key)).fetchone()
        return default if row is None else json.loads(row[0])

    def delete_state(self, namespace: str, key: str) -> None:
        self.conn.execute("DELETE FROM local_state WHERE namespace = ? AND key = ?", (namespace, key))

    # -- the outbox ----------------------------------------------------------------------------
    def add_record(self, type: str, payload: Mapping[str, Any], *, operator_id: str | None = None,
                   sealed: Mapping[str, bytes | bytearray] | None = None) -> RecordRef:
        """Append a signed record; ``sealed`` fields are encrypted to the backend's review key first."""
        from kiosk.outbox import append_record

        signer = self._store.signer
        if signer is None:
            raise StoreError("the store was opened without the kiosk key: records cannot be signed")
        review_key = self._store.review_key() if sealed else None
        if sealed and review_key is None:
            raise ReviewKeyMissingError()
        ref = append_record(self.conn, kiosk_id=self._store.kiosk_id, signer=signer, type=type,
                            payload=payload, operator_id=operator_id, sealed=sealed, review_key=review_key)
        self.records.append(ref)
        return ref


class Store:
    def __init__(self, path: Path, *, kiosk_id: str, signer: Signer | None = None,
                 pinned_review_key: ReviewKey | None = None) -> None:
        self.path = Path(path)
        self.kiosk_id = kiosk_id
        self.signer = signer
        self._pinned_review_key = pinned_review_key
        self._lock = threading.RLock()
        self._after_commit: list[Callable[[list[RecordRef]], None]] = []
        self.conn = self._connect()
        self._closed = False
        self._migrate()

    def __repr__(self) -> str:
        return f"<Store {self.path}>"

    # -- opening -------------------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o750)
        why = damage.missing_or_empty(self.path)
        if why is not None:
            raise StoreDamagedError(damage.damage_message(self.path, why))
        if not self.path.exists():
            # Local state is personal: the file (and SQLite's -wal/-shm, which copy its mode) is 0600.
            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))
        try:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=10.0)
            mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise StoreError(f"{self.path}: the file system does not support WAL mode (got {mode})")
            # FULL: a COMMIT has reached the disk before it returns, so "done" survives power loss.
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA busy_timeout=10000")
            # Reads the schema: a file that is not (or no longer) a database fails here, by name.
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if damage.marker_path(self.path).exists() and (version == 0 or "outbox" not in tables):
                conn.close()
                raise StoreDamagedError(damage.damage_message(self.path, "it holds no kiosk schema any more"))
        except sqlite3.DatabaseError as exc:
            if damage.marker_path(self.path).exists():
                raise StoreDamagedError(damage.damage_message(self.path, f"it cannot be read ({exc})")) from exc
            raise StoreError(f"{self.path}: cannot open the local store ({exc}); "
                             "run `kiosk doctor`, and call support before deleting anything: "
                             "unsent records live in this file") from exc
        return conn

    def _migrate(self) -> None:
        with self._lock:
            version = self.conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise StoreError(f"{self.path}: written by a newer kiosk version (schema {version}, "
                                 f"this one knows {SCHEMA_VERSION}); install the newer version again")
            for number in range(version + 1, SCHEMA_VERSION + 1):
                self.conn.execute("BEGIN IMMEDIATE")
                try:
                    for statement in MIGRATIONS[number - 1]:
                        self.conn.execute(statement)
                    self.conn.execute(f"PRAGMA user_version = {number}")
                    self.conn.execute("COMMIT")
                except BaseException:
                    self.conn.execute("ROLLBACK")
                    raise
                log.info("store migrated", extra={"schema_version": number})
            damage.write_marker(self.path, self.kiosk_id)

    @property
    def schema_version(self) -> int:
        with self._lock:
            return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self.conn.close()

    @property
    def closed(self) -> bool:
        """True after close(): screens still showing store data at shutdown must stop reading it."""
        return self._closed

    # -- transactions --------------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        """BEGIN IMMEDIATE ... COMMIT; anything raised rolls everything back and propagates."""
        with self._lock:
            if self.conn.in_transaction:
                raise StoreError("a transaction is already open on this thread: add to the `tx` you hold "
                                 "instead of opening another (one visit result = one transaction)")
            try:
                self.conn.execute("BEGIN IMMEDIATE")
                tx = Tx(self, self.conn)
                try:
                    yield tx
                except BaseException:
                    if self.conn.in_transaction:
                        self.conn.execute("ROLLBACK")
                    raise
                self.conn.execute("COMMIT")
            except sqlite3.OperationalError as exc:
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                named = damage.write_failure(exc)
                if named is None:
                    raise
                log.error("local store write failed", extra={"kind": named[0]})
                raise (StoreFullError if named[0] == "full" else StoreReadOnlyError)(f"{self.path}: {named[1]}") \
                    from exc
        if tx.records:
            for listener in list(self._after_commit):
                try:
                    listener(tx.records)
                except Exception:
                    log.exception("after-commit listener failed")

    def commit_result(self, type: str, payload: Mapping[str, Any], *, operator_id: str | None = None,
                      state: Mapping[tuple[str, str], Any] | None = None,
                      sealed: Mapping[str, bytes | bytearray] | None = None) -> RecordRef:
        """One call: write ``state`` ({(namespace, key): value}) and the record together."""
        with self.transaction() as tx:
            for (namespace, key), value in (state or {}).items():
                tx.put_state(namespace, key, value)
            return tx.add_record(type, payload, operator_id=operator_id, sealed=sealed)

    def on_commit(self, listener: Callable[[list[RecordRef]], None]) -> None:
        """Called (on the committing thread) after a transaction that added records: wakes the sync."""
        self._after_commit.append(listener)

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            yield self.conn

    def get_state(self, namespace: str, key: str, default: Any = None) -> Any:
        with self._lock:
            row = self.conn.execute("SELECT value FROM local_state WHERE namespace = ? AND key = ?",
                                    (namespace, key)).fetchone()
        return default if row is None else json.loads(row[0])

    # -- small facts ---------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        with self._lock:
            row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        with self._lock:
            self.conn.execute("INSERT INTO meta (key, value) VALUES (?, ?) "
                              "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (key, value))

    def review_key(self) -> ReviewKey | None:
        """The pinned key (config) wins; otherwise the one last fetched from the backend."""
        if self._pinned_review_key is not None:
            return self._pinned_review_key
        cached = self.get_meta("review_key")
        return parse_review_key(cached) if cached else None

    def remember_review_key(self, key: ReviewKey) -> None:
        self.set_meta("review_key", key.b64)


def open_store(config: Any, *, signer: Signer | None = None, require_signer: bool = True) -> Store:
    """Open the store named by the configuration, loading the kiosk key unless told not to."""
    from kiosk.config import resolve_path
    from kiosk.signing import key_path, load_signer

    data_dir = resolve_path(config.kiosk.data_dir)
    if signer is None and require_signer:
        signer = load_signer(key_path(data_dir, config.store.key_file))
    pinned = None
    if config.backend.public_key_file:
        pinned_path = resolve_path(config.backend.public_key_file)
        try:
            pinned = parse_review_key(pinned_path.read_bytes())
        except (OSError, ValueError) as exc:
            raise StoreError(f"backend.public_key_file {pinned_path}: cannot read an X25519 public key "
                             f"({exc}); fix the file or clear the setting") from exc
    store_path = Path(config.store.path)
    if not store_path.is_absolute():
        store_path = data_dir / store_path
    return Store(store_path, kiosk_id=config.kiosk.id, signer=signer, pinned_review_key=pinned)
