"""The e-card platform on the real backend and PostgreSQL: issue a code, redeem it once, refuse the rest."""

from __future__ import annotations

import base64
import os

import sqlalchemy as sa
from backend_kit import PERSONS, MovableClock, SigningKiosk, operator_headers
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient

from backend.context import Services
from backend.ecard import ecard_codes
from kiosk.ecard import code as ecard_code


def new_code(client: TestClient, person: str = "alice") -> str:
    r = client.post("/v1/dev/ecard/codes", headers=operator_headers(), json={"id_number": PERSONS[person]})
    assert r.status_code == 200, r.text
    return r.json()["code"]


def redeem(client: TestClient, kiosk: SigningKiosk, text: str):  # type: ignore[no-untyped-def]
    return kiosk.call(client, "POST", "/v1/ecard/redeem", {"code": text})


def test_a_code_signs_in_its_citizen_once(client: TestClient, kiosk: SigningKiosk) -> None:
    text = new_code(client)
    first = redeem(client, kiosk, text)
    assert first.status_code == 200, first.text
    assert first.json()["id_number"] == PERSONS["alice"]
    assert first.json()["name_masked"] == "张*明"
    again = redeem(client, kiosk, text)
    assert again.status_code == 409 and again.json()["error"] == "code_already_used"


def test_the_code_names_nobody_and_verifies_with_the_published_key(client: TestClient) -> None:
    text = new_code(client)
    assert PERSONS["alice"] not in text
    key = client.get("/v1/keys/ecard-platform").json()
    checked = ecard_code.verify(text, {key["iss"]: base64.b64decode(key["public_key"])},
                                MovableClock()().timestamp())
    assert checked.ttl_s == 60
    # The same person gets the same handle on every code, and a new one-time id.
    second = ecard_code.verify(new_code(client), {key["iss"]: base64.b64decode(key["public_key"])},
                               MovableClock()().timestamp())
    assert second.subject == checked.subject and second.jti != checked.jti


def test_a_screenshot_shown_after_the_minute_is_expired(client: TestClient, kiosk: SigningKiosk,
                                                       clock: MovableClock) -> None:
    text = new_code(client)
    clock.advance(61)
    r = redeem(client, kiosk, text)
    assert r.status_code == 403 and r.json()["error"] == "code_expired"


def test_a_tampered_or_foreign_code_is_refused(client: TestClient, kiosk: SigningKiosk,
                                               clock: MovableClock) -> None:
    now = int(clock().timestamp())
    forged = ecard_code.issue(Ed25519PrivateKey.generate(), "hrss-demo", os.urandom(12), os.urandom(12), now, 60)
    r = redeem(client, kiosk, forged)
    assert r.status_code == 403 and r.json()["error"] == "code_invalid"
    foreign = ecard_code.issue(Ed25519PrivateKey.generate(), "other", os.urandom(12), os.urandom(12), now, 60)
    r = redeem(client, kiosk, foreign)
    assert r.status_code == 403 and r.json()["error"] == "code_foreign"
    r = redeem(client, kiosk, "https://example.org/not-ours")
    assert r.status_code == 422                  # not even the code's shape: the published schema refuses it


def test_redeeming_needs_a_signed_kiosk_request(client: TestClient) -> None:
    text = new_code(client)
    r = client.post("/v1/ecard/redeem", json={"code": text})
    assert r.status_code == 401
    stranger = SigningKiosk("kiosk-not-enrolled", MovableClock())
    assert redeem(client, stranger, text).status_code == 401


def test_redemption_is_recorded_with_the_kiosk(client: TestClient, kiosk: SigningKiosk,
                                               services: Services) -> None:
    text = new_code(client)
    assert redeem(client, kiosk, text).status_code == 200
    with services.engine.connect() as conn:
        rows = conn.execute(sa.select(ecard_codes.c.redeemed_by).where(ecard_codes.c.redeemed_at.is_not(None))).all()
    assert [r.redeemed_by for r in rows] == [kiosk.kiosk_id]


def test_unknown_person_gets_no_code(client: TestClient) -> None:
    r = client.post("/v1/dev/ecard/codes", headers=operator_headers(), json={"id_number": "110101199003070000"})
    assert r.status_code == 404
