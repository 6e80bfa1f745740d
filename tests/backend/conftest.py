"""Backend area: a real PostgreSQL (tests/pgfixture.py), a fresh database per test, the app in-process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from backend_kit import MovableClock, SigningKiosk, make_config, operator_headers, seed_data
from fastapi.testclient import TestClient
from pgfixture import PgCluster, pg_cluster  # noqa: F401  (session fixture)

from backend.app import create_app
from backend.context import Services
from backend.seed import apply_seed
from backend.server import prepare


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
    token = client.post("/v1/operator/enrollment-tokens", headers=operator_headers(),
                        json={"kiosk_id": k.kiosk_id}).json()["token"]
    r = client.post("/v1/kiosks/enroll", json={"kiosk_id": k.kiosk_id, "public_key": k.public_key_b64,
                                               "token": token})
    assert r.status_code == 201, r.text
    return k


@pytest.fixture
def field_kiosk(client: TestClient, clock: MovableClock) -> SigningKiosk:
    """An enrolled field kiosk (its token carried role "field")."""
    k = SigningKiosk("field-kiosk-test-01", clock)
    token = client.post("/v1/operator/enrollment-tokens", headers=operator_headers(),
                        json={"kiosk_id": k.kiosk_id, "role": "field"}).json()["token"]
    r = client.post("/v1/kiosks/enroll", json={"kiosk_id": k.kiosk_id, "public_key": k.public_key_b64,
                                               "token": token})
    assert r.status_code == 201 and r.json()["role"] == "field", r.text
    return k
