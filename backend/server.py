"""Build a ready replica: configuration -> services -> migrated database -> ASGI app."""

from __future__ import annotations

import os
from pathlib import Path

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
    site = os.environ.get(SITE_CONFIG_ENV)
    config = load_backend_config(Path(site) if site else None)
    return create_app(prepare(config))
