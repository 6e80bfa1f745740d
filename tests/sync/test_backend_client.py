"""The online operations against the real backend (PostgreSQL), and their typed outcomes when it
cannot be reached or does not answer."""

from __future__ import annotations

import re
import socket
import time
from pathlib import Path

import httpx
import numpy as np
import pytest
from synchelpers import BackendProcess, enrolled_kiosk

from backend.crypto import b64e
from kiosk.backend_client import (
    BackendClient,
    FaceTemplate,
    NotFound,
    PersonSummary,
    Rejected,
    Roster,
    ServiceUnavailable,
    SmsRequested,
    SmsVerification,
)
from kiosk.signing import ReviewKey, Signer, create_key

ALICE = "440106195203154324"
NOBODY = "440106199901010000"
NOPHONE = "440106197001011234"


@pytest.fixture(scope="module")
def seeded(backend: BackendProcess) -> BackendProcess:
    vec = np.random.default_rng(1).standard_normal(128).astype(np.float32)
    template = b64e((vec / np.linalg.norm(vec)).astype(np.float32).tobytes())
    seed = {"persons": [
        {"id_number": ALICE, "name": "张建明", "phone": "13800138000", "retired": True, "district": "天河区",
         "address": "龙口西路12号", "face_template": template},
        {"id_number": NOPHONE, "name": "赵四", "phone": None, "retired": True, "district": "越秀区"},
    ]}
    r = httpx.post(f"{backend.url}/v1/operator/seed", json=seed,
                   headers={"Authorization": f"Bearer {backend.operator_token}"}, timeout=10)
    assert r.status_code == 200, r.text
    return backend


@pytest.fixture(scope="module")
def client(seeded: BackendProcess, tmp_path_factory: pytest.TempPathFactory) -> BackendClient:
    _signer, c = enrolled_kiosk(seeded, tmp_path_factory.mktemp("kiosk"), "client-test-0001")
    return c


def _sms_code(backend: BackendProcess, phone: str) -> str:
    r = httpx.get(f"{backend.url}/v1/dev/sms-outbox", params={"phone": phone},
                  headers={"Authorization": f"Bearer {backend.operator_token}"}, timeout=10)
    assert r.status_code == 200, r.text
    match = re.search(r"(\d{6})", r.json()["messages"][-1]["text"])
    assert match, "no code in the development gateway's message"
    return match.group(1)


def test_person_summary_and_face_template(client: BackendClient) -> None:
    client.begin_visit(ALICE, "sscard", "张建明")
    summary = client.person_summary(ALICE)
    assert isinstance(summary, PersonSummary) and summary.data["phone_masked"] == "138****8000"
    assert ALICE not in repr(summary)                          # personal data stays out of reprs
    template = client.face_template(ALICE)
    assert isinstance(template, FaceTemplate) and template.data["template"]
    client.begin_visit(NOBODY, "typed")
    unknown = client.person_summary(NOBODY)
    assert isinstance(unknown, NotFound) and unknown.error == "unknown_person" and "counter" in unknown.reason
    client.begin_visit(NOPHONE, "typed")
    assert isinstance(client.face_template(NOPHONE), NotFound)


def test_person_data_only_for_the_visit(client: BackendClient, seeded: BackendProcess) -> None:
    """Issue 17: the client sends the visit token; another person, or no visit, is refused (403)."""
    client.begin_visit(NOPHONE, "typed")
    assert isinstance(client.person_summary(NOPHONE), PersonSummary)
    other = client.person_summary(ALICE)                        # not this visit's person: no token
    assert isinstance(other, Rejected) and other.status == 403 and other.error == "visit_required"
    client.begin_visit(ALICE, "id_card", "王小红")                # a card whose name is not the record's
    wrong = client.person_summary(ALICE)
    assert isinstance(wrong, Rejected) and wrong.error == "evidence_mismatch"
    client.begin_visit(ALICE, "id_card", "张建明")
    assert isinstance(client.person_summary(ALICE), PersonSummary)
    client.end_visit()                                          # the citizen left
    after = client.person_summary(ALICE)
    assert isinstance(after, Rejected) and after.error == "visit_required"
    r = httpx.get(f"{seeded.url}/v1/operator/visit-refusals", timeout=10,
                  headers={"Authorization": f"Bearer {seeded.operator_token}"})
    reasons = [x["reason"] for x in r.json()["refusals"] if x["kiosk_id"] == client.kiosk_id]
    assert reasons[:3] == ["visit_required", "evidence_mismatch", "visit_required"]


def test_sms_request_verify_and_cooldown(client: BackendClient, seeded: BackendProcess) -> None:
    client.begin_visit(ALICE, "typed")
    sent = client.request_sms("certification", id_number=ALICE)
    assert isinstance(sent, SmsRequested) and sent.phone_masked == "138****8000"
    assert sent.resend_after_s == 60 and sent.expires_in_s == 300
    wrong = client.verify_sms(sent.request_id, bytearray(b"000000") if _sms_code(seeded, "13800138000") != "000000"
                              else bytearray(b"111111"))
    assert isinstance(wrong, SmsVerification) and not wrong.ok and wrong.attempts_left == 4
    right = client.verify_sms(sent.request_id, _sms_code(seeded, "13800138000"))
    assert isinstance(right, SmsVerification) and right.ok
    again = client.request_sms("certification", id_number=ALICE)
    assert isinstance(again, Rejected) and again.status == 429 and again.error == "resend_too_soon"
    assert again.retry_after_s is not None and 0 < again.retry_after_s <= 60
    client.begin_visit(NOPHONE, "typed")
    no_phone = client.request_sms("certification", id_number=NOPHONE)
    assert isinstance(no_phone, Rejected) and no_phone.error == "no_bound_phone"


def test_roster_and_review_key(client: BackendClient, seeded: BackendProcess,
                               tmp_path_factory: pytest.TempPathFactory) -> None:
    refused = client.roster(["天河区"])                          # an office kiosk: no personal roster
    assert isinstance(refused, Rejected) and refused.status == 403 and refused.error == "field_kiosk_only"
    _signer, field = enrolled_kiosk(seeded, tmp_path_factory.mktemp("field"), "field-client-test-0001")
    r = httpx.put(f"{seeded.url}/v1/operator/field-operators/op-5", timeout=10,
                  headers={"Authorization": f"Bearer {seeded.operator_token}"},
                  json={"name": "周敏", "password": "pass-word-55", "districts": ["天河区", "越秀区"]})
    assert r.status_code == 200, r.text
    anonymous = field.roster(["天河区"])                         # no operator signed in
    assert isinstance(anonymous, Rejected) and anonymous.error == "operator_required"
    roster = field.roster(["天河区", "越秀区"], operator_id="op-5", password=bytearray(b"pass-word-55"))
    assert isinstance(roster, Roster)
    ids = {p["id_number"] for p in roster.data["persons"]}
    assert ALICE in ids and NOPHONE in ids                     # both retired, never certified: due
    key = client.review_key()
    assert isinstance(key, ReviewKey) and len(key.raw) == 32


def test_unenrolled_kiosk_is_rejected_with_reason(seeded: BackendProcess, tmp_path: Path) -> None:
    stranger = BackendClient(seeded.url, "never-enrolled", Signer.generate(), timeout_s=5.0)
    answer = stranger.person_summary(ALICE)
    assert isinstance(answer, Rejected) and answer.status == 401 and answer.error == "unknown_kiosk"


def test_nothing_listening_is_service_unavailable(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]                              # closed again: connection refused
    client = BackendClient(f"http://127.0.0.1:{port}", "k", create_key(tmp_path / "k.key"), timeout_s=2.0)
    answer = client.request_sms("certification", id_number=ALICE)
    assert isinstance(answer, ServiceUnavailable) and answer.reason.startswith("network")
    assert "counter" in answer.citizen_message or "窗口" in answer.citizen_message


def test_silent_backend_times_out_instead_of_hanging(tmp_path: Path) -> None:
    # A real socket that accepts connections (kernel backlog) and never answers.
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        port = server.getsockname()[1]
        client = BackendClient(f"http://127.0.0.1:{port}", "k", create_key(tmp_path / "k.key"), timeout_s=0.5)
        started = time.monotonic()
        answer = client.face_template(ALICE)
        elapsed = time.monotonic() - started
    assert isinstance(answer, ServiceUnavailable) and answer.reason == "timeout"
    assert elapsed < 10, f"the call took {elapsed:.1f} s: a timeout did not apply"
