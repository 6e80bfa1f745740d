"""Kiosk heartbeats end to end without a browser: the kiosk's sender (kiosk/heartbeat.py) and
client against the real backend on PostgreSQL, and the fleet states and alerts made of them."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from backend.auth import issue_enrollment_token
from backend.console import fleet
from backend.heartbeat import kiosk_heartbeats
from kiosk.backend_client import BackendClient
from kiosk.heartbeat import PENDING_META, HeartbeatService, release_identity
from kiosk.signing import Signer
from kiosk.store import Store

pytestmark = [pytest.mark.postgres]
MODELS = Path(__file__).resolve().parents[2] / "var" / "models"


def _enrolled_client(backend, kiosk_id: str, url: str | None = None) -> BackendClient:  # type: ignore[no-untyped-def]
    signer = Signer.generate()
    client = BackendClient(backend.url, kiosk_id, signer, timeout_s=2.0)
    token = issue_enrollment_token(backend.services, kiosk_id)["token"]
    assert type(client.enroll(signer.public_key_b64, token)).__name__ == "Enrolled"
    if url is not None:
        client.close()
        client = BackendClient(url, kiosk_id, signer, timeout_s=0.5)
    return client


def _body(devices: dict[str, str], oldest: float | None = None, depth: int = 0) -> dict:
    return {"reason": "timer", "software": {"version": "0.1.0", "sha256": None}, "models": {},
            "devices": devices, "outbox": {"depth": depth, "oldest_unsent_age_s": oldest},
            "last_sync_at": None, "free_disk_bytes": 10**10}


def _state(backend, kiosk_id: str) -> fleet.KioskState:  # type: ignore[no-untyped-def]
    return next(k for k in fleet.overview(backend.services) if k.kiosk_id == kiosk_id)


def test_a_heartbeat_must_be_signed_by_an_enrolled_kiosk(console_backend) -> None:  # type: ignore[no-untyped-def]
    unsigned = httpx.post(f"{console_backend.url}/v1/kiosks/heartbeat", json=_body({}), timeout=5)
    assert unsigned.status_code == 401 and unsigned.json()["error"] == "unsigned_request"
    stranger = BackendClient(console_backend.url, "never-enrolled", Signer.generate())
    assert stranger.post_heartbeat(_body({})).error == "unknown_kiosk"
    client = _enrolled_client(console_backend, "hb-shape")
    bad = client.post_heartbeat({**_body({}), "outbox": {"depth": -3}})
    assert (bad.status, bad.error) == (422, "malformed")


def test_heartbeats_make_the_fleet_states_and_alerts(console_backend) -> None:  # type: ignore[no-untyped-def]
    client = _enrolled_client(console_backend, "hb-alerts")
    assert "hb-alerts" in [k.kiosk_id for k in fleet.overview(console_backend.services)]
    assert [a.code for a in _state(console_backend, "hb-alerts").alerts] == ["no_heartbeat"]
    assert client.post_heartbeat(_body({"pinpad": "online", "smartcard": "online"}))["status"] == "recorded"
    ok = _state(console_backend, "hb-alerts")
    assert (ok.state, ok.alerts) == ("ok", [])
    client.post_heartbeat(_body({"pinpad": "offline", "smartcard": "online"}))
    state = _state(console_backend, "hb-alerts")
    assert state.state == "alert" and [(a.code, a.detail) for a in state.alerts] == [("device_offline",
                                                                                         "pinpad: offline")]
    client.post_heartbeat(_body({"pinpad": "online"}, oldest=7200.0, depth=3000))
    state = _state(console_backend, "hb-alerts")
    assert state.state == "warning" and [a.code for a in state.alerts] == ["outbox_old"]
    console_backend.clock.advance(60)            # the kiosk's clock is now a minute behind the backend's
    client.post_heartbeat(_body({"pinpad": "online"}))
    state = _state(console_backend, "hb-alerts")
    assert [a.code for a in state.alerts] == ["clock_drift"] and state.last["clock_drift_s"] < -55
    console_backend.clock.advance(console_backend.services.config.console.heartbeat_stale_s + 1)
    assert [a.code for a in _state(console_backend, "hb-alerts").alerts] == ["no_heartbeat", "clock_drift"]


def test_offline_the_kiosk_keeps_one_latest_heartbeat_and_sends_it_when_back(console_backend,  # type: ignore[no-untyped-def]
                                                                              tmp_path: Path) -> None:
    offline = _enrolled_client(console_backend, "hb-offline", url="http://127.0.0.1:9")   # nothing listens
    store = Store(tmp_path / "store.sqlite3", kiosk_id="hb-offline", signer=offline.signer)
    beat = HeartbeatService(client=offline, store=store, worker=None, devices={}, models_dir=MODELS,
                            data_dir=tmp_path, interval_s=60)
    try:
        for reason in ("start", "timer", "status_change"):
            assert beat.send_once(reason) is False
        pending = beat.pending()
        assert pending is not None and pending["reason"] == "status_change"      # only the newest kept
        assert pending["models"] == json.loads((MODELS / "manifest.json").read_text())["files"]
        assert pending["free_disk_bytes"] > 0
        with store._lock:                                                       # one row, not a queue
            rows = store.conn.execute("SELECT COUNT(*) FROM meta WHERE key LIKE 'heartbeat%'").fetchone()[0]
        assert rows == 1
        beat.client = BackendClient(console_backend.url, "hb-offline", offline.signer, timeout_s=2.0)
        assert beat.send_once("timer") is True and beat.pending() is None
        with console_backend.services.engine.connect() as conn:
            sent = conn.execute(sa.select(kiosk_heartbeats.c.reason)
                                .where(kiosk_heartbeats.c.kiosk_id == "hb-offline")).scalars().all()
        assert sent == ["timer"]
        assert store.get_meta(PENDING_META) == ""
    finally:
        store.close()


def test_release_identity_comes_from_the_appliance_or_the_package() -> None:
    identity = release_identity()
    if importlib.util.find_spec("kiosk.appliance") is not None \
            and importlib.util.find_spec("kiosk.appliance.release") is not None:
        from kiosk.appliance.release import running_release  # type: ignore[import-not-found]

        assert identity["version"] == str(running_release()["version"])
    elif (Path(__file__).resolve().parents[2] / "RELEASE.json").is_file():
        assert identity["version"]
    else:
        from importlib import metadata

        assert identity == {"version": metadata.version("sscard-kiosk"), "sha256": None}
