"""Bank-card real-name verification (simulator from the kiosk's bank list) and registration."""

from __future__ import annotations

import re

import sqlalchemy as sa
from backend_kit import PERSONS, operator_headers

from backend.db import accounts

CAROL = {"name": "王小红", "id_number": PERSONS["carol"], "bank_code": "ICBC",
         "card_number": "6222020200112233445", "phone": "13700137000"}


def _verify(client, kiosk, **override):
    return kiosk.call(client, "POST", "/v1/bank/verify", {**CAROL, **override})


def test_banks_come_from_the_kiosk_list(services):
    assert len(services.banks) == 12
    assert sum(b.connected for b in services.banks.values()) == 11
    assert services.banks["GZCB"].connected is False


def test_ok_then_register_account(client, services, kiosk):
    r = _verify(client, kiosk)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["outcome"] == "ok" and body["sms"]["phone_masked"] == "137****7000"
    msgs = client.get("/v1/dev/sms-outbox", params={"phone": "13700137000"}, headers=operator_headers()).json()
    code = re.search(r"(\d{6})", msgs["messages"][-1]["text"]).group(1)
    bad = kiosk.call(client, "POST", "/v1/accounts/register",
                     {"verification_id": body["verification_id"], "sms_code": "000000" if code != "000000" else "1"})
    assert bad.json()["ok"] is False and bad.json()["account_id"] is None
    done = kiosk.call(client, "POST", "/v1/accounts/register",
                      {"verification_id": body["verification_id"], "sms_code": code})
    assert done.status_code == 200 and done.json()["ok"] is True and done.json()["outcome"] == "created"
    assert "No bank account was linked" in done.json()["message"]
    with services.engine.connect() as conn:
        row = conn.execute(sa.select(accounts)).mappings().one()
    assert row["id_number"] == PERSONS["carol"]
    assert "card" not in " ".join(row.keys())           # the bank card is not kept with the account
    again = kiosk.call(client, "POST", "/v1/accounts/register",
                       {"verification_id": body["verification_id"], "sms_code": code})
    assert again.status_code == 409 and again.json()["error"] == "verification_used"


def test_mismatch_with_next_steps(client, kiosk):
    r = _verify(client, kiosk, name="王小明").json()
    assert r["outcome"] == "mismatch"
    assert r["message"] == "name, ID type or ID number does not match the bank's record"
    assert len(r["next_steps"]) == 4 and "12333" in r["next_steps"][3] and "another" in r["next_steps"][1]
    assert "verification_id" not in r
    assert _verify(client, kiosk, card_number="6222020200999999999").json()["outcome"] == "mismatch"


def test_phone_mismatch(client, kiosk):
    r = _verify(client, kiosk, phone="13700137999").json()
    assert r["outcome"] == "phone_mismatch" and len(r["next_steps"]) == 4


def test_credit_card_refused(client, kiosk):
    r = _verify(client, kiosk, bank_code="CMB", card_number="6225880112345678").json()
    assert r["outcome"] == "credit_card" and "debit" in r["message"]


def test_bank_not_connected_has_its_own_message(client, kiosk):
    r = _verify(client, kiosk, bank_code="GZCB", card_number="6223960012345678").json()
    assert r["outcome"] == "bank_not_connected"
    assert "still being connected" in r["message"] and "正在接入" in r["message_zh"]


def test_unknown_bank_and_bad_input(client, kiosk):
    r = _verify(client, kiosk, bank_code="NOPE")
    assert r.status_code == 422 and r.json()["error"] == "unknown_bank"
    assert _verify(client, kiosk, card_number="12ab").status_code == 422
    assert _verify(client, kiosk, phone="123").status_code == 422


def test_resend_for_a_verification(client, kiosk, clock):
    body = _verify(client, kiosk).json()
    clock.advance(61)
    r = kiosk.call(client, "POST", "/v1/sms/request",
                   {"purpose": "registration", "verification_id": body["verification_id"]})
    assert r.status_code == 200
    msgs = client.get("/v1/dev/sms-outbox", params={"phone": "13700137000"}, headers=operator_headers()).json()
    code = re.search(r"(\d{6})", msgs["messages"][-1]["text"]).group(1)
    done = kiosk.call(client, "POST", "/v1/accounts/register",
                      {"verification_id": body["verification_id"], "sms_code": code})
    assert done.json()["outcome"] == "created"


def test_verification_expires(client, kiosk, clock):
    body = _verify(client, kiosk).json()
    clock.advance(901)
    r = kiosk.call(client, "POST", "/v1/accounts/register",
                   {"verification_id": body["verification_id"], "sms_code": "123456"})
    assert r.status_code == 410


def test_the_name_may_be_left_out_only_in_an_e_card_visit(client, kiosk):
    """An e-card visit's kiosk knows only the masked name, so it may leave the name out and the bank
    is asked with the bureau's record (tests/ui/test_ecard_pin_service.py); any other visit must name
    the person as the card does."""
    body = {k: v for k, v in CAROL.items() if k != "name"}
    r = kiosk.call(client, "POST", "/v1/bank/verify", body)
    assert r.status_code == 422, r.text
    assert r.json()["error"] == "malformed" and "e-card" in r.text
