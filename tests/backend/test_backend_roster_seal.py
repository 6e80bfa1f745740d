"""Roster face templates are sealed to the downloading field kiosk's key and expire (issue 17):
the real backend on PostgreSQL answers, the kiosk's real roster vault stores and opens it."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from backend_kit import PERSONS, MovableClock, SigningKiosk, operator_headers, seed_data
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient

from backend.context import Services
from kiosk.field.vault import RosterError, RosterVault
from kiosk.roster_seal import TemplateSealError, open_template, open_template_key, x25519_private_of
from kiosk.signing import create_key
from kiosk.store import Store

PASSWORD = "field-pass-2026"
TIANHE = "/v1/roster?districts=%E5%A4%A9%E6%B2%B3%E5%8C%BA"


def _download(client: TestClient, kiosk: SigningKiosk) -> dict:
    r = client.put("/v1/operator/field-operators/op-1", headers=operator_headers(),
                   json={"name": "周敏", "password": PASSWORD, "districts": ["天河区"]})
    assert r.status_code == 200, r.text
    _raw, headers = kiosk.signed("GET", TIANHE)
    headers.update({"X-Field-Operator": "op-1", "X-Field-Operator-Password": base64.b64encode(PASSWORD.encode()).decode()})
    r = client.get(TIANHE, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def _seeded_template(id_number: str) -> bytes:
    person = next(p for p in seed_data()["persons"] if p["id_number"] == id_number)
    return base64.b64decode(person["face_template"])


def test_templates_open_only_with_the_downloading_kiosks_key(client: TestClient, field_kiosk: SigningKiosk) -> None:
    answer = _download(client, field_kiosk)
    alice = next(p for p in answer["persons"] if p["id_number"] == PERSONS["alice"])
    plain = _seeded_template(PERSONS["alice"])
    assert plain not in base64.b64decode(alice["template"])              # not readable in the answer
    key = open_template_key(x25519_private_of(field_kiosk.key), answer["template_key"])
    assert open_template(key, alice["id_number"], answer["templates_expire_at"], alice["template"]) == plain
    with pytest.raises(TemplateSealError):                             # another kiosk's key
        open_template_key(x25519_private_of(Ed25519PrivateKey.generate()), answer["template_key"])
    with pytest.raises(TemplateSealError):                             # the expiry moved forward
        open_template(key, alice["id_number"], "2099-01-01T00:00:00Z", alice["template"])


def test_the_vault_refuses_another_kiosk_and_purges_at_expiry(client: TestClient, field_kiosk: SigningKiosk,
                                                              services: Services, clock: MovableClock,
                                                              tmp_path: Path) -> None:
    answer = _download(client, field_kiosk)
    store = Store(tmp_path / "kiosk.sqlite3", kiosk_id=field_kiosk.kiosk_id, signer=create_key(tmp_path / "k.key"))
    try:
        wall = lambda: clock().timestamp()  # noqa: E731
        vault = RosterVault(store, expiry_days=14, kdf_n=1024, clock=wall, kiosk_key=x25519_private_of(field_kiosk.key))
        info, data_key = vault.save(answer, operator_id="op-1", secret=bytearray(PASSWORD.encode()))
        valid_days = services.config.certification.roster_templates_valid_days
        assert info.expires_at == clock().timestamp() + valid_days * 86400    # the backend's expiry caps it
        roster = vault.open(data_key)
        assert bytes(roster.get(PERSONS["alice"])._template or b"") == _seeded_template(PERSONS["alice"])
        roster.wipe()

        stranger = RosterVault(store, expiry_days=14, kdf_n=1024, clock=wall,
                               kiosk_key=x25519_private_of(Ed25519PrivateKey.generate()))
        with pytest.raises(RosterError) as other:
            stranger.open(data_key)
        assert other.value.code == "other_kiosk"

        clock.advance(valid_days * 86400)
        with pytest.raises(RosterError) as expired:
            vault.open(data_key)
        assert expired.value.code == "expired" and vault.info() is None      # deleted, not just refused
        with store.read() as conn:
            assert conn.execute("SELECT count(*) FROM local_state WHERE namespace LIKE 'field.%'").fetchone()[0] == 0
    finally:
        store.close()
