"""Fixtures for the kiosk's store, outbox and sync tests.

Unit tests use a store in a temporary folder. The sync, exactly-once and fault tests run the
backend engineer's real service on a real PostgreSQL (tests/backend's fixture); nothing here
stands in for the backend.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from pgfixture import PgCluster, pg_cluster  # noqa: F401  (the shared session fixture)

from kiosk.signing import ReviewKey, Signer, create_key
from kiosk.store import Store


@pytest.fixture
def signer(tmp_path: Path) -> Signer:
    return create_key(tmp_path / "keys" / "kiosk.key")


@pytest.fixture
def review_private() -> X25519PrivateKey:
    return X25519PrivateKey.generate()


@pytest.fixture
def review_key(review_private: X25519PrivateKey) -> ReviewKey:
    from cryptography.hazmat.primitives import serialization

    return ReviewKey(review_private.public_key().public_bytes(serialization.Encoding.Raw,
                                                              serialization.PublicFormat.Raw))


@pytest.fixture
def store(tmp_path: Path, signer: Signer, review_key: ReviewKey) -> Store:
    s = Store(tmp_path / "kiosk.sqlite3", kiosk_id="test-kiosk-0001", signer=signer, pinned_review_key=review_key)
    yield s
    s.close()


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory, backend_dsn: str | None):  # type: ignore[no-untyped-def]
    """The real backend service in its own process, one per test module."""
    from synchelpers import BackendProcess

    proc = BackendProcess(backend_dsn, tmp_path_factory.mktemp("backend"))
    proc.start()
    yield proc
    proc.close()


@pytest.fixture(scope="module")
def backend_dsn(pg_cluster: PgCluster) -> str:  # noqa: F811
    """A fresh database on the real PostgreSQL server (tests/pgfixture.py) for each test module."""
    return pg_cluster.create_database("sync")
