"""`kiosk rotate-key` against the real backend process on PostgreSQL (issue 17): the backend takes
the new key under the old key's signature, the kiosk switches atomically, and a crash after either
durable step is finished by running the command again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from synchelpers import BackendProcess, make_config, site_file

from kiosk.backend_client import BackendClient, Enrolled, Rejected
from kiosk.cli import main as kiosk_main
from kiosk.doctor import Verdict
from kiosk.doctor.backend import checks
from kiosk.enroll import enroll
from kiosk.outbox import Outbox
from kiosk.rotate import RotationError, rotate_key
from kiosk.signing import Signer, key_path, load_signer
from kiosk.store import open_store
from kiosk.sync import SyncWorker


class Crash(BaseException):
    """Stands for the power going off right after a durable step (nothing after it runs)."""


def _enrolled(backend: BackendProcess, tmp_path: Path, kiosk_id: str) -> tuple[Any, Signer, Path]:
    config = make_config(tmp_path / "kiosk", url=backend.url, kiosk_id=kiosk_id)
    signer, answer = enroll(config, backend.enrollment_token(kiosk_id))
    assert isinstance(answer, Enrolled), answer
    return config, signer, key_path(Path(config.kiosk.data_dir), config.store.key_file)


def _works(backend: BackendProcess, kiosk_id: str, signer: Signer) -> bool:
    with BackendClient(backend.url, kiosk_id, signer, timeout_s=5.0) as client:
        state = client.kiosk_state()
    if isinstance(state, Rejected):
        assert state.status == 401 and state.error == "bad_signature", state
        return False
    assert isinstance(state, dict), state
    return True


def _crash_at(name: str):  # type: ignore[no-untyped-def]
    def step(reached: str) -> None:
        if reached == name:
            raise Crash(name)
    return step


def test_rotate_waits_for_unsent_records_then_switches(backend: BackendProcess, tmp_path: Path) -> None:
    config, old, path = _enrolled(backend, tmp_path, "rotate-kiosk-0001")
    store = open_store(config, signer=old)
    store.commit_result("attempt_failed", {"service": "card_status", "step": "x", "reason": "y", "shown": "z"})
    with pytest.raises(RotationError, match="not uploaded yet"):
        rotate_key(config)
    assert not path.with_name(path.name + ".next").exists() and load_signer(path).public_key_b64 == old.public_key_b64
    with BackendClient(backend.url, config.kiosk.id, old, timeout_s=5.0, sync_timeout_s=20.0) as client:
        SyncWorker(store, client).drain_once()
    assert Outbox(store).counts().queued == 0
    store.close()

    assert kiosk_main(["rotate-key", "--config", str(site_file(tmp_path, config, backend))]) == 0
    new = load_signer(path)
    assert new.public_key_b64 != old.public_key_b64 and not path.with_name(path.name + ".next").exists()
    assert _works(backend, config.kiosk.id, new) and not _works(backend, config.kiosk.id, old)
    assert len(backend.stored(config.kiosk.id)) == 1                  # the old key's record stays stored


@pytest.mark.parametrize("crash", ["written", "accepted"])
def test_a_crash_mid_rotation_is_finished_by_running_it_again(backend: BackendProcess, tmp_path: Path,
                                                               crash: str) -> None:
    kiosk_id = f"rotate-kiosk-{crash}"
    config, old, path = _enrolled(backend, tmp_path, kiosk_id)
    with pytest.raises(Crash):
        rotate_key(config, step=_crash_at(crash))
    pending = load_signer(path.with_name(path.name + ".next"))
    assert load_signer(path).public_key_b64 == old.public_key_b64      # the switch had not happened
    # Before the backend's answer the old key still works; after it, only the new one does.
    assert _works(backend, kiosk_id, old) == (crash == "written")
    assert _works(backend, kiosk_id, pending) == (crash == "accepted")

    warned = next(r for r in checks(config) if r.name == "kiosk key")   # kiosk doctor says what to do
    assert warned.verdict is Verdict.WARN and "rotate-key" in warned.todo

    done = rotate_key(config)
    assert next(r for r in checks(config) if r.name == "kiosk key").verdict is Verdict.OK
    assert done.recovered and done.public_key_b64 == pending.public_key_b64
    assert load_signer(path).public_key_b64 == pending.public_key_b64
    assert not path.with_name(path.name + ".next").exists()
    assert _works(backend, kiosk_id, pending) and not _works(backend, kiosk_id, old)
