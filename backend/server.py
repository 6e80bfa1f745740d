"""Build a ready replica: configuration -> services -> migrated database -> ASGI app."""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from backend.app import create_app
from backend.clock import Clock, system_clock
from backend.config import BackendConfig, load_backend_config
from backend.context import Services, build_services
from backend.db import migrate

SITE_CONFIG_ENV = "KIOSK_BACKEND_CONFIG"   # lets uvicorn worker processes find the site file


def prepare(config: BackendConfig, clock: Clock = system_clock, create_review_key: bool = False) -> Services:
    services = build_services(config, clock=clock, create_review_key=create_review_key)
    if config.database.migrate_on_start:
        migrate(services.engine)
    return services


def create_from_environment() -> FastAPI:
    """uvicorn factory (``backend.server:create_from_environment``) for multi-worker runs."""
    from kiosk.logs import setup_logging

    setup_logging(None, level="INFO", console=True)    # each worker process sets up its own
    site = os.environ.get(SITE_CONFIG_ENV)
    config = load_backend_config(Path(site) if site else None)
    return create_app(prepare(config))


class ServerThread:
    """Serve an ASGI app with uvicorn on a background thread of this process.

    ``start()`` may be called again after ``stop()`` (same port by default), which is how a test
    takes the backend down and brings it back while a kiosk keeps syncing.
    """

    def __init__(self, app: FastAPI, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self.host = host
        self.port = port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout_s: float = 10.0) -> str:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(self.app, log_config=None, access_log=False, lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]},
                                        name=f"backend-{self.port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the backend did not start on {self.url} within {timeout_s} s")
            time.sleep(0.02)
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = self._thread = None


def serve_in_thread(config: BackendConfig, port: int = 0, clock: Clock = system_clock,
                    create_review_key: bool = True) -> tuple[ServerThread, Services]:
    """The production backend (PostgreSQL from ``config.database.dsn``) on a thread: for tests
    and benchmarks of the kiosk side. Returns the started server and its services."""
    services = prepare(config, clock=clock, create_review_key=create_review_key)
    server = ServerThread(create_app(services), port=port)
    server.start()
    return server, services
