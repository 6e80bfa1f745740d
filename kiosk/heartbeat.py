"""The kiosk's heartbeat to the bureau's fleet page (backend/heartbeat.py, docs/console.md).

What it says: software version and release identity, the model files' sha256 (from the model
manifest), every device's status, outbox depth and the age of the oldest unsent record, the records the
backend refused for good (dead letters: count and the latest reasons), the last
successful sync, and the free disk. The backend measures the clock drift itself from the signed
request's timestamp. Sent signed like every online request, on a timer (``heartbeat.interval_s``)
and at once on every device status change, from one thread of its own so a device's event thread
never waits on the network.

Offline it keeps ONE heartbeat (the latest, in the store's meta table, so a restart keeps it
too), never a growing queue: the fleet wants the present state, and the history of a silent
kiosk is the silence itself. The next successful send replaces it.
"""

from __future__ import annotations

import json
import logging
import shutil
import threading
import time
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import kiosk

log = logging.getLogger(__name__)

PENDING_META = "heartbeat.pending"          # the one latest heartbeat not yet acknowledged
DECISIONS = "review_decision"               # local_state namespace: record id -> the reviewer's decision
PROJECT_DIST = "sscard-kiosk"
REACHABLE = frozenset({"online", "noMedia", "busy", "userError"})
DEAD_LETTERS_SHOWN = 10                     # backend.heartbeat.MAX_DEAD_SHOWN: the latest few, with the count


def release_identity() -> dict[str, Any]:
    """{"version", "sha256"}: the appliance's release if that module exists, else RELEASE.json
    beside the package, else the installed package version with no digest."""
    try:
        from kiosk.appliance.release import running_release  # type: ignore[import-not-found]
    except ImportError:
        running_release = None
    if running_release is not None:
        try:
            found = running_release()
            return {"version": str(found["version"]), "sha256": found.get("sha256")}
        except Exception as exc:       # a broken release file must not stop the heartbeat
            log.warning("release identity unreadable", extra={"error": str(exc)})
    release = Path(kiosk.__file__).resolve().parent.parent / "RELEASE.json"
    if release.is_file():
        try:
            data = json.loads(release.read_text(encoding="utf-8"))
            return {"version": str(data["version"]), "sha256": data.get("sha256")}
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("RELEASE.json unreadable", extra={"error": str(exc)})
    try:
        version = metadata.version(PROJECT_DIST)
    except metadata.PackageNotFoundError:
        version = "unknown"
    return {"version": version, "sha256": None}


def model_versions(models_dir: Path) -> dict[str, str]:
    """{file name: sha256} from the model manifest; {} when the models are not installed."""
    try:
        data = json.loads((models_dir / "manifest.json").read_text(encoding="utf-8"))
        return {str(k): str(v) for k, v in data.get("files", {}).items()}
    except (OSError, ValueError, AttributeError):
        return {}


def dead_letter_summary(letters: Sequence[Any], limit: int = DEAD_LETTERS_SHOWN) -> list[dict[str, Any]]:
    """The latest dead letters as the heartbeat carries them: seq, type, the backend's reason (which
    names a field, never a value) and when; no payload, so no personal data leaves this way."""
    def text(value: str, size: int) -> str:      # a stray surrogate must not stop the heartbeat
        return value[:size].encode("utf-8", "replace").decode("utf-8")

    latest = sorted(letters, key=lambda d: d.seq)[-limit:]
    return [{"seq": d.seq, "type": text(d.type, 40), "reason": text(d.reason, 300), "dead_at": d.dead_at or None}
            for d in latest]


def device_statuses(devices: dict[str, Any]) -> dict[str, str]:
    out = {}
    for name, device in devices.items():
        if getattr(device, "running", None) is False:
            # Opened on demand (the camera starts with the citizen's consent): stopped is normal.
            out[name] = "idle"
            continue
        status = getattr(device, "status", None)
        value = str(getattr(status, "value", status)) if status is not None else "unknown"
        # A card going in and out, a command running: the device is there and working.
        out[name] = "online" if value in REACHABLE else value
    return out


def pull_review_decisions(client: Any, store: Any) -> int:
    """Keep the bureau's decisions on this kiosk's flagged records (approve/reject, reason,
    certified until) in the local store, where the kiosk's screens and reports can read them."""
    answer = client.review_decisions()
    if not isinstance(answer, dict):
        return 0
    fresh = 0
    with store.transaction() as tx:
        for d in answer.get("decisions", []):
            if isinstance(d, dict) and isinstance(d.get("record_id"), str) \
                    and tx.get_state(DECISIONS, d["record_id"]) is None:
                tx.put_state(DECISIONS, d["record_id"], {k: d.get(k) for k in (
                    "decision", "reason", "decided_at", "certified_until")})
                fresh += 1
    return fresh


def review_decision(store: Any, record_id: str) -> dict[str, Any] | None:
    """The reviewer's decision on one of this kiosk's records, once the kiosk has fetched it."""
    return store.get_state(DECISIONS, record_id)


class HeartbeatService:
    """Collects and sends heartbeats; ``trigger(reason)`` asks for one now."""

    def __init__(self, *, client: Any, store: Any, worker: Any, devices: dict[str, Any], models_dir: Path,
                 data_dir: Path, interval_s: float, clock: Callable[[], float] = time.time) -> None:
        self.client, self.store, self.worker = client, store, worker
        self.devices, self.models_dir, self.data_dir = devices, models_dir, data_dir
        self.interval_s = interval_s
        self.clock = clock
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._reason = "start"
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._unsubscribe: list[Callable[[], None]] = []
        self._last_devices: dict[str, str] = {}
        self.sent = 0                        # acknowledged heartbeats (for tests and the doctor)
        self.last_error = ""

    # -- what it says ---------------------------------------------------------------------------
    def collect(self, reason: str) -> dict[str, Any]:
        status = self.worker.snapshot() if self.worker is not None else None
        try:
            free = shutil.disk_usage(self.data_dir).free
        except OSError:
            free = None
        return {
            "reason": reason,
            "software": release_identity(),
            "models": model_versions(self.models_dir),
            "devices": device_statuses(self.devices),
            "outbox": {"depth": status.queued if status else 0,
                       "oldest_unsent_age_s": round(status.oldest_unsent_age_s, 1)
                       if status and status.oldest_unsent_age_s is not None else None,
                       "dead": status.dead_count if status else 0,
                       "dead_letters": dead_letter_summary(status.dead_letters) if status else []},
            "last_sync_at": status.last_success_at if status else None,
            "free_disk_bytes": free,
            "collected_at": self.clock(),
        }

    # -- sending --------------------------------------------------------------------------------
    def send_once(self, reason: str) -> bool:
        """Collect, keep as the one pending heartbeat, send; True when the backend recorded it."""
        beat = self.collect(reason)
        self.store.set_meta(PENDING_META, json.dumps(beat, sort_keys=True))
        body = {k: v for k, v in beat.items() if k != "collected_at"}
        answer = self.client.post_heartbeat(body)
        if isinstance(answer, dict):
            self.store.set_meta(PENDING_META, "")
            self.sent += 1
            self.last_error = ""
            pull_review_decisions(self.client, self.store)    # online now: bring the reviewers' answers
            return True
        self.last_error = getattr(answer, "reason", "") or getattr(answer, "code", "") or type(answer).__name__
        log.info("heartbeat kept for later", extra={"reason": reason, "why": self.last_error})
        return False

    def pending(self) -> dict[str, Any] | None:
        raw = self.store.get_meta(PENDING_META)
        return json.loads(raw) if raw else None

    def trigger(self, reason: str = "status_change") -> None:
        with self._lock:
            self._reason = reason
        self._wake.set()

    def _on_event(self, event: Any) -> None:
        # Only a change the fleet page would show (not every card insertion) sends one at once.
        if type(event).__name__ == "StatusChanged":
            now = device_statuses(self.devices)
            with self._lock:
                changed, self._last_devices = now != self._last_devices, now
            if changed:
                self.trigger("status_change")

    def start(self) -> None:
        self._last_devices = device_statuses(self.devices)
        for device in self.devices.values():
            subscribe = getattr(device, "subscribe", None)
            if subscribe is not None:
                self._unsubscribe.append(subscribe(self._on_event))
        self._wake.set()
        self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.interval_s)
            if self._stop.is_set():
                break
            with self._lock:
                reason, self._reason = self._reason if self._wake.is_set() else "timer", "timer"
                self._wake.clear()
            try:
                self.send_once(reason)
            except Exception:           # never let the heartbeat thread die (store closed, etc.)
                log.exception("heartbeat failed")

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()
        if self._thread is not None:
            self._thread.join(timeout)


def start_heartbeat(services: Any) -> HeartbeatService | None:
    """From the composition root: needs the sync service (its client, store and worker)."""
    from kiosk.config import resolve_path

    config = services.config
    if not config.heartbeat.enabled or services.sync is None:
        return None
    beat = HeartbeatService(client=services.sync.client, store=services.sync.store, worker=services.sync.worker,
                            devices=services.devices, models_dir=resolve_path(config.face.models_dir),
                            data_dir=resolve_path(config.kiosk.data_dir), interval_s=config.heartbeat.interval_s)
    beat.start()
    return beat
