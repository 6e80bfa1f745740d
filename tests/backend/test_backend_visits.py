"""A kiosk reads a person's data only for the person of its current visit (issue 17), on PostgreSQL:
another person, an expired or ended visit and another kiosk's token are refused with 403 and
recorded for the operator; card evidence must match the bureau's record; openings are limited."""

from __future__ import annotations

from backend_kit import PERSONS, MovableClock, SigningKiosk, operator_headers
from fastapi.testclient import TestClient

from backend.context import Services

ALICE, BOB = PERSONS["alice"], PERSONS["bob"]


def _summary(client: TestClient, kiosk: SigningKiosk, person: str, token: str | None):  # type: ignore[no-untyped-def]
    kiosk.auto_visit = False
    return kiosk.call(client, "GET", f"/v1/persons/{person}/summary",
                      headers={"X-Visit-Token": token} if token else {})


def _refusals(client: TestClient) -> list[dict]:
    r = client.get("/v1/operator/visit-refusals", headers=operator_headers())
    assert r.status_code == 200, r.text
    return r.json()["refusals"]


def test_only_the_person_of_the_visit(client: TestClient, kiosk: SigningKiosk) -> None:
    opened = kiosk.sign_in(client, ALICE, evidence="sscard", name="张建明")
    assert opened.status_code == 201, opened.text
    token = opened.json()["visit_token"]
    assert _summary(client, kiosk, ALICE, token).status_code == 200
    other = _summary(client, kiosk, BOB, token)
    assert other.status_code == 403 and other.json()["error"] == "other_person"
    for path in (f"/v1/persons/{BOB}/face-template",):
        assert kiosk.call(client, "GET", path, headers={"X-Visit-Token": token}).status_code == 403
    sms = kiosk.call(client, "POST", "/v1/sms/request", {"purpose": "pin_reset", "id_number": BOB},
                     headers={"X-Visit-Token": token})
    assert sms.status_code == 403 and sms.json()["error"] == "other_person"
    none = _summary(client, kiosk, ALICE, None)
    assert none.status_code == 403 and none.json()["error"] == "visit_required"
    refused = _refusals(client)
    assert [r["reason"] for r in refused][:4] == ["visit_required", "other_person", "other_person", "other_person"]
    assert {r["kiosk_id"] for r in refused} == {kiosk.kiosk_id}
    assert all(BOB not in r["person_masked"] and ALICE not in r["person_masked"] for r in refused)
    assert {r["operation"] for r in refused} == {"person_summary", "face_template", "sms_request"}


def test_expired_and_ended_visits(client: TestClient, kiosk: SigningKiosk, services: Services,
                                  clock: MovableClock) -> None:
    token = kiosk.sign_in(client, ALICE).json()["visit_token"]
    clock.advance(services.config.auth.visit_ttl_s + 1)
    r = _summary(client, kiosk, ALICE, token)
    assert r.status_code == 403 and r.json()["error"] == "visit_expired"
    # A new visit ends the previous one at once; so does DELETE /v1/visits/current.
    first = kiosk.sign_in(client, ALICE).json()["visit_token"]
    second = kiosk.sign_in(client, BOB).json()["visit_token"]
    assert _summary(client, kiosk, ALICE, first).json()["error"] == "visit_expired"
    assert _summary(client, kiosk, BOB, second).status_code == 200
    assert kiosk.call(client, "DELETE", "/v1/visits/current").json() == {"ended": 1}
    assert _summary(client, kiosk, BOB, second).json()["error"] == "visit_expired"
    assert [r["reason"] for r in _refusals(client)] == ["visit_expired"] * 3


def test_another_kiosks_token_is_refused(client: TestClient, kiosk: SigningKiosk, clock: MovableClock) -> None:
    other = SigningKiosk("kiosk-test-02", clock)
    token = client.post("/v1/operator/enrollment-tokens", headers=operator_headers(),
                        json={"kiosk_id": other.kiosk_id}).json()["token"]
    assert client.post("/v1/kiosks/enroll", json={"kiosk_id": other.kiosk_id, "public_key": other.public_key_b64,
                                                  "token": token}).status_code == 201
    theirs = other.sign_in(client, ALICE).json()["visit_token"]
    r = _summary(client, kiosk, ALICE, theirs)
    assert r.status_code == 403 and r.json()["error"] == "visit_unknown"
    assert _refusals(client)[0]["kiosk_id"] == kiosk.kiosk_id
    assert _summary(client, other, ALICE, theirs).status_code == 200


def test_card_evidence_must_match_the_record(client: TestClient, kiosk: SigningKiosk) -> None:
    for name in (None, "李秀英"):
        r = kiosk.sign_in(client, ALICE, evidence="id_card", name=name)
        assert r.status_code == 403 and r.json()["error"] == "evidence_mismatch" and r.json()["field"] == "name"
    assert kiosk.visit_token is None
    assert [r["reason"] for r in _refusals(client)] == ["evidence_mismatch"] * 2
    assert kiosk.sign_in(client, "440106199901011239").json()["error"] == "unknown_person"
    assert kiosk.sign_in(client, ALICE, evidence="id_card", name="张建明").status_code == 201


def test_ecard_redemption_opens_the_visit(client: TestClient, kiosk: SigningKiosk) -> None:
    code = client.post("/v1/dev/ecard/codes", headers=operator_headers(), json={"id_number": BOB}).json()["code"]
    kiosk.auto_visit = False
    redeemed = kiosk.call(client, "POST", "/v1/ecard/redeem", {"code": code}).json()
    assert redeemed["evidence"] == "e_card" and redeemed["visit_token"]
    assert _summary(client, kiosk, BOB, redeemed["visit_token"]).status_code == 200
    assert _summary(client, kiosk, ALICE, redeemed["visit_token"]).status_code == 403


def test_openings_are_rate_limited(client: TestClient, kiosk: SigningKiosk, services: Services) -> None:
    limit = services.config.auth.visits_per_kiosk_per_hour
    for i in range(limit):
        assert kiosk.sign_in(client, (ALICE, BOB)[i % 2]).status_code == 201
    r = kiosk.sign_in(client, ALICE)
    assert r.status_code == 429 and r.json()["error"] == "visit_rate_limited"
    assert _refusals(client)[0]["reason"] == "visit_rate_limited"
