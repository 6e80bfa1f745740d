"""`kiosk enroll`, the doctor checks, and the composition root's start_sync (PostgreSQL backend
and the demo profile's embedded backend)."""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import pytest
from synchelpers import BackendProcess, make_config

from kiosk.doctor import Verdict
from kiosk.doctor.backend import checks
from kiosk.enroll import enroll_command
from kiosk.outbox import Outbox
from kiosk.signing import KeyPermissionError, load_signer
from kiosk.store import open_store
from kiosk.sync import start_sync


def _by_name(results: list) -> dict:  # type: ignore[type-arg]
    return {r.name: r for r in results}


def test_enroll_creates_key_registers_and_is_repeatable(tmp_path: Path, backend: BackendProcess,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    config = make_config(tmp_path, url=backend.url, kiosk_id="enroll-test-0001")
    assert enroll_command(config, argparse.Namespace(token=None)) == 2
    token = backend.enrollment_token("enroll-test-0001")
    assert enroll_command(config, argparse.Namespace(token=token)) == 0
    key = tmp_path / "keys" / "kiosk_ed25519.key"
    assert (key.stat().st_mode & 0o777) == 0o600
    first = load_signer(key).public_key_raw
    assert enroll_command(config, argparse.Namespace(token=token)) == 0      # same key again: idempotent
    assert load_signer(key).public_key_raw == first
    other = make_config(tmp_path / "other", url=backend.url, kiosk_id="enroll-test-0002")
    assert enroll_command(other, argparse.Namespace(token="made-up-token")) == 1
    assert "new token" in capsys.readouterr().err


def test_enroll_with_backend_down_keeps_key_and_says_retry(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    config = make_config(tmp_path, url="http://127.0.0.1:9", kiosk_id="enroll-down-0001")
    assert enroll_command(config, argparse.Namespace(token="t")) == 1
    assert "cannot be reached" in capsys.readouterr().err
    assert (tmp_path / "keys" / "kiosk_ed25519.key").exists()


def test_doctor_reports_key_store_outbox_and_backend(tmp_path: Path, backend: BackendProcess) -> None:
    config = make_config(tmp_path, url=backend.url, kiosk_id="doctor-test-0001")
    before = _by_name(checks(config))
    assert before["kiosk key"].verdict is Verdict.PROBLEM and "kiosk enroll" in before["kiosk key"].todo
    assert enroll_command(config, argparse.Namespace(token=backend.enrollment_token("doctor-test-0001"))) == 0
    results = _by_name(checks(config))
    assert results["kiosk key"].verdict is Verdict.OK
    assert results["backend"].verdict is Verdict.OK, results["backend"]
    store = open_store(config)
    ref = store.commit_result("attempt_failed", {})
    Outbox(store).dead_letter(ref.id, "malformed: test")
    store.close()
    results = _by_name(checks(config))
    assert results["local store"].verdict is Verdict.OK and "schema 1/1" in results["local store"].detail
    assert results["outbox"].verdict is Verdict.WARN and "1 refused" in results["outbox"].detail
    assert "attempt_failed: malformed: test" in results["outbox"].detail        # which record and why
    os.chmod(tmp_path / "keys" / "kiosk_ed25519.key", 0o640)
    results = _by_name(checks(config))
    assert results["kiosk key"].verdict is Verdict.PROBLEM and "chmod 600" in results["kiosk key"].todo
    with pytest.raises(KeyPermissionError):
        open_store(config)
    os.chmod(tmp_path / "keys" / "kiosk_ed25519.key", 0o600)
    down = make_config(tmp_path, url="http://127.0.0.1:9", kiosk_id="doctor-test-0001")
    assert _by_name(checks(down))["backend"].verdict is Verdict.PROBLEM


def test_start_sync_drains_from_the_composition_root(tmp_path: Path, backend: BackendProcess) -> None:
    config = make_config(tmp_path, url=backend.url, kiosk_id="service-test-0001")
    assert enroll_command(config, argparse.Namespace(token=backend.enrollment_token("service-test-0001"))) == 0
    service = start_sync(config)
    try:
        refs = [service.store.commit_result("pin_change", {"card": "****1234"}) for _ in range(5)]
        deadline = time.monotonic() + 20
        while service.worker.snapshot().queued and time.monotonic() < deadline:
            time.sleep(0.05)
        status = service.worker.snapshot()
        assert status.queued == 0 and status.last_success_at is not None
    finally:
        service.stop()
    assert [r[0] for r in backend.stored("service-test-0001")] == [r.id for r in refs]


def test_demo_profile_embedded_backend_in_process(tmp_path: Path) -> None:
    from backend.embedded import EmbeddedBackend

    embedded = EmbeddedBackend(data_dir=tmp_path / "backend")
    url = embedded.start(port=0)
    try:
        config = make_config(tmp_path / "kiosk", url="http://127.0.0.1:8765", kiosk_id="demo-kiosk-0001",
                             embedded=True)
        from kiosk.backend_client import Enrolled
        from kiosk.enroll import enroll

        _signer, answer = enroll(config, embedded.enrollment_token("demo-kiosk-0001"), base_url=url)
        assert isinstance(answer, Enrolled)
        service = start_sync(config, base_url=url)
        try:
            ref = service.store.commit_result("certification", {"id_number": "440106195203154324",
                                                                "result": "passed"})
            deadline = time.monotonic() + 20
            while service.worker.snapshot().queued and time.monotonic() < deadline:
                time.sleep(0.05)
            assert service.worker.snapshot().queued == 0
            assert Outbox(service.store).outcome_of(ref.id)[0] == "synced"
        finally:
            service.stop()
    finally:
        embedded.stop()


def test_start_embedded_sync_for_the_demo_profile(tmp_path: Path) -> None:
    from kiosk.sync import start_embedded_sync

    config = make_config(tmp_path, kiosk_id="demo-kiosk-0001", embedded=True)
    service, stop = start_embedded_sync(config)
    try:
        ref = service.store.commit_result("certification", {"id_number": "440106195203154324", "result": "passed"},
                                          operator_id="op-1")
        deadline = time.monotonic() + 20
        while service.worker.snapshot().queued and time.monotonic() < deadline:
            time.sleep(0.05)
        [summary] = Outbox(service.store).records(operator_id="op-1")
        assert summary.id == ref.id and summary.state == "synced" and summary.outcome
    finally:
        stop()
    # A second start (the kiosk restarted) reuses the key and the enrollment.
    service, stop = start_embedded_sync(config)
    try:
        assert service.store.commit_result("pin_change", {}).seq == 2
    finally:
        stop()
