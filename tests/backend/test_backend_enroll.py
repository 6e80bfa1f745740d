"""Kiosk enrollment: operator token, idempotent re-enrollment, re-keying needs a new token."""

from __future__ import annotations

from backend_kit import SigningKiosk, operator_headers


def _token(client, kiosk_id, **extra) -> str:
    r = client.post("/v1/operator/enrollment-tokens", headers=operator_headers(),
                    json={"kiosk_id": kiosk_id, **extra})
    assert r.status_code == 201, r.text
    return r.json()["token"]


def test_enroll_with_token_then_idempotent(client, clock):
    k = SigningKiosk("kiosk-a", clock)
    token = _token(client, "kiosk-a")
    body = {"kiosk_id": k.kiosk_id, "public_key": k.public_key_b64, "token": token}
    first = client.post("/v1/kiosks/enroll", json=body)
    assert first.status_code == 201 and first.json()["status"] == "enrolled"
    again = client.post("/v1/kiosks/enroll", json=body)          # same key, spent token: still fine
    assert again.status_code == 201 and again.json()["status"] == "enrolled"


def test_token_is_one_time_and_needed_for_a_new_key(client, clock):
    k = SigningKiosk("kiosk-b", clock)
    token = _token(client, "kiosk-b")
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
                                                     "token": _token(client, "kiosk-b", rekey=True)})
    assert rekeyed.status_code == 201 and rekeyed.json()["status"] == "rekeyed"


def test_token_bound_to_kiosk_and_expiry(client, clock):
    k = SigningKiosk("kiosk-d", clock)
    bound = _token(client, "kiosk-other")
    r = client.post("/v1/kiosks/enroll", json={"kiosk_id": k.kiosk_id, "public_key": k.public_key_b64,
                                               "token": bound})
    assert r.status_code == 403 and "kiosk-other" in r.json()["reason"]
    token = _token(client, "kiosk-d")
    clock.advance(25 * 3600)
    r = client.post("/v1/kiosks/enroll", json={"kiosk_id": k.kiosk_id, "public_key": k.public_key_b64,
                                               "token": token})
    assert r.status_code == 403 and "expired" in r.json()["reason"]


def test_operator_token_required(client):
    assert client.post("/v1/operator/enrollment-tokens", json={"kiosk_id": "k"}).status_code == 401
    r = client.post("/v1/operator/enrollment-tokens", json={"kiosk_id": "k"}, headers={"Authorization": "Bearer wrong"})
    assert r.status_code == 401 and r.json()["error"] == "bad_operator_token"


def test_bad_public_key_is_malformed(client):
    r = client.post("/v1/kiosks/enroll", json={"kiosk_id": "k", "public_key": "AAAA", "token": _token(client, "k")})
    assert r.status_code == 422 and r.json()["error"] == "malformed"


def test_token_without_kiosk_or_with_bad_role_is_refused(client):
    r = client.post("/v1/operator/enrollment-tokens", headers=operator_headers(), json={})
    assert r.status_code == 422 and "kiosk_id" in r.json()["reason"]
    r = client.post("/v1/operator/enrollment-tokens", headers=operator_headers(),
                    json={"kiosk_id": "k", "role": "admin"})
    assert r.status_code == 422 and "role" in r.json()["reason"]


def test_token_hijack_cannot_rekey_an_enrolled_kiosk(client, kiosk, clock):
    """A token for the kiosk's id, without the operator's rekey consent, does not take the id over."""
    thief = SigningKiosk(kiosk.kiosk_id, clock)
    r = client.post("/v1/kiosks/enroll", json={"kiosk_id": kiosk.kiosk_id, "public_key": thief.public_key_b64,
                                               "token": _token(client, kiosk.kiosk_id)})
    assert r.status_code == 403 and r.json()["error"] == "rekey_not_allowed"
    # The genuine kiosk still writes; the thief does not.
    assert client.post("/v1/records:batch", json=kiosk.batch([kiosk.record("registration", {})])).status_code == 200
    thief.seq = kiosk.seq
    assert client.post("/v1/records:batch", json=thief.batch([thief.record("registration", {})])).status_code == 401
    # A forged hand-over signature (by the thief's own key) does not count either.
    from backend.auth import rekey_signing_bytes
    from backend.crypto import b64e

    forged = b64e(thief.key.sign(rekey_signing_bytes(kiosk.kiosk_id, thief.public_key_b64)))
    r = client.post("/v1/kiosks/enroll", json={"kiosk_id": kiosk.kiosk_id, "public_key": thief.public_key_b64,
                                               "token": _token(client, kiosk.kiosk_id), "old_key_signature": forged})
    assert r.status_code == 403


def test_rekey_with_the_old_keys_signature(client, kiosk, clock):
    from backend.auth import rekey_signing_bytes
    from backend.crypto import b64e

    client.post("/v1/records:batch", json=kiosk.batch([kiosk.record("registration", {})]))
    new = SigningKiosk(kiosk.kiosk_id, clock)
    handover = b64e(kiosk.key.sign(rekey_signing_bytes(kiosk.kiosk_id, new.public_key_b64)))
    r = client.post("/v1/kiosks/enroll", json={"kiosk_id": kiosk.kiosk_id, "public_key": new.public_key_b64,
                                               "token": _token(client, kiosk.kiosk_id),
                                               "old_key_signature": handover})
    assert r.status_code == 201 and r.json()["status"] == "rekeyed" and r.json()["last_seq"] == 1
