"""Doctor checks for the kiosk key, the local store (outbox) and the backend."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

from kiosk.backend_client import BackendClient, NotFound, Rejected, ServiceUnavailable
from kiosk.config import resolve_path
from kiosk.doctor import CheckResult, Verdict
from kiosk.outbox import Outbox
from kiosk.signing import KeyMissingError, Signer, SigningKeyError, key_path, load_signer
from kiosk.store import Store, StoreError, damage
from kiosk.store.schema import SCHEMA_VERSION

# Unsent records older than this deserve a look (a field kiosk may legitimately wait days).
_OLD_QUEUE_S = {"office": 3600.0, "demo": 3600.0, "field": 7 * 86400.0}


def checks(config: Any) -> list[CheckResult]:
    key_result, signer = _key(config)
    return [key_result, *_store(config), _backend(config, signer)]


def _key(config: Any) -> tuple[CheckResult, Signer | None]:
    path = key_path(resolve_path(config.kiosk.data_dir), config.store.key_file)
    try:
        signer = load_signer(path)
    except KeyMissingError:
        if config.backend.embedded:
            return CheckResult("kiosk key", Verdict.OK, f"{path} not created yet "
                               "(demo: created and enrolled at the embedded backend at first start)"), None
        return CheckResult("kiosk key", Verdict.PROBLEM, f"{path} missing",
                           "run `kiosk enroll --token T` with the token from the bureau"), None
    except SigningKeyError as exc:
        return CheckResult("kiosk key", Verdict.PROBLEM, str(exc).split(":")[0], str(exc)), None
    pending = path.with_name(path.name + ".next")          # kiosk/rotate.py's new key, not yet switched
    if pending.exists():
        return CheckResult("kiosk key", Verdict.WARN, f"{path}: a key rotation was interrupted ({pending.name} is there)",
                           "run `kiosk rotate-key` again: it finishes the rotation"), signer
    return CheckResult("kiosk key", Verdict.OK, f"{path} (0600), public {signer.public_key_b64[:16]}..."), signer


def _store_path(config: Any) -> Path:
    path = Path(config.store.path)
    return path if path.is_absolute() else resolve_path(config.kiosk.data_dir) / path


def _store(config: Any) -> list[CheckResult]:
    path = _store_path(config)
    if not path.exists() and not damage.marker_path(path).exists():
        return [CheckResult("local store", Verdict.OK, f"{path} not created yet (created at first start)")]
    try:
        store = Store(path, kiosk_id=config.kiosk.id)
    except (StoreError, sqlite3.DatabaseError) as exc:
        return [CheckResult("local store", Verdict.PROBLEM, str(exc)[:400],
                            "call support; do not delete the file: unsent records live in it")]
    try:
        with store.read() as conn:
            integrity = conn.execute("PRAGMA quick_check").fetchone()[0]
            journal = conn.execute("PRAGMA journal_mode").fetchone()[0]
        results = []
        if integrity != "ok":
            results.append(CheckResult("local store", Verdict.PROBLEM, f"{path}: integrity check: {integrity}",
                                       "call support before the kiosk writes more; keep the file"))
        else:
            results.append(CheckResult("local store", Verdict.OK,
                                       f"{path}, schema {store.schema_version}/{SCHEMA_VERSION}, {journal}"))
        counts = Outbox(store).counts()
        age = None if counts.oldest_unsent_ts is None else time.time() - counts.oldest_unsent_ts
        limit = _OLD_QUEUE_S.get(config.kiosk.profile, 3600.0)
        detail = f"{counts.queued} queued, {counts.synced} synced kept, {counts.dead} refused"
        if age is not None:
            detail += f", oldest unsent {age / 3600:.1f} h old"
        repaired = store.get_meta("store.seq_repaired")
        if repaired:
            results.append(CheckResult("record numbering", Verdict.WARN, repaired[:300],
                                       "call support: records were lost from the local store before they "
                                       "were confirmed; the bureau's copy is complete up to the number shown"))
        if counts.dead:
            # Which records and why (the backend's reason names the field, never a value).
            detail += "".join(f"; refused #{d.seq} {d.type}: {d.reason[:160]}"
                              for d in Outbox(store).dead_letters(3))
            results.append(CheckResult("outbox", Verdict.WARN, detail,
                                       "see them with `kiosk outbox list` (the bureau's console shows them too); once the "
                                       "cause is fixed, `kiosk outbox requeue --all` sends them again"))
        elif age is not None and age > limit:
            results.append(CheckResult("outbox", Verdict.WARN, detail,
                                       "check the network and the backend check below; records wait safely"))
        else:
            results.append(CheckResult("outbox", Verdict.OK, detail))
        return results
    finally:
        store.close()


def _backend(config: Any, signer: Signer | None) -> CheckResult:
    if config.backend.embedded:
        return CheckResult("backend", Verdict.OK, "embedded in the kiosk process (demo profile)")
    if signer is None:
        return CheckResult("backend", Verdict.PROBLEM, f"{config.backend.url}: not tried without the kiosk key",
                           "run `kiosk enroll --token T` first")
    with BackendClient.from_config(config, signer) as client:
        started = time.monotonic()
        answer = client.review_key()
        elapsed_ms = (time.monotonic() - started) * 1000
    if isinstance(answer, ServiceUnavailable):
        return CheckResult("backend", Verdict.PROBLEM, f"{config.backend.url}: {answer.reason}",
                           "check the network, backend.url and backend.ca_file; records queue meanwhile")
    if isinstance(answer, Rejected) and answer.status in (401, 403):
        return CheckResult("backend", Verdict.PROBLEM, f"{config.backend.url}: refused the kiosk ({answer.reason})",
                           "run `kiosk enroll --token T` again, and check the clock")
    if isinstance(answer, (Rejected, NotFound)):
        return CheckResult("backend", Verdict.WARN, f"{config.backend.url}: reachable, review key: {answer}",
                           "ask the bureau to publish the review key (needed for manual-review photos)")
    return CheckResult("backend", Verdict.OK, f"{config.backend.url} answers in {elapsed_ms:.0f} ms, kiosk accepted")
