"""The same code on SQLite (`kiosk-backend --embedded`), the CLI, and the migrations."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from backend_kit import OPERATOR_TOKEN, MovableClock, SigningKiosk, make_config, seed_data

from backend.config import ConfigError, load_backend_config
from backend.db import make_engine, metadata, migrate
from backend.embedded import EmbeddedBackend

ROOT = Path(__file__).resolve().parents[2]


def test_embedded_backend_in_process(tmp_path):
    backend = EmbeddedBackend(data_dir=tmp_path / "store")
    url = backend.start(port=0)
    try:
        k = SigningKiosk("demo-kiosk-0001", MovableClock.real())
        token = backend.enrollment_token(k.kiosk_id)
        r = httpx.post(url + "/v1/kiosks/enroll", json={"kiosk_id": k.kiosk_id, "public_key": k.public_key_b64,
                                                        "token": token})
        assert r.status_code == 201, r.text
        # the demo seed is loaded into the empty store
        s = k.call(httpx.Client(base_url=url), "GET", "/v1/persons/440106195203154324/summary")
        assert s.status_code == 200 and s.json()["name_masked"] == "张*明"
        batch = k.batch([k.record("pin_change", {"id_number": "440106195203154324"}),
                         k.record("certification", {"id_number": "440105194002283313", "result": "passed"})])
        first = httpx.post(url + "/v1/records:batch", json=batch).json()["results"]
        assert [x["outcome"] for x in first] == ["ok", "deceased"]
        replay = httpx.post(url + "/v1/records:batch", json=batch).json()["results"]
        assert [x["status"] for x in replay] == ["duplicate", "duplicate"]
        out = httpx.get(url + "/v1/dev/sms-outbox",
                        headers={"Authorization": f"Bearer {backend.operator_token}"}).json()["messages"]
        assert len(out) == 1 and out[0]["phone"] == "13800138000"
    finally:
        backend.stop()
    assert (tmp_path / "store" / "backend.sqlite3").is_file()
    assert oct((tmp_path / "store" / "operator_token").stat().st_mode & 0o777) == "0o600"
    assert oct((tmp_path / "store" / "review_x25519.pem").stat().st_mode & 0o777) == "0o600"


def _cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "backend.cli", *args], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=60)


def test_cli_migrate_seed_token_on_postgres(dsn, tmp_path):
    env = {"BACKEND__DATABASE__DSN": dsn, "BACKEND__AUTH__OPERATOR_TOKEN": OPERATOR_TOKEN,
           "BACKEND__KEYS__REVIEW_PRIVATE_KEY": str(tmp_path / "r.pem")}
    missing_key = _cli("migrate", env=env)
    assert missing_key.returncode == 1 and "keys generate" in missing_key.stderr
    assert _cli("keys", "generate", env=env).returncode == 0
    assert _cli("migrate", env=env).returncode == 0
    seed_file = tmp_path / "seed.json"
    seed_file.write_text(json.dumps(seed_data()), encoding="utf-8")
    seeded = _cli("seed", str(seed_file), env=env)
    assert seeded.returncode == 0 and "seeded 5 persons and 3 bank test accounts" in seeded.stdout
    token = _cli("token", "--kiosk-id", "k-1", env=env)
    assert token.returncode == 0 and len(token.stdout.strip()) > 20
    engine = make_engine(dsn)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM persons")).scalar() == 5
    engine.dispose()


def test_cli_without_database_says_what_to_do():
    env = {k: v for k, v in os.environ.items() if not k.startswith("BACKEND__")}
    r = subprocess.run([sys.executable, "-m", "backend.cli", "migrate"], cwd=ROOT, capture_output=True, text=True,
                       env=env, timeout=60)
    assert r.returncode == 2 and "BACKEND__DATABASE__DSN" in r.stderr and "Traceback" not in r.stderr


def test_config_refuses_unknown_keys_and_wrong_types(tmp_path):
    site = tmp_path / "site.toml"
    site.write_text("[sms]\nmax_atempts = 3\n", encoding="utf-8")
    try:
        load_backend_config(site, environ={})
        raise AssertionError("unknown key accepted")
    except ConfigError as exc:
        assert "sms.max_atempts" in str(exc) and "site.toml" in str(exc)
    try:
        load_backend_config(environ={"BACKEND__SMS__MAX_ATTEMPTS": "many"})
        raise AssertionError("wrong type accepted")
    except ConfigError as exc:
        assert "BACKEND__SMS__MAX_ATTEMPTS" in str(exc)
    assert load_backend_config(environ={"BACKEND__SMS__MAX_ATTEMPTS": "3"}).sms.max_attempts == 3


def test_migrations_match_the_tables_on_both_databases(dsn, tmp_path):
    for url in (dsn, f"sqlite:///{tmp_path / 'm.sqlite3'}"):
        engine = make_engine(url)
        migrate(engine)
        migrate(engine)                                   # idempotent
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), metadata)
        engine.dispose()
        assert diff == [], f"{url.split(':')[0]}: migrations and backend/db.py disagree: {diff}"



def test_backend_thread_on_postgres_goes_down_and_comes_back(dsn, tmp_path):
    from backend.server import serve_in_thread

    server, services = serve_in_thread(make_config(dsn, tmp_path))
    url = server.url
    try:
        assert httpx.get(url + "/v1/health").status_code == 200
        server.stop()
        try:
            httpx.get(url + "/v1/health", timeout=2)
            raise AssertionError("the stopped backend still answers")
        except httpx.ConnectError:
            pass
        assert server.start() == url                     # same port again
        assert httpx.get(url + "/v1/health").json()["status"] == "ok"
    finally:
        server.stop()
        services.engine.dispose()


def test_pg_fixture_reports_missing_server_binaries(tmp_path):
    from pgfixture import MISSING, find_pg_bin

    assert find_pg_bin([tmp_path]) is None
    assert "scripts/setup.sh" in MISSING
    assert find_pg_bin() is not None, MISSING
