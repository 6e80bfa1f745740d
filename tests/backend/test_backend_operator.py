"""Operator read API, seeding, OpenAPI, error shapes."""

from __future__ import annotations

from datetime import timedelta

from backend_kit import PERSONS, operator_headers


def test_records_by_person_kiosk_day(client, kiosk, clock):
    a = kiosk.record("pin_change", {"id_number": PERSONS["alice"]})
    b = kiosk.record("certification", {"id_number": PERSONS["bob"], "result": "failed"}, operator_id="op-1")
    clock.advance(86400)
    c = kiosk.record("pin_change", {"id_number": PERSONS["alice"]})
    assert client.post("/v1/records:batch", json=kiosk.batch([a, b, c])).status_code == 200

    def ids(**params):
        r = client.get("/v1/operator/records", params=params, headers=operator_headers())
        assert r.status_code == 200, r.text
        return [x["record"]["id"] for x in r.json()["records"]]

    assert ids(person=PERSONS["alice"]) == [a["id"], c["id"]]
    assert ids(kiosk=kiosk.kiosk_id) == [a["id"], b["id"], c["id"]]
    assert ids(day="2026-11-23") == [a["id"], b["id"]]
    assert ids(day=(clock.now.date()).isoformat(), person=PERSONS["alice"]) == [c["id"]]
    assert ids(kiosk="nobody") == []
    full = client.get("/v1/operator/records", params={"person": PERSONS["bob"]}, headers=operator_headers()).json()
    assert full["records"][0]["record"]["operator_id"] == "op-1" and full["records"][0]["outcome"] == "ok"
    assert client.get("/v1/operator/records", headers=operator_headers()).status_code == 422
    assert client.get("/v1/operator/records", params={"person": PERSONS["bob"]}).status_code == 401
    assert (clock.now - timedelta(days=1)).date().isoformat() == "2026-11-23"


def test_seed_endpoint_upserts(client, kiosk):
    seed = {"persons": [{"id_number": "440106198001019999", "name": "新人", "phone": "13300133000"}]}
    r = client.post("/v1/operator/seed", json=seed, headers=operator_headers())
    assert r.status_code == 200 and r.json() == {"persons": 1, "bank_accounts": 0}
    seed["persons"][0]["card_state"] = "reported_lost"
    client.post("/v1/operator/seed", json=seed, headers=operator_headers())
    s = kiosk.call(client, "GET", "/v1/persons/440106198001019999/summary").json()
    assert s["card_state"] == "reported_lost"
    bad = client.post("/v1/operator/seed", json={"persons": [{"id_number": "1", "name": "x", "card_state": "odd"}]},
                      headers=operator_headers())
    assert bad.status_code == 422 and "card_state" in bad.json()["reason"]


def test_openapi_lists_the_contract(client):
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/v1/kiosks/enroll", "/v1/records:batch", "/v1/persons/{id_number}/summary",
                 "/v1/persons/{id_number}/face-template", "/v1/sms/request", "/v1/sms/verify",
                 "/v1/bank/verify", "/v1/accounts/register", "/v1/roster", "/v1/operator/records",
                 "/v1/operator/enrollment-tokens", "/v1/keys/review"):
        assert path in paths, path
    assert "records" in str(paths["/v1/records:batch"]["post"]["requestBody"])


def test_unknown_route_and_validation_errors_have_the_error_shape(client):
    r = client.get("/v1/nothing")
    assert r.status_code == 404 and set(r.json()) == {"error", "record_id", "reason"}
    r = client.post("/v1/kiosks/enroll", json={"kiosk_id": "k"})
    assert r.status_code == 422 and r.json()["error"] == "malformed" and "public_key" in r.json()["reason"]


def test_dev_endpoints_are_off_unless_configured(services):
    import dataclasses

    from fastapi.testclient import TestClient

    from backend.app import create_app

    services.config = dataclasses.replace(services.config, dev=dataclasses.replace(services.config.dev,
                                                                                   endpoints=False))
    with TestClient(create_app(services)) as c:
        assert c.get("/v1/dev/sms-outbox", headers=operator_headers()).status_code == 404
        assert c.post("/v1/operator/seed", json={}, headers=operator_headers()).status_code == 404
        assert c.post("/v1/operator/enrollment-tokens", json={}, headers=operator_headers()).status_code == 201
