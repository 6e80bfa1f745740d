"""Console test kit (a module name unique in the suite): the real backend on the real PostgreSQL
in a thread of the test process (so a test can create staff and move the backend's clock), a
plain HTTP client that signs in like a browser, and the staff accounts the tests use."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pyotp
import pytest
from pgfixture import PgCluster, pg_cluster  # noqa: F401  (the shared session fixture)

from backend.config import BackendConfig, load_backend_config
from backend.context import Services
from backend.server import ServerThread, serve_in_thread

OPERATOR_TOKEN = "console-tests-operator-token"
PASSWORD = "correct horse battery staple"
STAFF = {   # user -> (role, TOTP secret)
    "rita": ("reviewer", "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXQ"),
    "felix": ("fleet_operator", "KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLQ"),
    "aude": ("auditor", "MFRGGZDFMZTWQ2LKMFRGGZDFMZTWQ2LQ"),
    "ada": ("administrator", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"),
}


class MovableClock:
    """The backend's clock, moved by the test (time is an input: idle sign-out, lockout, alerts)."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)


def console_config(dsn: str, tmp: Path) -> BackendConfig:
    base = load_backend_config(environ={})
    return dataclasses.replace(
        base,
        database=dataclasses.replace(base.database, dsn=dsn),
        auth=dataclasses.replace(base.auth, operator_token=OPERATOR_TOKEN),
        keys=dataclasses.replace(base.keys, review_private_key=str(tmp / "review_x25519.pem")),
        dev=dataclasses.replace(base.dev, endpoints=True),
        console=dataclasses.replace(base.console, cookie_secure=False),   # plain http on 127.0.0.1
    )


@dataclasses.dataclass
class Backend:
    server: ServerThread
    services: Services
    clock: MovableClock

    @property
    def url(self) -> str:
        return self.server.url


@pytest.fixture(scope="module")
def console_backend(pg_cluster: PgCluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:  # noqa: F811
    from backend.console.accounts import create_user

    clock = MovableClock()
    config = console_config(pg_cluster.create_database("console"), tmp_path_factory.mktemp("backend"))
    server, services = serve_in_thread(config, clock=clock)
    for user, (role, secret) in STAFF.items():
        create_user(services, user, user.title(), role, PASSWORD, totp_secret=secret)
    yield Backend(server, services, clock)
    server.stop()
    services.engine.dispose()


def code_for(user: str, backend: Backend, step: int = 0) -> str:
    """The user's TOTP code at the backend's (moved) clock, ``step`` windows later."""
    return pyotp.TOTP(STAFF[user][1]).at(backend.clock() + timedelta(seconds=30 * step))


_HIDDEN_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    match = _HIDDEN_CSRF.search(html)
    assert match, "no CSRF field on the page"
    return match.group(1)


class ConsoleClient:
    """httpx with a cookie jar, the way a browser talks to the console (no redirects followed)."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.http = httpx.Client(base_url=backend.url, timeout=10, follow_redirects=False)

    def sign_in(self, user: str, password: str = PASSWORD, code: str | None = None, step: int = 0) -> httpx.Response:
        page = self.http.get("/console/login")
        return self.http.post("/console/login", data={
            "csrf": csrf_of(page.text), "username": user, "password": password,
            "code": code if code is not None else code_for(user, self.backend, step)})

    def close(self) -> None:
        self.http.close()
