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
    unfiltered = client.get("/v1/operator/records", params={"limit": 2}, headers=operator_headers())
    assert unfiltered.status_code == 200 and len(unfiltered.json()["records"]) == 2     # no filter: by kiosk, seq
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
        assert c.post("/v1/operator/enrollment-tokens", json={"kiosk_id": "k-x"},
                      headers=operator_headers()).status_code == 201


def test_operator_opens_a_sealed_review_capture(client, services, kiosk):
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

    from backend.crypto import raw_public_key, seal

    sealed = seal(raw_public_key(services.review_key), b"\xff\xd8capture")
    rec = kiosk.record("certification", {"id_number": PERSONS["alice"], "result": "failed", "capture": sealed})
    assert client.post("/v1/records:batch", json=kiosk.batch([rec])).status_code == 200
    url = f"/v1/operator/records/{rec['id']}/sealed/capture"
    assert client.get(url).status_code == 401
    r = client.get(url, headers=operator_headers())
    assert r.status_code == 200 and r.content == b"\xff\xd8capture"
    assert client.get(f"/v1/operator/records/{rec['id']}/sealed/id_number", headers=operator_headers()).status_code == 404
    foreign = seal(raw_public_key(X25519PrivateKey.generate()), b"x")      # sealed to some other key
    rec2 = kiosk.record("certification", {"id_number": PERSONS["alice"], "result": "failed", "capture": foreign})
    client.post("/v1/records:batch", json=kiosk.batch([rec2]))
    r = client.get(f"/v1/operator/records/{rec2['id']}/sealed/capture", headers=operator_headers())
    assert r.status_code == 422 and r.json()["error"] == "cannot_open"


def test_operator_reads_go_to_the_read_replica(services, pg_cluster, tmp_path):
    """With database.read_dsn set, the operator API reads there (here: a second, empty database)."""
    import dataclasses

    import sqlalchemy as sa
    from backend_kit import SigningKiosk, make_config
    from fastapi.testclient import TestClient

    from backend.app import create_app
    from backend.server import prepare

    replica_dsn = pg_cluster.create_database("replica")
    prepare(make_config(replica_dsn, tmp_path)).engine.dispose()          # same schema, no rows
    config = make_config(services.config.database.dsn, tmp_path)
    config = dataclasses.replace(config, database=dataclasses.replace(config.database, read_dsn=replica_dsn))
    svc = prepare(config, clock=services.clock)
    try:
        with TestClient(create_app(svc)) as c:
            k = SigningKiosk("kiosk-rr", services.clock)
            token = c.post("/v1/operator/enrollment-tokens", json={"kiosk_id": k.kiosk_id},
                           headers=operator_headers()).json()["token"]
            c.post("/v1/kiosks/enroll", json={"kiosk_id": k.kiosk_id, "public_key": k.public_key_b64, "token": token})
            assert c.post("/v1/records:batch", json=k.batch([k.record("registration", {})])).status_code == 200
            got = c.get("/v1/operator/records", params={"kiosk": k.kiosk_id}, headers=operator_headers()).json()
            assert got["records"] == []          # the (unreplicated) read side has not seen it
        with services.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM records")).scalar() == 1   # the primary has
    finally:
        svc.engine.dispose()
        svc.reader.dispose()
