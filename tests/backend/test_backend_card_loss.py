"""Temporary loss report of the social-security card on the real PostgreSQL: a synced card_loss
record marks the card reported lost (the summary every kiosk reads says so), a cancellation
restores the state it had, replays change nothing, and staff can read the state."""

from __future__ import annotations

from backend_kit import PERSONS, operator_headers


def _summary_state(client, kiosk, person: str) -> str:
    r = kiosk.call(client, "GET", f"/v1/persons/{PERSONS[person]}/summary")
    assert r.status_code == 200, r.text
    return r.json()["card_state"]


def _send(client, kiosk, *records):
    r = client.post("/v1/records:batch", json=kiosk.batch(list(records)))
    assert r.status_code == 200, r.text
    return [(x["status"], x["outcome"]) for x in r.json()["results"]]


def test_report_then_cancel_restores_the_previous_state(client, kiosk):
    carol = PERSONS["carol"]                     # card_state "initial_pin" before
    report = kiosk.record("card_loss", {"id_number": carol, "action": "report", "method": "id_card"})
    assert _send(client, kiosk, report) == [("accepted", "ok")]
    assert _summary_state(client, kiosk, "carol") == "reported_lost"
    staff = client.get(f"/v1/operator/card-loss/{carol}", headers=operator_headers())
    assert staff.status_code == 200 and staff.json()["report"]["state"] == "reported"
    assert staff.json()["report"]["kiosk_id"] == kiosk.kiosk_id
    # A second report and a replay change nothing.
    again = kiosk.record("card_loss", {"id_number": carol, "action": "report"})
    assert _send(client, kiosk, report, again) == [("duplicate", "ok"), ("accepted", "already_reported")]
    cancel = kiosk.record("card_loss", {"id_number": carol, "action": "cancel"})
    assert _send(client, kiosk, cancel) == [("accepted", "ok")]
    assert _summary_state(client, kiosk, "carol") == "initial_pin"
    staff = client.get(f"/v1/operator/card-loss/{carol}", headers=operator_headers()).json()
    assert staff["card_state"] == "initial_pin" and staff["report"]["state"] == "cancelled"
    assert staff["report"]["cancelled_at"] is not None


def test_cancel_without_a_report_and_unknown_people_are_kept_for_review(client, kiosk):
    cancel = kiosk.record("card_loss", {"id_number": PERSONS["alice"], "action": "cancel"})
    unknown = kiosk.record("card_loss", {"id_number": "110101199001011237", "action": "report"})
    bad = kiosk.record("card_loss", {"id_number": PERSONS["alice"], "action": "lose"})
    assert _send(client, kiosk, cancel, unknown, bad) == [
        ("accepted", "not_reported"), ("accepted", "unknown_person"), ("accepted", "invalid")]
    assert _summary_state(client, kiosk, "alice") == "normal"
    assert client.get("/v1/operator/card-loss/110101199001011237", headers=operator_headers()).status_code == 404
    assert client.get(f"/v1/operator/card-loss/{PERSONS['alice']}").status_code == 401


def test_an_sms_code_for_the_loss_report(client, kiosk):
    r = kiosk.call(client, "POST", "/v1/sms/request", {"purpose": "card_loss", "id_number": PERSONS["alice"]})
    assert r.status_code == 200, r.text
    assert r.json()["phone_masked"].endswith("8000")
