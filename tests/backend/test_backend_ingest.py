"""Record ingest: exactly once, replay returns the original result, every refusal keeps nothing."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from backend_kit import PERSONS, SigningKiosk, operator_headers
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from backend.crypto import open_sealed, raw_public_key, seal, sign_record
from backend.db import kiosks, notifications, persons, records


def _count(services, table=records) -> int:
    with services.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar()


def _last_seq(services, kiosk_id) -> int:
    with services.engine.connect() as conn:
        return conn.execute(sa.select(kiosks.c.last_seq).where(kiosks.c.kiosk_id == kiosk_id)).scalar()


def test_batch_accepted_then_replay_changes_nothing(client, services, kiosk):
    recs = [kiosk.record("registration", {"id_number": PERSONS["carol"]}),
            kiosk.record("attempt_failed", {"step": "face", "id_number": PERSONS["alice"]}),
            kiosk.record("visit_crash", {"step": "pin"})]
    first = client.post("/v1/records:batch", json=kiosk.batch(recs))
    assert first.status_code == 200, first.text
    results = first.json()["results"]
    assert [r["id"] for r in results] == [r["id"] for r in recs]
    assert {r["status"] for r in results} == {"accepted"} and {r["outcome"] for r in results} == {"ok"}
    assert _count(services) == 3 and _last_seq(services, kiosk.kiosk_id) == 3

    replay = client.post("/v1/records:batch", json=kiosk.batch(recs))
    assert replay.status_code == 200
    again = replay.json()["results"]
    assert {r["status"] for r in again} == {"duplicate"}
    assert [(r["outcome"], r["message"]) for r in again] == [(r["outcome"], r["message"]) for r in results]
    assert _count(services) == 3


def test_partial_replay_with_new_records_and_gaps(client, services, kiosk):
    a = kiosk.record("registration", {})
    assert client.post("/v1/records:batch", json=kiosk.batch([a])).status_code == 200
    kiosk.seq += 5                                   # gaps are allowed
    b = kiosk.record("registration", {})
    r = client.post("/v1/records:batch", json=kiosk.batch([a, b]))
    assert r.status_code == 200
    assert [x["status"] for x in r.json()["results"]] == ["duplicate", "accepted"]
    assert _count(services) == 2 and _last_seq(services, kiosk.kiosk_id) == b["seq"]


def _refused(client, services, body, status, error, record_id=None):
    before = _count(services)
    r = client.post("/v1/records:batch", content=body if isinstance(body, bytes) else json.dumps(body),
                    headers={"Content-Type": "application/json"})
    assert r.status_code == status, r.text
    data = r.json()
    assert data["error"] == error and data["reason"]
    if record_id is not None:
        assert data["record_id"] == record_id
    assert _count(services) == before, "a refused batch must keep nothing"
    return data


def test_bad_signature_refuses_whole_batch(client, services, kiosk):
    good = kiosk.record("registration", {})
    bad = kiosk.record("registration", {"id_number": PERSONS["carol"]})
    bad["payload"]["id_number"] = PERSONS["alice"]           # altered after signing
    _refused(client, services, kiosk.batch([good, bad]), 401, "bad_signature", bad["id"])
    assert _last_seq(services, kiosk.kiosk_id) == 0


def test_signed_by_another_key(client, services, kiosk, clock):
    forged = sign_record(Ed25519PrivateKey.generate(), {k: v for k, v in kiosk.record("registration", {}).items()
                                                        if k != "sig"})
    _refused(client, services, kiosk.batch([forged]), 401, "bad_signature", forged["id"])


def test_unknown_kiosk(client, services, clock):
    stranger = SigningKiosk("kiosk-never-enrolled", clock)
    _refused(client, services, stranger.batch([stranger.record("registration", {})]), 401, "unknown_kiosk")


def test_kiosk_id_mismatch(client, services, kiosk, clock):
    rec = kiosk.record("registration", {})
    body = {"kiosk_id": kiosk.kiosk_id, "records": [rec]}
    other = SigningKiosk("kiosk-other", clock)
    other.key = kiosk.key
    foreign = other.record("registration", {})
    body["records"].append(foreign)
    _refused(client, services, body, 403, "kiosk_mismatch", foreign["id"])


def test_out_of_order_refused(client, services, kiosk):
    first = [kiosk.record("registration", {}), kiosk.record("registration", {})]
    assert client.post("/v1/records:batch", json=kiosk.batch(first)).status_code == 200
    stale = kiosk.record("registration", {}, seq=2)           # new id, seq not above last accepted
    _refused(client, services, kiosk.batch([stale]), 409, "out_of_order", stale["id"])
    backwards = [kiosk.record("registration", {}, seq=9), kiosk.record("registration", {}, seq=8)]
    _refused(client, services, kiosk.batch(backwards), 409, "out_of_order", backwards[1]["id"])
    assert _last_seq(services, kiosk.kiosk_id) == 2


def test_same_id_different_content_is_a_conflict(client, services, kiosk):
    rec = kiosk.record("registration", {"n": 1})
    assert client.post("/v1/records:batch", json=kiosk.batch([rec])).status_code == 200
    altered = sign_record(kiosk.key, {**rec, "payload": {"n": 2}})
    _refused(client, services, kiosk.batch([altered]), 409, "id_conflict", rec["id"])


@pytest.mark.parametrize("mutate, fragment", [
    (lambda r: r.pop("seq"), "lacks seq"),
    (lambda r: r.update(extra=1), "unknown fields"),
    (lambda r: r.update(id="not-a-uuid"), "UUID"),
    (lambda r: r.update(id="0190163d-8694-4f3b-9a6e-1234567890ab"), "UUIDv7"),     # a v4-looking id
    (lambda r: r.update(seq=0), "seq"),
    (lambda r: r.update(seq="3"), "seq"),
    (lambda r: r.update(created_at="2026-11-23 09:00:00"), "created_at"),
    (lambda r: r.update(created_at="2026-11-23T09:00:00"), "offset"),
    (lambda r: r.update(type="Pin Change"), "type"),
    (lambda r: r.update(payload=[1]), "payload"),
    (lambda r: r.update(sig="***"), "base64"),
    (lambda r: r.update(operator_id=5), "operator_id"),
    (lambda r: r.update(type="certification", payload={"result": "passed"}), "id_number"),
])
def test_malformed_envelopes(client, services, kiosk, mutate, fragment):
    good = kiosk.record("registration", {})
    rec = kiosk.record("registration", {})
    mutate(rec)
    data = _refused(client, services, kiosk.batch([good, rec]), 422, "malformed")
    assert fragment in data["reason"]


def test_malformed_batches(client, services, kiosk):
    _refused(client, services, b"{not json", 422, "malformed")
    _refused(client, services, {"records": []}, 422, "malformed")
    _refused(client, services, {"kiosk_id": kiosk.kiosk_id, "records": []}, 422, "malformed")
    rec = kiosk.record("registration", {})
    _refused(client, services, kiosk.batch([rec, rec]), 422, "malformed", rec["id"])
    _refused(client, services, kiosk.batch([kiosk.record("x1", {}) for _ in range(501)]), 413, "batch_too_large")


def test_certification_outcomes(client, services, kiosk, clock):
    ok = kiosk.record("certification", {"id_number": PERSONS["alice"], "result": "passed"}, operator_id="op-7")
    already = kiosk.record("certification", {"id_number": PERSONS["bob"], "result": "passed"})
    dead = kiosk.record("certification", {"id_number": PERSONS["dead"], "result": "passed"})
    unknown = kiosk.record("certification", {"id_number": "110101199001011234", "result": "passed"})
    failed = kiosk.record("certification", {"id_number": PERSONS["alice"], "result": "failed"})
    r = client.post("/v1/records:batch", json=kiosk.batch([ok, already, dead, unknown, failed]))
    assert r.status_code == 200, r.text
    res = r.json()["results"]
    assert [x["outcome"] for x in res] == ["ok", "already_certified", "deceased", "unknown_person", "ok"]
    assert all(x["status"] == "accepted" for x in res)
    assert "2027-10-31" in res[1]["message"] and "deceased" in res[2]["message"]
    with services.engine.connect() as conn:
        until = conn.execute(sa.select(persons.c.certified_until)
                             .where(persons.c.id_number == PERSONS["alice"])).scalar()
    assert until.isoformat() == "2027-11-23"
    # The same person certified again at another kiosk meanwhile: a clear per-record outcome.
    again = kiosk.record("certification", {"id_number": PERSONS["alice"], "result": "passed"})
    r2 = client.post("/v1/records:batch", json=kiosk.batch([again]))
    assert r2.json()["results"][0]["outcome"] == "already_certified"


def test_pin_records_notify_bound_phone_once(client, services, kiosk):
    recs = [kiosk.record("pin_change", {"id_number": PERSONS["alice"]}),
            kiosk.record("pin_reset", {"id_number": PERSONS["bob"]}),
            kiosk.record("pin_unblock", {"id_number": PERSONS["nophone"]})]
    r = client.post("/v1/records:batch", json=kiosk.batch(recs))
    assert r.status_code == 200
    assert "no bound phone" in r.json()["results"][2]["message"]
    client.post("/v1/records:batch", json=kiosk.batch(recs))       # replay: no second message
    out = client.get("/v1/dev/sms-outbox", headers=operator_headers()).json()["messages"]
    assert [m["phone"] for m in out] == ["13800138000", "13900139000"]
    assert "changed" in out[0]["text"] and "reset" in out[1]["text"] and "12333" in out[0]["text"]
    assert kiosk.kiosk_id in out[0]["text"]
    with services.engine.connect() as conn:
        pending = conn.execute(sa.select(sa.func.count()).select_from(notifications)
                               .where(notifications.c.sent_at.is_(None))).scalar()
    assert pending == 0


def test_sealed_review_capture_stored_and_opened_by_backend(client, services, kiosk):
    pub = client.get("/v1/keys/review").json()
    assert pub["alg"] == "x25519-hkdf-sha256-aesgcm"
    from backend.crypto import b64d

    sealed = seal(b64d(pub["public_key"]), b"\xff\xd8jpeg-bytes")
    rec = kiosk.record("certification", {"id_number": PERSONS["alice"], "result": "passed",
                                         "review_capture": sealed})
    assert client.post("/v1/records:batch", json=kiosk.batch([rec])).status_code == 200
    got = client.get("/v1/operator/records", params={"person": PERSONS["alice"]}, headers=operator_headers())
    stored = got.json()["records"][0]["record"]["payload"]["review_capture"]
    assert "jpeg" not in json.dumps(stored)
    assert open_sealed(services.review_key, stored) == b"\xff\xd8jpeg-bytes"
    assert raw_public_key(services.review_key) == b64d(pub["public_key"])


def test_oversized_body_refused(client, services, kiosk):
    import dataclasses

    services.config = dataclasses.replace(services.config, ingest=dataclasses.replace(
        services.config.ingest, max_body_bytes=2000))
    big = kiosk.record("registration", {"blob": "x" * 3000})
    _refused(client, services, kiosk.batch([big]), 413, "batch_too_large")


def test_the_stored_evidence_is_the_canonical_json_with_sig(clock) -> None:
    """Ingest builds the stored envelope from the signed bytes (no second serialisation): it must be
    byte for byte the canonical JSON of the record as sent, whatever the payload holds."""
    from backend.crypto import canonical_json
    from backend.ingest import parse_envelope

    k = SigningKiosk("kiosk-canon-01", clock)
    for payload in ({}, {"id_number": "44010619520315432x", "名字": "张建明 \\ \" \t", "z": [1, {"a": None}]},
                    {"emoji": "\U0001f600", "type": "not the envelope's", "sig": "inner"}):
        rec = k.record("pin_change", payload)
        assert parse_envelope(rec, 0).stored_text() == canonical_json(rec).decode("utf-8")


class _NetworkGateway:
    """An SMS gateway that is not a table (no ``write_in``), like a provider reached over the
    network: ingest must store the notifications pending and claim them after commit. It hands
    the messages to the development outbox so the test can read them."""

    def __init__(self, outbox) -> None:
        self._outbox = outbox

    def send(self, phone: str, text: str) -> None:
        self._outbox.send(phone, text)

    def send_many(self, messages: list[tuple[str, str]]) -> None:
        self._outbox.send_many(messages)


def test_pin_records_notify_through_a_network_gateway_after_commit(client, services, kiosk):
    services.sms_gateway = _NetworkGateway(services.sms_gateway)
    recs = [kiosk.record("pin_change", {"id_number": PERSONS["alice"]}),
            kiosk.record("pin_reset", {"id_number": PERSONS["bob"]})]
    assert client.post("/v1/records:batch", json=kiosk.batch(recs)).status_code == 200
    client.post("/v1/records:batch", json=kiosk.batch(recs))       # replay: no second message
    out = client.get("/v1/dev/sms-outbox", headers=operator_headers()).json()["messages"]
    assert [m["phone"] for m in out] == ["13800138000", "13900139000"]
    with services.engine.connect() as conn:
        rows = conn.execute(sa.select(notifications.c.sent_at, notifications.c.attempts)).all()
    assert len(rows) == 2 and all(sent is not None and attempts == 1 for sent, attempts in rows)


def test_one_batch_certifying_a_person_twice_a_year_apart_keeps_the_later_date(client, services, kiosk, clock):
    first = kiosk.record("certification", {"id_number": PERSONS["alice"], "result": "passed"})
    clock.advance(400 * 86400)               # a kiosk offline for over a year sends both at once
    second = kiosk.record("certification", {"id_number": PERSONS["alice"], "result": "passed"})
    r = client.post("/v1/records:batch", json=kiosk.batch([first, second]))
    assert [x["outcome"] for x in r.json()["results"]] == ["ok", "ok"], r.text
    with services.engine.connect() as conn:
        until = conn.execute(sa.select(persons.c.certified_until)
                             .where(persons.c.id_number == PERSONS["alice"])).scalar()
    assert until.isoformat() == "2028-12-28"
