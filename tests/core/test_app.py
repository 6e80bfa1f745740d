"""The composition root builds the demo kiosk from its profile: every part up, no problems."""

from __future__ import annotations

import threading
from pathlib import Path

from drivers.api import DeviceEvent, DeviceStatus
from kiosk.app import build_kiosk
from kiosk.config import load_config


def test_demo_profile_builds_every_part(tmp_path: Path) -> None:
    config = load_config("demo", environ={"KIOSK__KIOSK__DATA_DIR": str(tmp_path),
                                          "KIOSK__BACKEND__URL": "http://127.0.0.1:0"})
    services = build_kiosk(config)
    try:
        assert services.problems == []
        assert services.pinpad.status is DeviceStatus.ONLINE
        assert services.sync is not None and services.embedded_backend is not None
        assert services.face is not None
        inserted = threading.Event()

        def on_event(event: DeviceEvent) -> None:
            if type(event).__name__ == "CardInserted":
                inserted.set()

        services.card.subscribe(on_event)
        services.virtual_cards.insert_card()
        assert inserted.wait(5), "inserting the demo's virtual card raised no CardInserted event"
        info = services.card.read_card().wait(10)
        assert info.ok and len(info.result.holder.ssn) == 18
    finally:
        services.close()
    assert (tmp_path / "kiosk.sqlite3").exists()
