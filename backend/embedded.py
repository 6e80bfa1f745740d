"""The backend on a local SQLite store, for the demo profile: no server, no PostgreSQL.

The kiosk's composition root starts it in-process::

    from backend.embedded import EmbeddedBackend
    backend = EmbeddedBackend(data_dir=Path("var/demo/backend"))
    url = backend.start(port=8765)          # port=0 picks a free port; returns "http://127.0.0.1:PORT"
    token = backend.enrollment_token("demo-kiosk-0001")   # for `kiosk enroll` in the demo
    ...
    backend.stop()

or as a process: ``kiosk-backend --embedded [--port 8765] [--data-dir var/demo/backend]``.
Both run the same code as production (SQLAlchemy Core, same migrations), only on SQLite.
"""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
import sys
from pathlib import Path

import sqlalchemy as sa

from backend.app import create_app
from backend.auth import issue_enrollment_token
from backend.config import BackendConfig, load_backend_config, resolve
from backend.context import Services, build_services
from backend.db import make_engine, migrate, persons
from backend.seed import apply_seed
from backend.server import ServerThread

TOKEN_ENV = "BACKEND__AUTH__OPERATOR_TOKEN"  # noqa: S105  (a variable name, not a secret)


def _operator_token(data_dir: Path) -> str:
    """The environment's token, else one kept in data_dir/operator_token (0600) for the demo."""
    if os.environ.get(TOKEN_ENV):
        return os.environ[TOKEN_ENV]
    path = data_dir / "operator_token"
    if path.is_file():
        return path.read_text(encoding="utf-8").strip()
    token = secrets.token_urlsafe(24)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(token + "\n")
    return token


def embedded_config(base: BackendConfig | None = None, data_dir: Path | None = None) -> BackendConfig:
    base = base or load_backend_config()
    data_dir = data_dir or resolve(base.embedded.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    return dataclasses.replace(
        base,
        database=dataclasses.replace(base.database, dsn=f"sqlite:///{data_dir / 'backend.sqlite3'}",
                                     migrate_on_start=True),
        auth=dataclasses.replace(base.auth, operator_token=base.auth.operator_token or _operator_token(data_dir)),
        keys=dataclasses.replace(base.keys, review_private_key=str(data_dir / "review_x25519.pem")),
        dev=dataclasses.replace(base.dev, endpoints=True),
        console=dataclasses.replace(base.console, cookie_secure=False),   # plain http on 127.0.0.1
    )


def prepare_embedded(config: BackendConfig) -> Services:
    services = build_services(config, engine=make_engine(config.database.dsn), create_review_key=True)
    migrate(services.engine)
    seed_file = resolve(config.embedded.seed_file) if config.embedded.seed_file else None
    with services.engine.connect() as conn:
        empty = conn.execute(sa.select(sa.func.count()).select_from(persons)).scalar() == 0
    if empty and seed_file is not None and seed_file.is_file():
        apply_seed(services.engine, json.loads(seed_file.read_text(encoding="utf-8")))
    from backend.console.demo import ensure_demo_accounts

    ensure_demo_accounts(services)      # the console's demo staff (printed at start)
    return services


class EmbeddedBackend:
    """The backend in a background thread of the calling process (uvicorn on 127.0.0.1)."""

    def __init__(self, data_dir: Path | None = None, config: BackendConfig | None = None) -> None:
        self.config = embedded_config(config, data_dir)
        self.services = prepare_embedded(self.config)
        self.operator_token = self.config.auth.operator_token
        self._server: ServerThread | None = None
        self.url = ""

    def start(self, host: str = "127.0.0.1", port: int = 0, timeout_s: float = 10.0) -> str:
        self._server = ServerThread(create_app(self.services), host=host, port=port)
        self.url = self._server.start(timeout_s)
        from backend.console.demo import banner

        print(banner(self.url), file=sys.stderr, flush=True)
        return self.url

    def enrollment_token(self, kiosk_id: str, role: str = "office", rekey: bool = False) -> str:
        return issue_enrollment_token(self.services, kiosk_id, role, rekey)["token"]

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
        self.services.engine.dispose()

    def __enter__(self) -> EmbeddedBackend:
        if not self.url:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
