"""Helpers shared by the sync tests (a module name unique in the suite: tests are not packages)."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from kiosk.backend_client import BackendClient, Enrolled
from kiosk.config.schema import BackendSection, KioskConfig, KioskSection, StoreSection
from kiosk.signing import Signer, create_key

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def make_config(data_dir: Path, *, url: str = "http://127.0.0.1:9", kiosk_id: str = "test-kiosk-0001",
                **backend: object) -> KioskConfig:
    return KioskConfig(
        kiosk=KioskSection(id=kiosk_id, data_dir=str(data_dir)),
        backend=dataclasses.replace(BackendSection(url=url, embedded=False, timeout_s=2.0, sync_timeout_s=10.0,
                                                   backoff_initial_s=0.05, backoff_max_s=0.5,
                                                   idle_poll_s=0.2), **backend),
        store=StoreSection())


def site_file(tmp_path: Path, config: KioskConfig, backend: BackendProcess) -> Path:
    """A site file for the kiosk CLI naming this kiosk, its data folder and the backend."""
    site = tmp_path / "site.toml"
    site.write_text(f'[kiosk]\nid = "{config.kiosk.id}"\ndata_dir = "{config.kiosk.data_dir}"\n\n'
                    f'[backend]\nurl = "{backend.url}"\nembedded = false\n', encoding="utf-8")
    return site


class BackendProcess:
    """The backend engineer's real service as its own process (`kiosk-backend serve`) on a fixed
    port, so a test can stop it ("backend down") and start it again on the same address.

    ``dsn`` is PostgreSQL (tests/backend's fixture) or ``None`` for the embedded SQLite store.
    """

    def __init__(self, dsn: str | None, data_dir: Path) -> None:
        import secrets
        import socket

        self.dsn = dsn
        self.data_dir = data_dir
        self.operator_token = secrets.token_urlsafe(16)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = data_dir / "backend.log"
        self._engine = None

    def start(self, timeout_s: float = 30.0) -> None:
        env = dict(os.environ, BACKEND__AUTH__OPERATOR_TOKEN=self.operator_token,
                   BACKEND__KEYS__REVIEW_PRIVATE_KEY=str(self.data_dir / "review_x25519.pem"),
                   BACKEND__DEV__ENDPOINTS="true", BACKEND__SMS__CODE_PEPPER="sync-tests")
        cli = [sys.executable, "-m", "backend.cli"]
        if self.dsn is None:
            where = ["--embedded", "--data-dir", str(self.data_dir / "embedded")]
        else:
            env["BACKEND__DATABASE__DSN"] = self.dsn
            where = []
            keys = subprocess.run([*cli, "keys", "generate"], env=env, cwd=PROJECT_ROOT, capture_output=True,
                                  timeout=60)
            assert keys.returncode == 0, keys.stderr.decode()
        args = [*cli, "serve", *where, "--host", "127.0.0.1", "--port", str(self.port)]
        self.proc = subprocess.Popen(args, env=env, cwd=PROJECT_ROOT, stdout=self.log.open("ab"),
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"the backend exited at start: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/v1/health", timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"the backend did not answer within {timeout_s} s: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None

    def kill(self) -> None:
        """SIGKILL: the backend dies mid-request, its open transactions roll back."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(10)
        self.proc = None

    def enrollment_token(self, kiosk_id: str, role: str | None = None, rekey: bool = False) -> str:
        # Field kiosks in these tests are named field-*; the token carries the role (least privilege).
        role = role or ("field" if kiosk_id.startswith("field") else "office")
        r = httpx.post(f"{self.url}/v1/operator/enrollment-tokens",
                       json={"kiosk_id": kiosk_id, "role": role, "rekey": rekey},
                       headers={"Authorization": f"Bearer {self.operator_token}"}, timeout=10)
        assert r.status_code == 201, r.text
        return str(r.json()["token"])

    def engine(self):  # type: ignore[no-untyped-def]
        from backend.db import make_engine

        if self._engine is None:
            dsn = self.dsn or f"sqlite:///{self.data_dir / 'embedded' / 'backend.sqlite3'}"
            self._engine = make_engine(dsn, 2) if self.dsn else make_engine(dsn)
        return self._engine

    def stored(self, kiosk_id: str) -> list[tuple[str, int, str, str]]:
        """(id, seq, type, outcome) of every record the backend's database holds for a kiosk, by seq."""
        import sqlalchemy as sa

        from backend.db import records

        with self.engine().connect() as conn:
            rows = conn.execute(sa.select(records.c.id, records.c.seq, records.c.type, records.c.outcome)
                                .where(records.c.kiosk_id == kiosk_id).order_by(records.c.seq)).all()
        return [tuple(r) for r in rows]

    def count_by_id(self, kiosk_id: str) -> dict[str, int]:
        import sqlalchemy as sa

        from backend.db import records

        with self.engine().connect() as conn:
            rows = conn.execute(sa.select(records.c.id, sa.func.count()).where(records.c.kiosk_id == kiosk_id)
                                .group_by(records.c.id)).all()
        return {r[0]: int(r[1]) for r in rows}

    def close(self) -> None:
        self.stop()
        if self._engine is not None:
            self._engine.dispose()


def enrolled_kiosk(backend: BackendProcess, data_dir: Path, kiosk_id: str) -> tuple[Signer, BackendClient]:
    signer = create_key(data_dir / "kiosk.key")
    client = BackendClient(backend.url, kiosk_id, signer, timeout_s=5.0, sync_timeout_s=20.0)
    answer = client.enroll(signer.public_key_b64, backend.enrollment_token(kiosk_id))
    assert isinstance(answer, Enrolled), answer
    return signer, client


def inject_signed(store, signer: Signer, kiosk_id: str, type_: str, payload: dict, *,  # type: ignore[no-untyped-def]
                  operator_id: str | None = None, seq: int | None = None, created_at: str | None = None) -> str:
    """A record the genuine kiosk signed but the kiosk's own checks would now refuse (as an older
    kiosk version, or a bug, would have queued it): written straight into the outbox, in order."""
    import json
    import time as _time

    from kiosk.outbox import _seq_next, build_envelope, rfc3339
    from kiosk.store.ids import uuid7_str

    record_id = uuid7_str()
    with store.transaction() as tx:
        conn = tx.conn
        seq = _seq_next(conn, kiosk_id) if seq is None else seq
        stamp = created_at or rfc3339(_time.time())
        envelope = build_envelope(record_id=record_id, kiosk_id=kiosk_id, seq=seq, created_at=stamp,
                                  type=type_, operator_id=operator_id, payload=payload, signer=signer)
        text = json.dumps(envelope, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        conn.execute("INSERT INTO outbox (id, kiosk_id, seq, type, operator_id, created_at, created_ts, envelope) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                     (record_id, kiosk_id, seq, type_, operator_id, stamp, _time.time(), text))
    return record_id
