"""`kiosk rotate-key`: replace the kiosk's signing key, with the backend's consent under the old key.

Steps, each safe to interrupt (run it with the kiosk stopped, online):

1. every record the current key signed must be uploaded (the backend verifies records with the
   kiosk's one enrolled key; a record signed by a retired key would be dead-lettered);
2. the new key is written beside the current one as ``<key>.next`` (0600, fsync, O_EXCL);
3. ``POST /v1/kiosks/rotate-key``, signed with the current key, carrying the new key and its proof;
4. ``<key>.next`` atomically replaces ``<key>`` (``rename`` + directory fsync).

After a crash, running the command again finishes the job: if ``<key>.next`` is there, the
backend is asked (``GET /v1/kiosks/me`` signed with the new key) whether it already took it; if
yes, only step 4 is left; if not, steps 3 and 4 are repeated with the same new key. Until the
command succeeds the kiosk keeps signing with the key the backend knows.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kiosk.backend_client import BackendClient, Rejected, ServiceUnavailable
from kiosk.config import resolve_path
from kiosk.signing import Signer, SigningKeyError, create_key, key_path, load_signer

log = logging.getLogger(__name__)

ROTATE_PREFIX = "sscard-kiosk rotate v1"


class RotationError(Exception):
    """Why the key was not rotated (yet), and what to do; the current key stays in use."""


@dataclass(frozen=True)
class Rotated:
    public_key_b64: str
    recovered: bool                   # a previous, interrupted rotation was finished


def rotate_signing_bytes(kiosk_id: str, new_public_key_b64: str) -> bytes:
    return f"{ROTATE_PREFIX}\n{kiosk_id}\n{new_public_key_b64}".encode()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _switch(current: Path, nxt: Path) -> None:
    os.replace(nxt, current)          # atomic on one file system: the old key or the new, never neither
    _fsync_dir(current.parent)


def _pending_records(config: Any, signer: Signer) -> int:
    from kiosk.outbox import Outbox
    from kiosk.store import open_store

    store = open_store(config, signer=signer)
    try:
        return Outbox(store).counts().queued
    finally:
        store.close()


def rotate_key(config: Any, *, base_url: str | None = None,
               step: Callable[[str], None] = lambda _name: None) -> Rotated:
    """Rotate (or finish rotating) the kiosk key. ``step`` is called after each durable step
    ("written", "accepted") — the fault-injection point of the crash tests."""
    current = key_path(resolve_path(config.kiosk.data_dir), config.store.key_file)
    nxt = current.with_name(current.name + ".next")
    old = load_signer(current)
    recovered = False
    if nxt.exists():
        new = load_signer(nxt)
        with BackendClient.from_config(config, new, base_url=base_url) as probe:
            state = probe.kiosk_state()
        if isinstance(state, dict):                      # the backend already signs us in with the new key
            _switch(current, nxt)
            return Rotated(new.public_key_b64, True)
        if isinstance(state, ServiceUnavailable):
            raise RotationError(f"the backend cannot be reached ({state.reason}); nothing changed: run the "
                                "command again when online")
        recovered = True                                 # not taken yet: send the same new key again
    pending = _pending_records(config, old)
    if pending:
        raise RotationError(f"{pending} record(s) signed with the current key are not uploaded yet: start the "
                            "kiosk online until they are sent (kiosk doctor shows the outbox), then rotate")
    if not recovered:
        new = create_key(nxt)                            # fsynced, 0600, never over an existing file
        _fsync_dir(nxt.parent)
        step("written")
    proof = new.sign_b64(rotate_signing_bytes(config.kiosk.id, new.public_key_b64))
    with BackendClient.from_config(config, old, base_url=base_url) as client:
        answer = client.rotate_key(new.public_key_b64, proof)
    if isinstance(answer, ServiceUnavailable):
        raise RotationError(f"the backend cannot be reached ({answer.reason}); the current key stays in use: run "
                            "the command again when online")
    if isinstance(answer, Rejected):
        raise RotationError(f"the backend refused the new key (HTTP {answer.status} {answer.error}: "
                            f"{answer.reason}); the current key stays in use")
    step("accepted")
    _switch(current, nxt)
    log.info("kiosk key rotated", extra={"kiosk_id": config.kiosk.id, "recovered": recovered})
    return Rotated(new.public_key_b64, recovered)


def rotate_command(config: Any, args: Any) -> int:
    try:
        done = rotate_key(config)
    except RotationError as exc:
        print(f"Key not rotated: {exc}", file=sys.stderr)
        return 1
    except SigningKeyError as exc:
        print(f"Cannot use the kiosk key: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"Cannot write the kiosk key under {config.kiosk.data_dir}: {exc.strerror}; check the folder and "
              "its owner, then run the command again (an interrupted rotation is finished then).", file=sys.stderr)
        return 1
    note = " (finished an interrupted rotation)" if done.recovered else ""
    print(f"Kiosk {config.kiosk.id}: new signing key in use{note}; public key {done.public_key_b64}")
    return 0
