"""The e-card PIN end to end below the UI: the key ceremony loads the e-card master key into the
real pad driver (over its pty simulator) and registers it at the backend on PostgreSQL; each
operation's working key comes from the backend; the citizen types on the pad; only the backend
decrypts the blocks, in one function, and keeps a slow hash."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from backend_kit import PERSONS, SigningKiosk, operator_headers
from fastapi.testclient import TestClient

from backend.context import Services
from backend.db import dev_sms_outbox, notifications
from backend.ecard_pin import ecard_pins, pan_for
from drivers.crypto.ciphers import cipher_for, kcv
from drivers.pinpad.factory import PinPadSetup, create_pinpad

ECARD_MASTER_INDEX = 2                       # the pad's master-key index the PIN service owns
COMPONENTS = ["00112233445566778899AABBCCDDEEFF", "0F0E0D0C0B0A09080706050403020100"]
ALICE = PERSONS["alice"]


def combined() -> bytes:
    a, b = (bytes.fromhex(c) for c in COMPONENTS)
    return bytes(x ^ y for x, y in zip(a, b, strict=True))


@pytest.fixture
def pad() -> Iterator[PinPadSetup]:
    """A pad in ceremony mode with the e-card working-key slot under its own master index."""
    setup = create_pinpad(backend="simulator", ceremony_mode=True, answer_timeout_s=0.25, command_timeout_s=3.0,
                          key_slots={"pin": 1, "ecard": (ECARD_MASTER_INDEX, 3)})
    assert setup.service.wait_online(5), setup.service.status_detail
    check = kcv(cipher_for("sm4", combined()))
    loaded = setup.service.load_master_key(combined(), check, master_index=ECARD_MASTER_INDEX).wait(5)
    assert loaded.ok, loaded
    yield setup
    setup.close()


@pytest.fixture
def ceremony(client: TestClient, kiosk: SigningKiosk) -> None:
    kcv_hex = kcv(cipher_for("sm4", combined())).hex().upper()
    r = client.put(f"/v1/operator/kiosks/{kiosk.kiosk_id}/ecard-pin-key", headers=operator_headers(),
                   json={"algorithm": "sm4", "components": COMPONENTS, "kcv": kcv_hex})
    assert r.status_code == 200, r.text
    # The citizen has an e-card (the platform creates the handle with the first code).
    assert client.post("/v1/dev/ecard/codes", headers=operator_headers(), json={"id_number": ALICE}).status_code == 200


def typed_block(pad: PinPadSetup, session: dict, pin: str) -> str:
    """The citizen types ``pin`` on the pad; the pad's block under the session's working key."""
    loaded = pad.service.load_work_key("ecard", bytes.fromhex(session["wrapped_key"]),
                                       bytes.fromhex(session["kcv"])).wait(5)
    assert loaded.ok, loaded
    handle = pad.service.start_pin_entry(session["pan"], key_name="ecard", timeout_s=5)
    end = time.monotonic() + 3
    while pad.simulator.entry_mode != "pin":                     # type: ignore[union-attr]
        assert time.monotonic() < end
        time.sleep(0.005)
    pad.simulator.type_keys(pin)                                 # type: ignore[union-attr]
    pad.simulator.press("enter")                                 # type: ignore[union-attr]
    done = handle.wait(6)
    assert done.ok, done
    return done.result.block.hex()


def session(client: TestClient, kiosk: SigningKiosk, purpose: str) -> dict:
    r = kiosk.call(client, "POST", "/v1/ecard/pin/sessions", {"id_number": ALICE, "purpose": purpose})
    assert r.status_code == 200, r.text
    return r.json()


def run(client: TestClient, kiosk: SigningKiosk, pad: PinPadSetup, purpose: str, pins: dict[str, str],
        **extra: object):  # type: ignore[no-untyped-def]
    s = session(client, kiosk, purpose)
    blocks = {name: typed_block(pad, s, pin) for name, pin in pins.items()}
    return kiosk.call(client, "POST", f"/v1/ecard/pin/sessions/{s['session_id']}", {"blocks": blocks, **extra})


@pytest.mark.usefixtures("ceremony")
def test_set_then_change_with_the_old_pin(client: TestClient, kiosk: SigningKiosk, pad: PinPadSetup,
                                          services: Services) -> None:
    r = run(client, kiosk, pad, "set", {"new": "481592", "repeat": "481592"})
    assert r.status_code == 200 and r.json()["alert_sent"], r.text
    r = run(client, kiosk, pad, "change", {"old": "481592", "new": "730615", "repeat": "730615"})
    assert r.status_code == 200, r.text
    with services.engine.connect() as conn:
        row = conn.execute(sa.select(ecard_pins).where(ecard_pins.c.id_number == ALICE)).mappings().one()
        texts = [t for (t,) in conn.execute(sa.select(notifications.c.text))]
    assert row["pin_hash"].startswith("$argon2id$") and "730615" not in row["pin_hash"]
    assert sum("电子社保卡密码" in t for t in texts) == 2, "an alert for the set and for the change"
    # The old PIN no longer opens the change.
    r = run(client, kiosk, pad, "change", {"old": "481592", "new": "285714", "repeat": "285714"})
    assert r.status_code == 422 and r.json()["error"] == "wrong_pin"


@pytest.mark.usefixtures("ceremony")
def test_weak_and_mismatched_pins_are_refused_with_the_rule(client: TestClient, kiosk: SigningKiosk,
                                                            pad: PinPadSetup) -> None:
    r = run(client, kiosk, pad, "set", {"new": "123456", "repeat": "123456"})
    assert r.status_code == 422 and r.json()["rule"] == "sequence"
    r = run(client, kiosk, pad, "set", {"new": "520314", "repeat": "520315"})
    assert r.status_code == 422 and r.json()["rule"] == "mismatch"
    # The birth date of the ID number (1952-03-15) is refused, as for the card PIN.
    r = run(client, kiosk, pad, "set", {"new": "520315", "repeat": "520315"})
    assert r.status_code == 422 and r.json()["rule"] == "birth_date"


@pytest.mark.usefixtures("ceremony")
def test_wrong_old_pins_lock_and_only_a_reset_unlocks(client: TestClient, kiosk: SigningKiosk,
                                                      pad: PinPadSetup, services: Services) -> None:
    assert run(client, kiosk, pad, "set", {"new": "481592", "repeat": "481592"}).status_code == 200
    answers = [run(client, kiosk, pad, "change", {"old": "000001", "new": "730615", "repeat": "730615"}).json()
               for _ in range(services.config.ecard.pin_max_failures)]
    assert [a["tries_left"] for a in answers] == list(range(services.config.ecard.pin_max_failures - 1, -1, -1))
    assert answers[-1]["error"] == "pin_locked"
    r = kiosk.call(client, "POST", "/v1/ecard/pin/sessions", {"id_number": ALICE, "purpose": "change"})
    assert r.status_code == 423
    # Reset: face passed on the kiosk, and the SMS code sent to the bound phone verified by this kiosk.
    new = {"new": "730615", "repeat": "730615"}
    sms = kiosk.call(client, "POST", "/v1/sms/request", {"purpose": "ecard_pin_reset", "id_number": ALICE}).json()
    r = run(client, kiosk, pad, "reset", new, face_passed=True, sms_request_id=sms["request_id"])
    assert r.status_code == 422 and r.json()["error"] == "sms_required", "a code sent but not verified proves nothing"
    with services.engine.connect() as conn:
        text = conn.execute(sa.select(dev_sms_outbox.c.text).order_by(dev_sms_outbox.c.id.desc())).scalar()
    assert "电子社保卡密码重置" in text
    code = "".join(c for c in text if c.isdigit())[:6]
    r = kiosk.call(client, "POST", "/v1/sms/verify", {"request_id": sms["request_id"], "code": code})
    assert r.status_code == 200 and r.json()["ok"], r.text
    r = run(client, kiosk, pad, "reset", new, face_passed=False, sms_request_id=sms["request_id"])
    assert r.status_code == 422 and r.json()["error"] == "face_required"
    # A weak new PIN spends the session, not the SMS check: the citizen chooses again.
    r = run(client, kiosk, pad, "reset", {"new": "111111", "repeat": "111111"}, face_passed=True,
            sms_request_id=sms["request_id"])
    assert r.status_code == 422 and r.json()["rule"] == "all_same"
    r = run(client, kiosk, pad, "reset", new, face_passed=True, sms_request_id=sms["request_id"])
    assert r.status_code == 200, r.text
    # The verified code served that reset only.
    r = run(client, kiosk, pad, "reset", {"new": "285714", "repeat": "285714"}, face_passed=True,
            sms_request_id=sms["request_id"])
    assert r.status_code == 422 and r.json()["error"] == "sms_required"
    assert run(client, kiosk, pad, "change", {"old": "730615", "new": "285714", "repeat": "285714"}).status_code == 200


@pytest.mark.usefixtures("ceremony")
def test_a_block_is_bound_to_its_session_and_citizen(client: TestClient, kiosk: SigningKiosk,
                                                     pad: PinPadSetup) -> None:
    first = session(client, kiosk, "set")
    block = typed_block(pad, first, "481592")
    second = session(client, kiosk, "set")
    # A block typed under another session's key does not decode under this one.
    r = kiosk.call(client, "POST", f"/v1/ecard/pin/sessions/{second['session_id']}",
                   {"blocks": {"new": block, "repeat": block}})
    assert r.status_code == 422 and r.json()["error"] == "bad_pin_block"
    # A session serves one submission.
    r = kiosk.call(client, "POST", f"/v1/ecard/pin/sessions/{second['session_id']}",
                   {"blocks": {"new": block, "repeat": block}})
    assert r.status_code == 409 and r.json()["error"] == "session_over"
    assert first["pan"] == pan_for(ALICE) and ALICE[:-1].endswith(first["pan"][-12:])


def test_no_session_without_the_key_ceremony(client: TestClient, kiosk: SigningKiosk) -> None:
    r = kiosk.call(client, "POST", "/v1/ecard/pin/sessions", {"id_number": ALICE, "purpose": "set"})
    assert r.status_code == 409 and r.json()["error"] == "no_pad_key"


def test_ceremony_refuses_a_wrong_check_value(client: TestClient, kiosk: SigningKiosk) -> None:
    r = client.put(f"/v1/operator/kiosks/{kiosk.kiosk_id}/ecard-pin-key", headers=operator_headers(),
                   json={"algorithm": "sm4", "components": COMPONENTS, "kcv": "000000"})
    assert r.status_code == 409 and r.json()["error"] == "kcv_mismatch"
