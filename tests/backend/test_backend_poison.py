"""No request makes the backend fail: every value the database cannot hold is a 4xx naming the
record and the field (the kiosk dead-letters that record); 5xx is kept for a database outage."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from backend_kit import PERSONS, make_config

from backend.crypto import sign_record
from backend.db import kiosks, records

ALICE = PERSONS["alice"]


def _post(client, body):  # type: ignore[no-untyped-def]
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post("/v1/records:batch", content=raw, headers={"Content-Type": "application/json"})


def _stored(services) -> int:  # type: ignore[no-untyped-def]
    with services.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(records)).scalar()


POISONS = [
    # (what, mutate the envelope before signing, the field the refusal names)
    ("nul_in_id_number", lambda r: r["payload"].update(id_number=ALICE[:17] + "\x00"), "payload.id_number"),
    ("nul_in_operator_id", lambda r: r.update(operator_id="op\x00-7"), "operator_id"),
    ("nul_in_payload_text", lambda r: r["payload"].update(note="a\x00b"), "payload.note"),
    ("upper_lengthens", lambda r: r["payload"].update(id_number=ALICE[:17] + "ß"), "payload.id_number"),
    ("type_newline", lambda r: r.update(type="pin_change\n"), "type"),
    ("type_41_newline", lambda r: r.update(type="a" * 40 + "\n"), "type"),
    ("created_year_1", lambda r: r.update(created_at="0001-01-01T00:00:00.000+08:00"), "created_at"),
    ("created_year_9999", lambda r: r.update(created_at="9999-12-31T23:59:59.999Z"), "created_at"),
    ("certification_9999", lambda r: r.update(type="certification", created_at="9999-12-31T12:00:00.000Z",
                                              payload={"id_number": ALICE, "result": "passed"}), "created_at"),
    ("seq_int64_max", lambda r: r.update(seq=2**63 - 1), "seq"),
    ("seq_far_ahead", lambda r: r.update(seq=r["seq"] + 10_000_000), "seq"),
    ("ten_megabytes", lambda r: r["payload"].update(blob="x" * 10_000_000), "payload"),
    ("deep_payload", lambda r: r["payload"].update(deep=json.loads("[" * 40 + "]" * 40)), "payload.deep"),
]


@pytest.mark.parametrize("name,mutate,field", POISONS, ids=[p[0] for p in POISONS])
def test_poison_record_is_refused_by_itself(client, services, kiosk, name, mutate, field):
    good = kiosk.record("pin_change", {"id_number": ALICE})
    envelope = {k: v for k, v in kiosk.record("pin_change", {"id_number": ALICE}).items() if k != "sig"}
    mutate(envelope)
    poison = sign_record(kiosk.key, envelope)          # the genuine kiosk signed it
    r = _post(client, kiosk.batch([good, poison]))
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["error"] == "malformed" and body["record_id"] == poison["id"] and body["field"].startswith(field)
    assert field.split(".")[0] in body["reason"]
    assert _stored(services) == 0                        # the batch is refused whole: nothing half-written
    ok = _post(client, kiosk.batch([good]))              # and the good record alone goes through
    assert ok.status_code == 200 and ok.json()["results"][0]["status"] == "accepted"
    with services.engine.connect() as conn:
        assert conn.execute(sa.select(kiosks.c.last_seq).where(kiosks.c.kiosk_id == kiosk.kiosk_id)).scalar() \
            == good["seq"]


def test_lone_surrogate_and_huge_numbers_and_deep_json_are_4xx(client, kiosk):
    rec = kiosk.record("registration", {})
    text = json.dumps(kiosk.batch([rec]))
    surrogate = text.replace('"payload": {}', '"payload": {"x": "\\ud800"}').encode()
    r = _post(client, surrogate)
    assert r.status_code == 422 and r.json()["record_id"] == rec["id"] and "surrogate" in r.json()["reason"]
    huge = text.replace('"payload": {}', '"payload": {"n": ' + "9" * 5000 + "}").encode()
    assert _post(client, huge).status_code == 422
    deep = ("[" * 5000 + "]" * 5000).encode()
    r = _post(client, deep)
    assert r.status_code == 422 and "nested" in r.json()["reason"]
    assert _post(client, b'{"kiosk_id": NaN, "records": []}').status_code == 422
    inf = text.replace('"payload": {}', '"payload": {"x": 1e999}').encode()
    r = _post(client, inf)
    assert r.status_code == 422 and r.json()["record_id"] == rec["id"] and "infinite" in r.json()["reason"]


def test_unauthenticated_odd_headers_and_paths_are_4xx(client, kiosk):
    _raw, headers = kiosk.signed("GET", f"/v1/persons/{ALICE}/summary")
    for stamp in ("0001-01-01T00:00:00+08:00", "9999-12-31T23:59:59-08:00", "not a time"):
        r = client.get(f"/v1/persons/{ALICE}/summary", headers={**headers, "X-Kiosk-Timestamp": stamp})
        assert r.status_code == 401, (stamp, r.text)
    _raw, headers = kiosk.signed("GET", "/v1/persons/4401%00/summary")
    r = client.get("/v1/persons/4401%00/summary", headers=headers)
    assert r.status_code == 422 and r.json()["field"] == "id_number"
    r = kiosk.call(client, "POST", "/v1/sms/request", {"purpose": "pin_reset", "id_number": "ß" * 18})
    assert r.status_code == 422


def _answer(s: socket.socket) -> bytes:
    """The whole answer: the server closes the connection after a 413."""
    data = b""
    while len(data) < 65536:
        try:
            part = s.recv(4096)
        except OSError:
            break
        if not part:
            break
        data += part
    return data


def test_body_size_is_checked_before_the_body_is_read(dsn: str, tmp_path: Path):
    from backend.server import serve_in_thread

    server, services = serve_in_thread(make_config(dsn, tmp_path))
    host, port = server.url.removeprefix("http://").split(":")
    limit = services.config.ingest.max_body_bytes
    try:
        # Declared too large: refused from the headers alone, nothing read.
        with socket.create_connection((host, int(port)), timeout=10) as s:
            s.sendall(b"POST /v1/records:batch HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      b"Content-Length: 200000000\r\n\r\n")
            answer = _answer(s)
        assert answer.startswith(b"HTTP/1.1 413") and b"batch_too_large" in answer
        # Chunked, no length: refused once the stream passes the limit, not after reading it all.
        sent = 0
        chunk = b"x" * 1_000_000
        started = time.monotonic()
        with socket.create_connection((host, int(port)), timeout=10) as s:
            s.sendall(b"POST /v1/records:batch HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      b"Transfer-Encoding: chunked\r\n\r\n")
            try:
                while sent < 10 * limit and time.monotonic() - started < 20:
                    s.sendall(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
                    sent += len(chunk)
            except OSError:                   # the server answered and closed: stop sending
                pass
            s.settimeout(10)
            answer = _answer(s)
        assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
        assert sent < 3 * limit
        # Any other endpoint has the small limit.
        with socket.create_connection((host, int(port)), timeout=10) as s:
            s.sendall(b"POST /v1/sms/verify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      b"Content-Length: 1000000\r\n\r\n")
            assert _answer(s).startswith(b"HTTP/1.1 413")
    finally:
        server.stop()
        services.engine.dispose()


def test_database_down_is_503_and_only_then(services, client, kiosk):
    """A real outage (a port nothing listens on: connection refused) is 503; a poison value is not."""
    broken = sa.create_engine(services.engine.url.set(port=1))
    saved = services.engine
    services.engine = broken
    try:
        r = _post(client, kiosk.batch([kiosk.record("registration", {})]))
        assert r.status_code == 503 and r.json()["error"] == "service_unavailable"
    finally:
        services.engine = saved
        broken.dispose()


def test_wrong_method_is_405_with_allow(client):
    r = client.delete("/v1/health")
    assert r.status_code == 405 and r.headers["allow"] == "GET" and r.json()["error"] == "method_not_allowed"
    r = client.get("/v1/records:batch")
    assert r.status_code == 405 and "POST" in r.headers["allow"]


def test_operator_records_day_must_be_a_date_string(client):
    from backend_kit import operator_headers

    r = client.get("/v1/operator/records", params={"day": "0.0"}, headers=operator_headers())
    assert r.status_code == 422 and "day" in r.json()["reason"]
    r = client.get("/v1/operator/records", params={"day": "2026-02-30"}, headers=operator_headers())
    assert r.status_code == 200 and r.json()["records"] == []
