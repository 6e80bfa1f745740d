"""The console shows what the backend's protections hold back, and lets a fleet operator act:
SMS lockouts (listed masked, lifted with a reason that goes to the audit log), person data
refused outside a visit, and the records a kiosk dead-lettered (from its heartbeat). Real backend
on PostgreSQL, real kiosk client and heartbeat sender, the console over HTTP like a browser."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import sqlalchemy as sa
from consolekit import ConsoleClient, csrf_of

from backend.auth import issue_enrollment_token
from backend.console import fleet
from backend.console.tables import console_audit as audit_log
from kiosk.backend_client import BackendClient, Rejected
from kiosk.heartbeat import HeartbeatService, dead_letter_summary
from kiosk.outbox import DeadLetter, Outbox
from kiosk.signing import Signer
from kiosk.store import Store

pytestmark = [pytest.mark.postgres]
MODELS = Path(__file__).resolve().parents[2] / "var" / "models"


def _kiosk(backend, kiosk_id: str) -> BackendClient:  # type: ignore[no-untyped-def]
    signer = Signer.generate()
    client = BackendClient(backend.url, kiosk_id, signer, timeout_s=5.0)
    assert type(client.enroll(signer.public_key_b64, issue_enrollment_token(backend.services, kiosk_id)["token"])
                ).__name__ == "Enrolled"
    return client


def _signed_in(backend, user: str) -> ConsoleClient:  # type: ignore[no-untyped-def]
    backend.clock.advance(31)                   # a fresh TOTP step: each code signs in once
    browser = ConsoleClient(backend)
    assert browser.sign_in(user).status_code == 303
    return browser


def test_lockouts_are_shown_masked_and_lifted_with_the_reason_audited(console_backend) -> None:  # type: ignore[no-untyped-def]
    services = console_backend.services
    services.config = dataclasses.replace(services.config, sms=dataclasses.replace(
        services.config.sms, per_kiosk_per_hour=2))
    kiosk = _kiosk(console_backend, "guard-sms-01")
    for phone in ("13600136010", "13600136011"):
        assert type(kiosk.request_sms("registration", phone=phone)).__name__ == "SmsRequested"
    third = kiosk.request_sms("registration", phone="13600136012")
    assert isinstance(third, Rejected) and third.error == "rate_limited_kiosk"
    # Person data asked for without a visit: refused, and listed for the operator (masked).
    assert isinstance(kiosk.person_summary("440106195203154324"), Rejected)

    reviewer = _signed_in(console_backend, "rita")
    assert reviewer.http.get("/console/safeguards").status_code == 403      # fleet operators only
    felix = _signed_in(console_backend, "felix")
    page = felix.http.get("/console/safeguards")
    assert page.status_code == 200
    assert "guard-sms-01" in page.text and 'data-kind="kiosk"' in page.text
    assert "13600136010" not in page.text                  # no phone number on the page
    assert 'data-reason="visit_required"' in page.text and "440106195203154324" not in page.text
    assert "4401**********4324" in page.text or "4324" in page.text

    ref = page.text.split('name="ref" value="')[1].split('"')[0]
    forged = felix.http.post("/console/safeguards/lift", data={"ref": ref, "csrf": "wrong"})
    assert forged.status_code == 403
    assert type(kiosk.request_sms("registration", phone="13600136013")).__name__ == "Rejected"   # still locked
    lifted = felix.http.post("/console/safeguards/lift",
                             data={"ref": ref, "csrf": csrf_of(page.text), "reason": "site called: training\x00"})
    assert lifted.status_code == 303 and lifted.headers["location"].endswith("lifted=1")
    assert type(kiosk.request_sms("registration", phone="13600136014")).__name__ == "SmsRequested"
    after = felix.http.get("/console/safeguards?lifted=1")
    assert 'id="lifted"' in after.text and 'data-kind="kiosk"' not in after.text
    with services.engine.connect() as conn:
        entry = conn.execute(sa.select(audit_log).where(audit_log.c.action == "lockout_lifted")).mappings().one()
    assert (entry["username"], entry["target"], entry["detail"]) == ("felix", "kiosk guard-sms-01",
                                                                     "site called: training")
    again = felix.http.post("/console/safeguards/lift", data={"ref": ref, "csrf": csrf_of(page.text)})
    assert again.headers["location"].endswith("gone=1")          # lifted already: nothing changes
    kiosk.close()


def test_a_kiosks_dead_letters_reach_the_fleet_page_with_their_reasons(console_backend,  # type: ignore[no-untyped-def]
                                                                       tmp_path: Path) -> None:
    from kiosk.sync import SyncWorker

    client = _kiosk(console_backend, "guard-dead-01")
    store = Store(tmp_path / "store.sqlite3", kiosk_id="guard-dead-01", signer=client.signer)
    try:
        kept = [store.commit_result("attempt_failed", {"n": i}).id for i in range(12)]
        outbox = Outbox(store)
        for record_id in kept[:11]:        # as the sync worker does with the backend's refusal
            outbox.dead_letter(record_id, "malformed: record 0: payload.id_number: contains a NUL character")
        worker = SyncWorker(store, client, batch_size=20, idle_poll_s=0.1)
        assert worker.drain_once().sent == 1
        beat = HeartbeatService(client=client, store=store, worker=worker, devices={}, models_dir=MODELS,
                                data_dir=tmp_path, interval_s=60)
        assert beat.send_once("timer") is True
    finally:
        store.close()
    state = next(k for k in fleet.overview(console_backend.services) if k.kiosk_id == "guard-dead-01")
    # (the sign-ins above moved the backend's clock, so a clock-drift warning may sit beside it)
    assert state.state == "warning" and ("dead_letters", "11") in [(a.code, a.detail) for a in state.alerts]
    assert [d["seq"] for d in state.last["dead_letter_detail"]] == list(range(2, 12))    # the latest 10
    felix = _signed_in(console_backend, "felix")
    page = felix.http.get("/console/fleet/guard-dead-01")
    assert page.status_code == 200 and 'id="dead-letters"' in page.text
    assert page.text.count("payload.id_number: contains a NUL character") == 10
    assert 'data-alert="dead_letters"' in felix.http.get("/console/fleet").text


def test_a_heartbeat_with_malformed_dead_letters_is_refused_by_name(console_backend) -> None:  # type: ignore[no-untyped-def]
    client = _kiosk(console_backend, "guard-dead-02")
    body = {"reason": "timer", "software": {"version": "0.1.0"}, "devices": {},
            "outbox": {"depth": 0, "dead": 1, "dead_letters": [{"seq": 1.5, "type": "x", "reason": "y"}]}}
    answer = client.post_heartbeat(body)
    assert isinstance(answer, Rejected) and answer.status == 422 and "dead_letters" in answer.reason
    # A poison's own seq may be out of range (that is why it was refused) and its reason may hold
    # a NUL: the heartbeat is still recorded, never a 5xx, or the fleet would lose sight of the kiosk.
    body["outbox"]["dead_letters"] = [{"seq": 2**63 - 1, "type": "x", "reason": "bad\x00"}]
    assert client.post_heartbeat(body)["status"] == "recorded"
    odd = DeadLetter("id", 7, "pin_change", "2026-12-07T00:00:00Z", "reason \ud800", "2026-12-07T00:00:01Z")
    assert dead_letter_summary([odd]) == [{"seq": 7, "type": "pin_change", "reason": "reason ?",
                                           "dead_at": "2026-12-07T00:00:01Z"}]
