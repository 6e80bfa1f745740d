"""SMS one-time codes with the development gateway: lifecycle, expiry, cooldown, attempts, limits."""

from __future__ import annotations

import re

import sqlalchemy as sa
from backend_kit import PERSONS, SigningKiosk, operator_headers

from backend.db import sms_requests


def _codes(client, phone):
    msgs = client.get("/v1/dev/sms-outbox", params={"phone": phone}, headers=operator_headers()).json()["messages"]
    return [re.search(r"(\d{6})", m["text"]).group(1) for m in msgs]


def _request(client, kiosk, **body):
    return kiosk.call(client, "POST", "/v1/sms/request", {"purpose": "pin_reset", **body})


def _verify(client, kiosk, request_id, code):
    return kiosk.call(client, "POST", "/v1/sms/verify", {"request_id": request_id, "code": code}).json()


def test_code_to_bound_phone_and_verify(client, services, kiosk):
    r = _request(client, kiosk, id_number=PERSONS["alice"])
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["phone_masked"] == "138****8000" and body["resend_after_s"] == 60 and body["expires_in_s"] == 300
    (code,) = _codes(client, "13800138000")
    assert len(code) == 6
    wrong = "000000" if code != "000000" else "111111"
    assert _verify(client, kiosk, body["request_id"], wrong) == {
        "ok": False, "attempts_left": 4, "reason": "wrong_code", "message": "Wrong code: 4 tries left."}
    assert _verify(client, kiosk, body["request_id"], code)["ok"] is True
    assert _verify(client, kiosk, body["request_id"], code)["reason"] == "already_used"
    with services.engine.connect() as conn:
        stored = conn.execute(sa.select(sms_requests.c.code_hash)).scalar()
    assert code not in stored and len(stored) == 64


def test_no_bound_phone_or_unknown_person(client, kiosk):
    r = _request(client, kiosk, id_number=PERSONS["nophone"])
    assert r.status_code == 409 and "counter" in r.json()["reason"]
    assert _request(client, kiosk, id_number="110101199001011234").status_code == 404
    assert _request(client, kiosk, phone="12345").status_code == 422
    assert _request(client, kiosk, phone="13800138000", id_number=PERSONS["alice"]).status_code == 422


def test_expiry(client, kiosk, clock):
    req = _request(client, kiosk, phone="13500135000").json()
    (code,) = _codes(client, "13500135000")
    clock.advance(301)
    out = _verify(client, kiosk, req["request_id"], code)
    assert out["ok"] is False and out["reason"] == "expired"


def test_cooldown_then_resend(client, kiosk, clock):
    first = _request(client, kiosk, phone="13500135001")
    assert first.status_code == 200
    clock.advance(30)
    too_soon = _request(client, kiosk, phone="13500135001")
    assert too_soon.status_code == 429 and too_soon.json()["error"] == "resend_too_soon"
    assert too_soon.json()["retry_after_s"] == 30
    clock.advance(30)
    second = _request(client, kiosk, phone="13500135001")
    assert second.status_code == 200
    assert len(_codes(client, "13500135001")) == 2
    # the old code still works for its own request until it expires; the new one for the new request
    codes = _codes(client, "13500135001")
    assert _verify(client, kiosk, second.json()["request_id"], codes[1])["ok"] is True


def test_attempts_capped(client, kiosk):
    req = _request(client, kiosk, phone="13500135002").json()
    (code,) = _codes(client, "13500135002")
    wrong = "000000" if code != "000000" else "111111"
    outs = [_verify(client, kiosk, req["request_id"], wrong) for _ in range(5)]
    assert [o["attempts_left"] for o in outs] == [4, 3, 2, 1, 0]
    assert outs[-1]["reason"] == "too_many_attempts"
    assert _verify(client, kiosk, req["request_id"], code)["reason"] == "too_many_attempts"


def test_rate_limit_per_phone(client, kiosk, clock):
    for _ in range(5):
        assert _request(client, kiosk, phone="13500135003").status_code == 200
        clock.advance(61)
    r = _request(client, kiosk, phone="13500135003")
    assert r.status_code == 429 and r.json()["error"] == "rate_limited_phone"
    clock.advance(3600)
    assert _request(client, kiosk, phone="13500135003").status_code == 200


def test_rate_limit_per_kiosk(client, services, kiosk):
    import dataclasses

    services.config = dataclasses.replace(services.config,
                                          sms=dataclasses.replace(services.config.sms, per_kiosk_per_hour=3))
    for i in range(3):
        assert _request(client, kiosk, phone=f"1360013600{i}").status_code == 200
    r = _request(client, kiosk, phone="13600136009")
    assert r.status_code == 429 and r.json()["error"] == "rate_limited_kiosk"


def test_code_belongs_to_requesting_kiosk(client, kiosk, clock):
    req = _request(client, kiosk, phone="13500135004").json()
    (code,) = _codes(client, "13500135004")
    other = SigningKiosk("kiosk-test-02", clock)
    token = client.post("/v1/operator/enrollment-tokens", headers=operator_headers(), json={"kiosk_id": other.kiosk_id}).json()["token"]
    client.post("/v1/kiosks/enroll", json={"kiosk_id": other.kiosk_id, "public_key": other.public_key_b64,
                                           "token": token})
    assert _verify(client, other, req["request_id"], code)["reason"] == "unknown_request"


def test_dev_outbox_needs_operator(client):
    assert client.get("/v1/dev/sms-outbox").status_code == 401
