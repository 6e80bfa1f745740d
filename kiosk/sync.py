"""The sync worker: drains the outbox to the backend, in order, on its own thread.

Order: records leave in their local creation order (``outbox.n``, the same order as ``seq``), a
batch at a time; a batch is marked synced only after the backend's 200, in one transaction. A
crash between the backend's commit and ours resends the batch: the backend answers "duplicate"
with the original outcome and keeps nothing twice.

Failures: a network error, a timeout or a 5xx leaves the batch queued and waits with exponential
backoff and jitter. A 4xx naming one record isolates it: the records before it go first, then it
alone; refused alone, it becomes a dead letter with the backend's reason (shown to the operator)
and the rest continues. A 4xx about the kiosk itself (not enrolled, bad clock) dead-letters
nothing: it is the ``last_error`` the operator sees, and the worker keeps retrying.

The UI reads :meth:`SyncWorker.snapshot` (a plain :class:`SyncStatus`) or passes a callback to
:meth:`SyncWorker.subscribe`, which is called on the sync thread: the UI must hand it over to its
own thread (a queued Qt signal) and never block in it.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kiosk.backend_client import BackendClient, BatchAccepted, BatchRejected, ServiceUnavailable
from kiosk.outbox import DeadLetter, Outbox, OutboxRow, RecordOutcome, rfc3339
from kiosk.store import Store

log = logging.getLogger(__name__)

# Refused alone with one of these (and no other record named), the record itself is bad.
_RECORD_FAULT_STATUSES = (400, 409, 422)


@dataclass(frozen=True)
class SyncStatus:
    """Everything the operator status screen shows about sync; a plain immutable snapshot."""

    state: str                           # "idle", "sending", "waiting_retry", "stopped"
    queued: int                          # records not yet acknowledged by the backend
    oldest_unsent_age_s: float | None    # age of the oldest queued record; None when none
    last_success_at: str | None          # RFC 3339 UTC of the last acknowledged batch (survives restarts)
    last_error: str | None               # short technical reason of the last failure; None after a success
    last_error_at: str | None
    next_retry_in_s: float | None        # while waiting_retry
    dead_count: int
    dead_letters: tuple[DeadLetter, ...]      # refused records with the backend's reason
    attention: tuple[RecordOutcome, ...]      # synced records whose outcome is not "ok" (field profile)
    synced_count: int                    # acknowledged records still kept locally


@dataclass(frozen=True)
class DrainReport:
    sent: int                            # records acknowledged in this pass
    dead: int                            # records dead-lettered in this pass
    error: str | None                    # why the pass stopped early (then: back off)


def _names_record(answer: BatchRejected) -> bool:
    """A 4xx that names a record blames that record (e.g. 401 bad_signature, 409 out_of_order);
    408/413/429 blame the moment, and a refusal of the kiosk itself names no record."""
    return answer.record_id is not None and answer.status not in (408, 413, 429)


class _Failure(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class SyncWorker:
    def __init__(self, store: Store, client: BackendClient, *, batch_size: int = 200,
                 idle_poll_s: float = 15.0, backoff_initial_s: float = 1.0, backoff_max_s: float = 300.0,
                 drop_captures_on_sync: bool = True, rng: random.Random | None = None) -> None:
        self.store = store
        self.outbox = Outbox(store)
        self.client = client
        self.batch_size = batch_size
        self.idle_poll_s = idle_poll_s
        self.backoff_initial_s = backoff_initial_s
        self.backoff_max_s = backoff_max_s
        self.drop_captures_on_sync = drop_captures_on_sync
        self._rng = rng or random.Random()
        self._cond = threading.Condition()
        self._stop = False
        self._work_hint = False            # new records committed: drain now (unless backing off)
        self._force = False                # operator pressed "sync now": also cut a backoff short
        self._thread: threading.Thread | None = None
        self._state = "stopped"
        self._failures = 0
        self._retry_at: float | None = None
        self._subscribers: list[Callable[[SyncStatus], None]] = []
        self._seq_checked = False          # the local counter was compared with the backend's last seq
        store.on_commit(lambda _records: self.wake())

    @classmethod
    def from_config(cls, config: Any, store: Store, client: BackendClient) -> SyncWorker:
        b = config.backend
        return cls(store, client, batch_size=b.batch_size, idle_poll_s=b.idle_poll_s,
                   backoff_initial_s=b.backoff_initial_s, backoff_max_s=b.backoff_max_s,
                   drop_captures_on_sync=config.store.capture_retention_hours == 0)

    # -- control -------------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        with self._cond:
            self._stop = False
            self._work_hint = True
        self._thread = threading.Thread(target=self._run, name="sync-worker", daemon=True)
        self._thread.start()

    def stop(self, timeout: float | None = None) -> None:
        """Stops after the request in flight (bounded by the client's timeouts)."""
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
        self._set_state("stopped")

    def wake(self) -> None:
        """New records: drain soon (a running backoff is respected)."""
        with self._cond:
            self._work_hint = True
            self._cond.notify_all()

    def sync_now(self) -> None:
        """Operator action: try at once, even while backing off."""
        with self._cond:
            self._work_hint = self._force = True
            self._cond.notify_all()

    def subscribe(self, callback: Callable[[SyncStatus], None]) -> Callable[[], None]:
        """``callback(status)`` on every change, on the sync thread. Returns an unsubscribe function."""
        self._subscribers.append(callback)
        return lambda: self._subscribers.remove(callback) if callback in self._subscribers else None

    # -- status --------------------------------------------------------------------------------
    def snapshot(self) -> SyncStatus:
        counts = self.outbox.counts()
        now = time.time()
        retry_in = max(0.0, self._retry_at - time.monotonic()) if self._retry_at is not None else None
        return SyncStatus(
            state=self._state, queued=counts.queued,
            oldest_unsent_age_s=None if counts.oldest_unsent_ts is None else max(0.0, now - counts.oldest_unsent_ts),
            last_success_at=self.store.get_meta("sync.last_success_at"),
            last_error=self.store.get_meta("sync.last_error") or None,
            last_error_at=self.store.get_meta("sync.last_error_at") or None,
            next_retry_in_s=retry_in if self._state == "waiting_retry" else None,
            dead_count=counts.dead, dead_letters=tuple(self.outbox.dead_letters(20)),
            attention=tuple(self.outbox.outcomes_needing_attention(50)), synced_count=counts.synced)

    def _set_state(self, state: str) -> None:
        self._state = state
        self._publish()

    def _publish(self) -> None:
        if not self._subscribers:
            return
        status = self.snapshot()
        for callback in list(self._subscribers):
            try:
                callback(status)
            except Exception:
                log.exception("sync status subscriber failed")

    # -- the loop ------------------------------------------------------------------------------
    def _run(self) -> None:
        log.info("sync worker started", extra={"batch_size": self.batch_size})
        while True:
            with self._cond:
                if self._stop:
                    break
                self._work_hint = self._force = False
            try:
                report = self.drain_once()
            except Exception as exc:       # e.g. disk full: keep the thread alive, say so, retry later
                log.exception("sync pass failed")
                report = DrainReport(0, 0, f"kiosk error: {type(exc).__name__}")
                try:
                    self._note_error(report.error or "")
                except Exception:
                    log.exception("cannot record the sync error")
            if report.error is None:
                self._failures = 0
                self._retry_at = None
                self._set_state("idle")
                self._wait(self.idle_poll_s, interruptible_by_work=True)
            else:
                self._failures += 1
                delay = self.backoff_delay(self._failures)
                self._retry_at = time.monotonic() + delay
                self._set_state("waiting_retry")
                self._wait(delay, interruptible_by_work=False)
        log.info("sync worker stopped")

    def _wait(self, seconds: float, *, interruptible_by_work: bool) -> None:
        deadline = time.monotonic() + seconds
        with self._cond:
            while not self._stop and not self._force and not (interruptible_by_work and self._work_hint):
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)

    def backoff_delay(self, failures: int) -> float:
        """Exponential with jitter: uniform in [cap/2, cap], cap = initial * 2^(failures-1) <= max."""
        cap = min(self.backoff_max_s, self.backoff_initial_s * (2 ** min(failures - 1, 30)))
        return self._rng.uniform(cap / 2, cap)

    def drain_once(self) -> DrainReport:
        """Send everything queued, in order, until the queue is empty or a failure stops the pass."""
        sent = dead = 0
        self._ensure_review_key()
        self._check_seq_counter()
        try:
            while True:
                with self._cond:
                    if self._stop:
                        break
                rows = self.outbox.pending(self.batch_size)
                if not rows:
                    break
                if self._state != "sending":
                    self._set_state("sending")
                s, d = self._send(rows)
                sent += s
                dead += d
                self._publish()
        except _Failure as failure:
            self._note_error(failure.reason)
            log.warning("sync paused", extra={"reason": failure.reason, "sent": sent})
            return DrainReport(sent, dead, failure.reason)
        if sent:
            log.info("records synced", extra={"count": sent})
        if self._state == "sending":
            self._state = "idle"
        return DrainReport(sent, dead, None)

    def _send(self, rows: list[OutboxRow]) -> tuple[int, int]:
        """Send one batch; returns (acknowledged, dead-lettered) or raises _Failure."""
        answer = self.client.post_records([row.envelope for row in rows])
        if isinstance(answer, BatchAccepted):
            return self._acknowledge(rows, answer), 0
        if isinstance(answer, ServiceUnavailable):
            self.outbox.note_failure([r.id for r in rows], answer.reason)
            raise _Failure(f"backend unavailable: {answer.reason}")
        assert isinstance(answer, BatchRejected)
        ids = [row.id for row in rows]
        if _names_record(answer) and answer.record_id in ids:
            index = ids.index(answer.record_id)
            sent = dead = 0
            if index > 0:                                   # the good ones before it keep their order
                s, d = self._send(rows[:index])
                sent, dead = sent + s, dead + d
            s, d = self._send_alone(rows[index])
            return sent + s, dead + d
        if answer.status in _RECORD_FAULT_STATUSES and len(rows) > 1:
            sent = dead = 0                                  # culprit not named: one by one, in order
            for row in rows:
                s, d = self._send_alone(row)
                sent, dead = sent + s, dead + d
            return sent, dead
        if answer.status in _RECORD_FAULT_STATUSES and len(rows) == 1:
            return 0, self._dead_letter(rows[0], answer)
        if answer.status == 413 and len(rows) > 1:          # too big: halves, still in order
            half = len(rows) // 2
            s1, d1 = self._send(rows[:half])
            s2, d2 = self._send(rows[half:])
            return s1 + s2, d1 + d2
        raise self._kiosk_level(ids, answer)

    def _send_alone(self, row: OutboxRow) -> tuple[int, int]:
        answer = self.client.post_records([row.envelope])
        if isinstance(answer, BatchAccepted):
            return self._acknowledge([row], answer), 0
        if isinstance(answer, ServiceUnavailable):
            self.outbox.note_failure([row.id], answer.reason)
            raise _Failure(f"backend unavailable: {answer.reason}")
        if (_names_record(answer) and answer.record_id == row.id) or \
                (answer.record_id is None and answer.status in _RECORD_FAULT_STATUSES):
            return 0, self._dead_letter(row, answer)
        raise self._kiosk_level([row.id], answer)

    def _kiosk_level(self, ids: list[str], answer: BatchRejected) -> _Failure:
        """A refusal about the kiosk (enrollment, clock, rate): nothing is dead-lettered, retry later."""
        reason = f"backend refused the kiosk: HTTP {answer.status} {answer.error}"
        if answer.reason:
            reason += f": {answer.reason}"
        self.outbox.note_failure(ids, reason)
        return _Failure(reason)

    def _dead_letter(self, row: OutboxRow, answer: BatchRejected) -> int:
        reason = f"{answer.error}: {answer.reason}" if answer.reason else answer.error
        self.outbox.dead_letter(row.id, reason)
        log.error("record refused by the backend: dead letter",
                  extra={"record": row.id, "seq": row.seq, "type": row.type, "reason": reason})
        return 1

    def _acknowledge(self, rows: list[OutboxRow], answer: BatchAccepted) -> int:
        wanted = {row.id for row in rows}
        results = [r for r in answer.results if str(r.get("id")) in wanted]
        count = self.outbox.mark_synced(results, drop_captures=self.drop_captures_on_sync,
                                        meta={"sync.last_success_at": rfc3339(time.time()), "sync.last_error": ""})
        if len(results) < len(rows):
            # Not acknowledged: stays queued, resent next pass (idempotent); stop to avoid a hot loop.
            raise _Failure(f"backend acknowledged {len(results)} of {len(rows)} records")
        return count

    def _note_error(self, reason: str) -> None:
        self.store.set_meta("sync.last_error", reason[:300])
        self.store.set_meta("sync.last_error_at", rfc3339(time.time()))

    def _check_seq_counter(self) -> None:
        """Once per start: a store that lost records (a damaged or cut WAL, a restored backup)
        would hand out seqs the backend already acknowledged, and every new record would be
        refused as out of order. Move the counter above the backend's last seq and say so."""
        if self._seq_checked:
            return
        answer = self.client.kiosk_state()
        if isinstance(answer, ServiceUnavailable):
            return                                 # try again on the next pass
        self._seq_checked = True
        if not isinstance(answer, dict):           # an older backend without /v1/kiosks/me
            return
        backend_seq = int(answer["last_seq"])
        before = self.outbox.raise_seq_counter(backend_seq)
        if before < backend_seq:
            note = (f"the local store's seq counter ({before}) was behind the backend's last acknowledged seq "
                    f"({backend_seq}): records were lost from the local store; counter moved up, call support")
            log.error("local store behind the backend", extra={"local_seq": before, "backend_seq": backend_seq})
            self.store.set_meta("store.seq_repaired", note)
            self._note_error(note)

    def _ensure_review_key(self) -> None:
        """Fetch and cache the backend's review key once, so sealing works offline later."""
        if self.store.review_key() is not None:
            return
        answer = self.client.review_key()
        if not isinstance(answer, (ServiceUnavailable, BatchRejected)) and hasattr(answer, "raw"):
            self.store.remember_review_key(answer)


@dataclass
class SyncService:
    """What the composition root holds: the store, the online client, the sync worker, the purge."""

    store: Store
    client: BackendClient
    worker: SyncWorker
    _purge_stop: threading.Event | None = None

    def stop(self, timeout: float = 10.0) -> None:
        if self._purge_stop is not None:
            self._purge_stop.set()
        self.worker.stop(timeout)
        self.client.close()
        self.store.close()


def start_sync(config: Any, *, base_url: str | None = None, signer: Any = None,
               purge_every_s: float = 3600.0) -> SyncService:
    """Open the store with the kiosk key, build the client and start the worker and the purge.

    ``base_url`` overrides ``backend.url``: the composition root passes the embedded backend's
    address in the demo profile. Raises :class:`kiosk.signing.SigningKeyError` (run `kiosk enroll`)
    or :class:`kiosk.store.StoreError`; both messages say what to do.
    """
    from kiosk.config import resolve_path
    from kiosk.retention import start_purge_timer
    from kiosk.signing import key_path, load_signer
    from kiosk.store import open_store

    if signer is None:
        signer = load_signer(key_path(resolve_path(config.kiosk.data_dir), config.store.key_file))
    store = open_store(config, signer=signer)
    client = BackendClient.from_config(config, signer, base_url=base_url)
    worker = SyncWorker.from_config(config, store, client)
    purge_stop = start_purge_timer(store, config, purge_every_s)
    worker.start()
    return SyncService(store, client, worker, purge_stop)


def start_embedded_sync(config: Any, purge_every_s: float = 3600.0) -> tuple[SyncService, Callable[[], None]]:
    """Demo profile (``backend.embedded = true``): start the backend in this process on a local
    store under ``<data_dir>/backend``, create and enroll the kiosk key if needed, and start the
    sync against it. Returns the service and a function that stops both.
    """
    import importlib

    from kiosk.config import resolve_path
    from kiosk.enroll import enroll

    embedded_module = importlib.import_module("backend.embedded")   # only the demo needs the backend code
    data_dir = resolve_path(config.kiosk.data_dir)
    backend = embedded_module.EmbeddedBackend(data_dir=data_dir / "backend")
    url = backend.start(port=0)
    try:
        role = "field" if config.kiosk.profile == "field" else "office"
        signer, answer = enroll(config, backend.enrollment_token(config.kiosk.id, role), base_url=url)
        if not hasattr(answer, "kiosk_id"):
            raise RuntimeError(f"the embedded backend refused the demo kiosk: {answer}")
        service = start_sync(config, base_url=url, signer=signer, purge_every_s=purge_every_s)
    except BaseException:
        backend.stop()
        raise

    def stop() -> None:
        service.stop()
        backend.stop()

    return service, stop
