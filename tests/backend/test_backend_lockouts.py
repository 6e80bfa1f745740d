"""Rate limits per phone (the person's bound phone) and per kiosk, on SMS codes sent and on wrong
codes entered; lockouts listed and lifted through the operator API."""

from __future__ import annotations

import dataclasses

from backend_kit import PERSONS, operator_headers


def _request(client, kiosk, **body):  # type: ignore[no-untyped-def]
    return kiosk.call(client, "POST", "/v1/sms/request", {"purpose": "pin_reset", **body})


def _verify(client, kiosk, request_id, code):  # type: ignore[no-untyped-def]
    return kiosk.call(client, "POST", "/v1/sms/verify", {"request_id": request_id, "code": code}).json()


def _lockouts(client):  # type: ignore[no-untyped-def]
    r = client.get("/v1/operator/lockouts", headers=operator_headers())
    assert r.status_code == 200, r.text
    return {(x["kind"], x["subject"], x["limit_name"]) for x in r.json()["lockouts"]}


def test_codes_per_person_trip_list_and_lift(client, kiosk, clock):
    for _ in range(5):
        assert _request(client, kiosk, id_number=PERSONS["alice"]).status_code == 200
        clock.advance(61)
    r = _request(client, kiosk, id_number=PERSONS["alice"])
    assert r.status_code == 429 and r.json()["error"] == "rate_limited_phone"
    assert ("phone", "13800138000", "codes_per_phone_per_hour") in _lockouts(client)
    lifted = client.delete("/v1/operator/lockouts/phone/13800138000", headers=operator_headers())
    assert lifted.status_code == 200 and lifted.json()["kind"] == "phone"
    assert _lockouts(client) == set()
    assert _request(client, kiosk, id_number=PERSONS["alice"]).status_code == 200
    assert client.delete("/v1/operator/lockouts/phone/13800138000").status_code == 401    # operators only


def test_wrong_codes_lock_the_person_across_requests_until_lifted(client, services, kiosk, clock):
    services.config = dataclasses.replace(services.config, sms=dataclasses.replace(
        services.config.sms, wrong_codes_per_phone_per_hour=6))
    for _ in range(2):                                   # two requests, three wrong codes each
        req = _request(client, kiosk, phone="13500135077").json()
        for _ in range(3):
            assert _verify(client, kiosk, req["request_id"], "999999" if _ else "999998")["ok"] is False
        clock.advance(61)
    fresh = _request(client, kiosk, phone="13500135077").json()
    answer = _verify(client, kiosk, fresh["request_id"], "123456")
    assert answer["reason"] == "too_many_attempts" and answer["locked"] == "phone"
    assert ("phone", "13500135077", "wrong_codes_per_phone_per_hour") in _lockouts(client)
    client.delete("/v1/operator/lockouts/phone/13500135077", headers=operator_headers())
    assert _verify(client, kiosk, fresh["request_id"], "123457")["reason"] in ("wrong_code", "ok")


def test_kiosk_lockout_listed_and_lifted(client, services, kiosk):
    services.config = dataclasses.replace(services.config, sms=dataclasses.replace(
        services.config.sms, per_kiosk_per_hour=2))
    for i in range(2):
        assert _request(client, kiosk, phone=f"1360013601{i}").status_code == 200
    assert _request(client, kiosk, phone="13600136019").json()["error"] == "rate_limited_kiosk"
    assert ("kiosk", kiosk.kiosk_id, "codes_per_kiosk_per_hour") in _lockouts(client)
    assert client.delete(f"/v1/operator/lockouts/kiosk/{kiosk.kiosk_id}", headers=operator_headers()).status_code == 200
    assert _request(client, kiosk, phone="13600136019").status_code == 200
    assert client.delete("/v1/operator/lockouts/planet/x", headers=operator_headers()).status_code == 422
