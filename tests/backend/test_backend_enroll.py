"""Kiosk enrollment: operator token, idempotent re-enrollment, re-keying needs a new token."""

from __future__ import annotations

from backend_kit import SigningKiosk, operator_headers


def _token(client, kiosk_id=None) -> str:
    r = client.post("/v1/operator/enrollment-tokens", headers=operator_headers(),
                    json={"kiosk_id": kiosk_id} if kiosk_id else {})
    assert r.status_code == 201, r.text
    return r.json()["token"]


def test_enroll_with_token_then_idempotent(client, clock):
    k = SigningKiosk("kiosk-a", clock)
    token = _token(client)
    body = {"kiosk_id": k.kiosk_id, "public_key": k.public_key_b64, "token": token}
    first = client.post("/v1/kiosks/enroll", json=body)
    assert first.status_code == 201 and first.json()["status"] == "enrolled"
    again = client.post("/v1/kiosks/enroll", json=body)          # same key, spent token: still fine
    assert again.status_code == 201 and again.json()["status"] == "enrolled"


def test_token_is_one_time_and_needed_for_a_new_key(client, clock):
    k = SigningKiosk("kiosk-b", clock)
    token = _token(client)
    assert client.post("/v1/kiosks/enroll", json={"kiosk_id": k.kiosk_id, "public_key": k.public_key_b64,
                                                  "token": token}).status_code == 201
    other = SigningKiosk("kiosk-c", clock)
    reused = client.post("/v1/kiosks/enroll", json={"kiosk_id": other.kiosk_id,
                                                    "public_key": other.public_key_b64, "token": token})
    assert reused.status_code == 403 and reused.json()["error"] == "bad_enrollment_token"
    new_key = SigningKiosk("kiosk-b", clock)
    refused = client.post("/v1/kiosks/enroll", json={"kiosk_id": "kiosk-b", "public_key": new_key.public_key_b64,
                                                     "token": "not-a-token"})
    assert refused.status_code == 403
    rekeyed = client.post("/v1/kiosks/enroll", json={"kiosk_id": "kiosk-b", "public_key": new_key.public_key_b64,
                                                     "token": _token(client)})
    assert rekeyed.status_code == 201 and rekeyed.json()["status"] == "rekeyed"


def test_token_bound_to_kiosk_and_expiry(client, clock):
    k = SigningKiosk("kiosk-d", clock)
    bound = _token(client, "kiosk-other")
    r = client.post("/v1/kiosks/enroll", json={"kiosk_id": k.kiosk_id, "public_key": k.public_key_b64,
                                               "token": bound})
    assert r.status_code == 403 and "kiosk-other" in r.json()["reason"]
    token = _token(client)
    clock.advance(25 * 3600)
    r = client.post("/v1/kiosks/enroll", json={"kiosk_id": k.kiosk_id, "public_key": k.public_key_b64,
                                               "token": token})
    assert r.status_code == 403 and "expired" in r.json()["reason"]


def test_operator_token_required(client):
    assert client.post("/v1/operator/enrollment-tokens", json={}).status_code == 401
    r = client.post("/v1/operator/enrollment-tokens", json={}, headers={"Authorization": "Bearer wrong"})
    assert r.status_code == 401 and r.json()["error"] == "bad_operator_token"


def test_bad_public_key_is_malformed(client):
    r = client.post("/v1/kiosks/enroll", json={"kiosk_id": "k", "public_key": "AAAA", "token": _token(client)})
    assert r.status_code == 422 and r.json()["error"] == "malformed"
