"""Backend area: a real PostgreSQL (tests/pgfixture.py), a fresh database per test, the app in-process."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from backend_kit import OPERATOR_TOKEN, MovableClock, SigningKiosk, operator_headers, template_b64
from fastapi.testclient import TestClient
from pgfixture import PgCluster, pg_cluster  # noqa: F401  (session fixture)

from backend.app import create_app
from backend.config import BackendConfig, load_backend_config
from backend.context import Services
from backend.seed import apply_seed
from backend.server import prepare

PERSONS = {
    "alice": "440106195203154321",     # retiree, bound phone, template, due
    "bob": "440104194811026548",       # retiree, certified until far ahead
    "carol": "440103196507089012",     # not retired, initial PIN, bank test accounts
    "dead": "440105194002283317",      # deceased retiree
    "nophone": "440106197001011234",   # no bound phone, no template
}


def seed_data() -> dict[str, Any]:
    return {
        "persons": [
            {"id_number": PERSONS["alice"], "name": "张建明", "phone": "13800138000", "retired": True,
             "district": "天河区", "address": "龙口西路12号", "face_template": template_b64(1)},
            {"id_number": PERSONS["bob"], "name": "李秀英", "phone": "13900139000", "retired": True,
             "certified_until": "2027-10-31", "district": "越秀区", "address": "东风中路88号",
             "face_template": template_b64(2)},
            {"id_number": PERSONS["carol"], "name": "王小红", "phone": "13700137000", "card_state": "initial_pin",
             "district": "荔湾区"},
            {"id_number": PERSONS["dead"], "name": "陈国华", "phone": "13600136000", "retired": True,
             "deceased": True, "district": "天河区"},
            {"id_number": PERSONS["nophone"], "name": "赵四", "phone": None, "card_state": "pin_locked"},
        ],
        "bank_accounts": [
            {"bank_code": "ICBC", "card_number": "6222020200112233445", "name": "王小红",
             "id_number": PERSONS["carol"], "phone": "13700137000", "kind": "debit"},
            {"bank_code": "CMB", "card_number": "6225880112345678", "name": "王小红",
             "id_number": PERSONS["carol"], "phone": "13700137000", "kind": "credit"},
            {"bank_code": "GZCB", "card_number": "6223960012345678", "name": "王小红",
             "id_number": PERSONS["carol"], "phone": "13700137000", "kind": "debit"},
        ],
    }


def make_config(dsn: str, tmp: Path, **sms: Any) -> BackendConfig:
    base = load_backend_config(environ={})
    return dataclasses.replace(
        base,
        database=dataclasses.replace(base.database, dsn=dsn),
        auth=dataclasses.replace(base.auth, operator_token=OPERATOR_TOKEN),
        keys=dataclasses.replace(base.keys, review_private_key=str(tmp / "review.pem")),
        sms=dataclasses.replace(base.sms, dev_outbox_endpoint=True, code_pepper="pepper", **sms),
    )


@pytest.fixture
def dsn(pg_cluster: PgCluster) -> str:  # noqa: F811
    return pg_cluster.create_database("backend")


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


@pytest.fixture
def services(dsn: str, tmp_path: Path, clock: MovableClock) -> Iterator[Services]:
    svc = prepare(make_config(dsn, tmp_path), clock=clock, create_review_key=True)
    apply_seed(svc.engine, seed_data())
    yield svc
    svc.engine.dispose()


@pytest.fixture
def client(services: Services) -> Iterator[TestClient]:
    with TestClient(create_app(services)) as c:
        yield c


@pytest.fixture
def kiosk(client: TestClient, clock: MovableClock) -> SigningKiosk:
    """An enrolled kiosk."""
    k = SigningKiosk("kiosk-test-01", clock)
    token = client.post("/v1/operator/enrollment-tokens", headers=operator_headers(), json={}).json()["token"]
    r = client.post("/v1/kiosks/enroll", json={"kiosk_id": k.kiosk_id, "public_key": k.public_key_b64,
                                               "token": token})
    assert r.status_code == 201, r.text
    return k
