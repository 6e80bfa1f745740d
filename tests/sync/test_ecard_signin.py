"""E-card sign-in end to end: a phone's code in camera frames -> OpenCV -> offline check -> the real
backend process on PostgreSQL redeems it once -> the citizen; every attempt a signed record."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest
from synchelpers import BackendProcess, enrolled_kiosk

from drivers.codescan.frames import FrameCodeReader
from drivers.codescan.phone_render import PhoneShot, render
from kiosk.backend_client import EcardPlatformKey
from kiosk.ecard.code import CodeRefusal
from kiosk.ecard.signin import RECORD_TYPE, EcardSignIn
from kiosk.store import Store

PERSON = "440106195203154324"


@pytest.fixture(scope="module")
def platform_backend(backend: BackendProcess) -> BackendProcess:
    seed = {"persons": [{"id_number": PERSON, "name": "张建明", "phone": "13800138000", "retired": True}]}
    r = httpx.post(f"{backend.url}/v1/operator/seed", json=seed,
                   headers={"Authorization": f"Bearer {backend.operator_token}"}, timeout=10)
    assert r.status_code == 200, r.text
    return backend


def phone_code(backend: BackendProcess) -> str:
    r = httpx.post(f"{backend.url}/v1/dev/ecard/codes", json={"id_number": PERSON},
                   headers={"Authorization": f"Bearer {backend.operator_token}"}, timeout=10)
    assert r.status_code == 200, r.text
    return str(r.json()["code"])


def records_of(store: Store) -> list[dict]:
    """The payloads of the kiosk's e-card records, from the signed envelopes it will send."""
    rows = store.conn.execute("SELECT envelope FROM outbox WHERE type = ? ORDER BY seq", (RECORD_TYPE,)).fetchall()
    return [json.loads(r[0])["payload"] for r in rows]


def test_phone_code_in_front_of_the_camera_signs_the_citizen_in_once(platform_backend: BackendProcess,
                                                                    tmp_path: Path) -> None:
    signer, client = enrolled_kiosk(platform_backend, tmp_path, "kiosk-ecard-01")
    key = client.ecard_platform_key()
    assert isinstance(key, EcardPlatformKey)
    store = Store(tmp_path / "kiosk.sqlite3", kiosk_id="kiosk-ecard-01", signer=signer)
    service = EcardSignIn({key.iss: key.public_key}, client, store)
    reader = FrameCodeReader()
    text = phone_code(platform_backend)
    frame = render(text, PhoneShot(code_fraction=0.25, yaw_deg=20, glare=0.5, moire=0.6))
    read = reader.read(frame)
    assert read is not None and read.text == text

    result = service.sign_in(read.text)
    assert result.ok and result.id_number == PERSON and result.name_masked == "张*明"
    # The same code again (a screenshot of it, or the phone shown twice): the platform refuses it.
    again = service.sign_in(read.text)
    assert not again.ok and again.refusal is CodeRefusal.ALREADY_USED
    assert "截图" in again.message or "picture" in again.message

    recorded = records_of(store)
    assert [r["result"] for r in recorded] == ["passed", "refused"]
    assert recorded[1]["reason"] == "already_used" and "id_number" not in recorded[1]
    assert all(text not in str(r) for r in recorded), "the code itself is never stored"
    store.close()
    client.close()


def test_refusals_the_kiosk_makes_offline_are_recorded(platform_backend: BackendProcess, tmp_path: Path) -> None:
    signer, client = enrolled_kiosk(platform_backend, tmp_path, "kiosk-ecard-02")
    key = client.ecard_platform_key()
    assert isinstance(key, EcardPlatformKey)
    store = Store(tmp_path / "kiosk.sqlite3", kiosk_id="kiosk-ecard-02", signer=signer)
    text = phone_code(platform_backend)
    late = EcardSignIn({key.iss: key.public_key}, client, store, clock=lambda: time.time() + 120)
    assert late.sign_in(text).refusal is CodeRefusal.EXPIRED
    untrusting = EcardSignIn({}, client, store)
    assert untrusting.sign_in(text).refusal is CodeRefusal.FOREIGN_PLATFORM
    assert untrusting.sign_in("https://example.org/").refusal is CodeRefusal.NOT_A_CODE
    assert [r["reason"] for r in records_of(store)] == ["expired", "foreign_platform", "not_a_code"]
    # None of those reached the platform: the code is still good for its owner.
    assert EcardSignIn({key.iss: key.public_key}, client, store).sign_in(text).ok
    store.close()
    client.close()


def test_backend_down_is_said_plainly_and_recorded(platform_backend: BackendProcess, tmp_path: Path) -> None:
    signer, client = enrolled_kiosk(platform_backend, tmp_path, "kiosk-ecard-03")
    key = client.ecard_platform_key()
    assert isinstance(key, EcardPlatformKey)
    text = phone_code(platform_backend)
    store = Store(tmp_path / "kiosk.sqlite3", kiosk_id="kiosk-ecard-03", signer=signer)
    platform_backend.stop()
    try:
        result = EcardSignIn({key.iss: key.public_key}, client, store).sign_in(text)
    finally:
        platform_backend.start()
    assert not result.ok and result.unavailable and result.message
    assert [r["result"] for r in records_of(store)] == ["unavailable"]
    store.close()
    client.close()
