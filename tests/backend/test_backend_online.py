"""Online operations signed per request: summary, face template, roster; request signature rules."""

from __future__ import annotations

import base64
import json

import numpy as np
from backend_kit import PERSONS, SigningKiosk, operator_headers, template_b64

from backend.crypto import b64e, sign_request
from kiosk.roster_seal import open_template, open_template_key, x25519_private_of


def test_summary(client, kiosk):
    r = kiosk.call(client, "GET", f"/v1/persons/{PERSONS['alice']}/summary")
    assert r.status_code == 200, r.text
    summary = r.json()
    verifier = summary.pop("phone_suffix_check")
    assert summary == {"name_masked": "张*明", "phone_masked": "138****8000", "has_phone": True,
                       "card_state": "normal", "certified_until": None, "deceased": False}
    assert verifier["kdf"] == "scrypt" and set(verifier) == {"kdf", "n", "r", "p", "dklen", "salt", "hash"}
    r = kiosk.call(client, "GET", f"/v1/persons/{PERSONS['nophone']}/summary")
    assert r.json()["has_phone"] is False and r.json()["card_state"] == "pin_locked"
    assert r.json()["phone_suffix_check"] is None


def test_summary_never_carries_the_phone_digits(client, kiosk):
    """The phone-suffix verifier lets the kiosk test a new PIN against the bound phone's last six
    digits, yet the answer holds no digits beyond the mask; a fresh salt each time."""
    from kiosk.pin_policy import PhoneSuffixCheck

    phone = "13800138000"                                # alice's bound phone (backend_kit)
    texts = [kiosk.call(client, "GET", f"/v1/persons/{PERSONS['alice']}/summary").text for _ in range(2)]
    for text in texts:
        assert phone not in text and phone[-6:] not in text and phone[3:7] not in text
    first, second = (PhoneSuffixCheck.from_summary(json.loads(t)) for t in texts)
    assert first is not None and second is not None and first.salt != second.salt
    assert first.matches(bytearray(phone[-6:].encode())) and second.matches(bytearray(phone[-6:].encode()))
    assert not first.matches(bytearray(b"138001"))
    r = kiosk.call(client, "GET", f"/v1/persons/{PERSONS['bob']}/summary")
    assert r.json()["certified_until"] == "2027-10-31"
    r = kiosk.call(client, "GET", "/v1/persons/110101199001011234/summary")
    assert r.status_code == 404 and "counter" in r.json()["reason"]


def test_face_template(client, kiosk):
    r = kiosk.call(client, "GET", f"/v1/persons/{PERSONS['alice']}/face-template")
    assert r.status_code == 200
    assert r.json()["model"] == "sface_2021dec" and r.json()["template"] == template_b64(1)
    vec = np.frombuffer(base64.b64decode(r.json()["template"]), dtype=np.float32)
    assert vec.shape == (128,)
    r = kiosk.call(client, "GET", f"/v1/persons/{PERSONS['nophone']}/face-template")
    assert r.status_code == 404 and r.json()["reason"] == "no enrolled template: go to the counter"


def test_request_signature_rules(client, kiosk, clock):
    target = f"/v1/persons/{PERSONS['alice']}/summary"
    assert client.get(target).json()["error"] == "unsigned_request"
    # signed for another path
    _, headers = kiosk.signed("GET", f"/v1/persons/{PERSONS['bob']}/summary")
    r = client.get(target, headers=headers)
    assert r.status_code == 401 and r.json()["error"] == "bad_signature"
    # replayed
    assert kiosk.sign_in(client, PERSONS["alice"]).status_code == 201
    _, headers = kiosk.signed("GET", target)
    headers["X-Visit-Token"] = kiosk.visit_token
    assert client.get(target, headers=headers).status_code == 200
    r = client.get(target, headers=headers)
    assert r.status_code == 401 and r.json()["error"] == "replayed_request"
    # stale clock
    old = clock.now
    _, headers = kiosk.signed("GET", target)
    clock.advance(301)
    r = client.get(target, headers=headers)
    assert r.status_code == 401 and r.json()["error"] == "clock_skew"
    clock.now = old
    # unknown kiosk
    stranger = SigningKiosk("kiosk-x", clock)
    r = stranger.call(client, "GET", target)
    assert r.status_code == 401 and r.json()["error"] == "unknown_kiosk"
    # body altered after signing
    raw, headers = kiosk.signed("POST", "/v1/sms/request", {"purpose": "pin_reset", "id_number": PERSONS["alice"]})
    r = client.post("/v1/sms/request", content=raw.replace(b"pin_reset", b"pin_unblock"), headers=headers)
    assert r.status_code == 401 and r.json()["error"] == "bad_signature"


OPERATOR_PASSWORD = "field-pass-2026"


def _assign(client, districts):  # type: ignore[no-untyped-def]
    """A field operator op-1 assigned to ``districts`` (the operator signed in at the field kiosk)."""
    r = client.put("/v1/operator/field-operators/op-1", headers=operator_headers(),
                   json={"name": "周敏", "password": OPERATOR_PASSWORD, "districts": districts})
    assert r.status_code == 200, r.text


def _roster(client, kiosk, target, operator="op-1", password=OPERATOR_PASSWORD):  # type: ignore[no-untyped-def]
    import base64

    _raw, headers = kiosk.signed("GET", target)
    headers.update({"X-Field-Operator": operator,
                    "X-Field-Operator-Password": base64.b64encode(password.encode()).decode()})
    return client.get(target, headers=headers)


def test_query_string_is_signed(client, field_kiosk, clock):
    kiosk = field_kiosk
    target = "/v1/roster?districts=%E5%A4%A9%E6%B2%B3%E5%8C%BA"
    headers = sign_request(kiosk.key, kiosk.kiosk_id, "GET", "/v1/roster?districts=X",
                           clock().isoformat().replace("+00:00", "Z"), b"")
    assert client.get(target, headers=headers).status_code == 401
    _assign(client, ["天河区"])
    assert _roster(client, kiosk, target).status_code == 200


def test_roster_only_to_a_field_kiosk(client, kiosk):
    r = kiosk.call(client, "GET", "/v1/roster?districts=%E5%A4%A9%E6%B2%B3%E5%8C%BA")
    assert r.status_code == 403 and r.json()["error"] == "field_kiosk_only"
    assert "张建明" not in r.text


def test_roster_only_with_the_operator_and_only_the_assignment(client, field_kiosk):
    _assign(client, ["天河区"])
    tianhe, yuexiu = "/v1/roster?districts=%E5%A4%A9%E6%B2%B3%E5%8C%BA", "/v1/roster?districts=%E8%B6%8A%E7%A7%80%E5%8C%BA"
    r = field_kiosk.call(client, "GET", tianhe)                       # no operator signed in
    assert r.status_code == 403 and r.json()["error"] == "operator_required"
    r = _roster(client, field_kiosk, tianhe, password="wrong-password")
    assert r.status_code == 403 and r.json()["error"] == "bad_operator_credentials"
    r = _roster(client, field_kiosk, yuexiu)                          # another operator's district
    assert r.status_code == 403 and r.json()["error"] == "not_your_assignment" and "李秀英" not in r.text
    assert _roster(client, field_kiosk, tianhe).status_code == 200


def test_roster(client, field_kiosk, clock):
    kiosk = field_kiosk
    _assign(client, ["天河区", "越秀区"])
    r = _roster(client, kiosk, "/v1/roster?districts=%E5%A4%A9%E6%B2%B3%E5%8C%BA,%E8%B6%8A%E7%A7%80%E5%8C%BA")
    assert r.status_code == 200, r.text
    body = r.json()
    people = body["persons"]
    # alice (天河区, never certified) is due; bob is certified far ahead; the deceased is left out.
    assert [p["id_masked"] for p in people] == ["4401**********4324"]
    p = people[0]
    assert p["name"] == "张建明" and p["address"] == "龙口西路12号" and p["due_date"] == "2026-11-23"
    # The template is sealed to the field kiosk's key (tests/backend/test_backend_roster_seal.py).
    key = open_template_key(x25519_private_of(field_kiosk.key), body["template_key"])
    assert b64e(bytes(open_template(key, p["id_number"], body["templates_expire_at"], p["template"]))) \
        == template_b64(1) and p["model"] == "sface_2021dec"
    clock.advance(340 * 86400)       # bob's date comes within the window
    r = _roster(client, kiosk, "/v1/roster?districts=%E8%B6%8A%E7%A7%80%E5%8C%BA")
    assert [p["due_date"] for p in r.json()["persons"]] == ["2027-10-31"]
    assert _roster(client, kiosk, "/v1/roster?districts=").status_code == 422
