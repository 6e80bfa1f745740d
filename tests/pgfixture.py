"""A real, throw-away PostgreSQL server for tests (shared by the backend and kiosk-sync areas).

Usage in an area's conftest.py::

    from pgfixture import pg_cluster          # noqa: F401  (registers the session fixture)

    @pytest.fixture
    def dsn(pg_cluster):
        return pg_cluster.create_database("mytest")   # a fresh empty database, its DSN

``pg_cluster`` is session-scoped and reference-counted: if several areas import it, one server
serves them all and stops after the last user. ``PgCluster`` can also be used directly (bench/).

The server runs from ``initdb`` in a temporary folder, on a free TCP port of 127.0.0.1 with its
unix socket in the same folder, trust authentication, and durability off (fsync=off) because
nothing here needs to survive the test run. PostgreSQL refuses to run as root: when the tests run
as root (CI), initdb and pg_ctl run as the ``postgres`` OS user, which owns the folder.
If the server binaries are missing the fixture FAILS and says to run scripts/setup.sh.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

PG_BIN_CANDIDATES = [Path(os.environ["KIOSK_PG_BIN"])] if os.environ.get("KIOSK_PG_BIN") else []
PG_BIN_CANDIDATES += [Path(f"/usr/lib/postgresql/{v}/bin") for v in (17, 16, 15, 14, 13)]
MISSING = ("PostgreSQL server binaries (initdb, pg_ctl) not found under /usr/lib/postgresql/*/bin: "
           "run `bash scripts/setup.sh` (installs the Debian postgresql package), or set KIOSK_PG_BIN")


def find_pg_bin(candidates: list[Path] | None = None) -> Path | None:
    for candidate in PG_BIN_CANDIDATES if candidates is None else candidates:
        if (candidate / "initdb").is_file() and (candidate / "pg_ctl").is_file():
            return candidate
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgCluster:
    """initdb + pg_ctl start in a temporary folder; ``stop()`` removes everything."""

    def __init__(self, durable: bool = False) -> None:
        self.bin = find_pg_bin()
        if self.bin is None:
            raise RuntimeError(MISSING)
        self.durable = durable
        self.as_root = os.geteuid() == 0
        self.dir = Path(tempfile.mkdtemp(prefix="kiosk-pg-"))
        self.data = self.dir / "data"
        self.port = 0
        self.user = "postgres"
        self._started = False

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = [str(self.bin / args[0]), *args[1:]]
        if self.as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(cmd, capture_output=True, text=True, check=check, timeout=120)

    def start(self) -> PgCluster:
        if self.as_root:
            try:
                pw = pwd.getpwnam("postgres")
            except KeyError:
                raise RuntimeError("running as root needs the `postgres` OS user: run `bash scripts/setup.sh`") \
                    from None
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        else:
            self.user = pwd.getpwuid(os.geteuid()).pw_name
        os.chmod(self.dir, 0o700)
        try:
            self._run("initdb", "-D", str(self.data), "-U", self.user, "-A", "trust", "-E", "UTF8",
                      "--locale=C.UTF-8", "--no-sync")
        except subprocess.CalledProcessError as exc:
            raise RuntimeError(f"initdb failed: {exc.stderr.strip()[-800:]}") from None
        options = ["-c listen_addresses=127.0.0.1", f"-c unix_socket_directories={self.dir}",
                   "-c max_connections=200", "-c shared_buffers=64MB"]
        if not self.durable:
            options += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        last_error = ""
        for _attempt in range(5):       # a free port can be taken between probing and binding
            self.port = _free_port()
            result = self._run("pg_ctl", "-D", str(self.data), "-l", str(self.dir / "server.log"), "-w",
                               "-t", "60", "-o", " ".join([f"-p {self.port}", *options]), "start", check=False)
            if result.returncode == 0:
                self._started = True
                return self
            last_error = (self.dir / "server.log").read_text(errors="replace")[-800:] \
                if (self.dir / "server.log").exists() else result.stderr
        self.stop()
        raise RuntimeError(f"PostgreSQL did not start: {last_error.strip()}")

    def dsn(self, dbname: str = "postgres") -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{dbname}"

    def create_database(self, prefix: str = "test") -> str:
        """A new empty database; returns its DSN (``postgresql://...``, psycopg and SQLAlchemy read it)."""
        import psycopg

        name = f"{prefix}_{uuid.uuid4().hex[:10]}".lower()
        with psycopg.connect(self.dsn(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.dsn(name)

    def stop(self) -> None:
        if self._started:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop", check=False)
            self._started = False
        shutil.rmtree(self.dir, ignore_errors=True)


_lock = threading.Lock()
_shared: PgCluster | None = None
_users = 0


def acquire_shared() -> PgCluster:
    global _shared, _users
    with _lock:
        if _shared is None:
            _shared = PgCluster().start()
        _users += 1
        return _shared


def release_shared() -> None:
    global _shared, _users
    with _lock:
        _users -= 1
        if _users == 0 and _shared is not None:
            _shared.stop()
            _shared = None


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    try:
        cluster = acquire_shared()
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)
    yield cluster
    release_shared()
