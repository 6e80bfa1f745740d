"""Helpers shared by the sync tests (a module name unique in the suite: tests are not packages)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from kiosk.config.schema import BackendSection, KioskConfig, KioskSection, StoreSection


def make_config(data_dir: Path, *, url: str = "http://127.0.0.1:9", kiosk_id: str = "test-kiosk-0001",
                **backend: object) -> KioskConfig:
    return KioskConfig(
        kiosk=KioskSection(id=kiosk_id, data_dir=str(data_dir)),
        backend=dataclasses.replace(BackendSection(url=url, embedded=False, timeout_s=2.0, sync_timeout_s=10.0,
                                                   backoff_initial_s=0.05, backoff_max_s=0.5,
                                                   idle_poll_s=0.2), **backend),
        store=StoreSection())
