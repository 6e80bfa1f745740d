#!/usr/bin/env python3
"""Key-to-echo on the kiosk screen: from a key pressed on the (simulated) PIN pad to the dot drawn
by the PIN entry on the UI thread, through the real pad driver (pty wire), the flow thread's
presenter relay and Qt's queued call. Also prints the demo kiosk's build time.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/ui_key_echo.py [--keys 60]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=60)
    args = parser.parse_args()
    from PySide6.QtWidgets import QApplication

    from drivers.smartcard.virtual.card import CardConfig
    from kiosk.app import build_kiosk
    from kiosk.config import load_config
    from ui.flows import flow_factories
    from ui.main import bridge_for_devices, create_shell

    app = QApplication([sys.argv[0]])
    tmp = Path(tempfile.mkdtemp(prefix="kiosk-bench-"))
    tables = {"kiosk": {"data_dir": str(tmp / "data")}, "backend": {"url": "http://127.0.0.1:0"},
              "pinpad": {"pin_timeout_s": 120}}
    (tmp / "site.toml").write_text("".join(f"[{n}]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in t.items())
                                           for n, t in tables.items()))
    config = load_config("demo", site_file=tmp / "site.toml", environ={})
    config = dataclasses.replace(config, ui=dataclasses.replace(config.ui, voice_engine="none"))
    started = time.perf_counter()
    services = build_kiosk(config)
    print(f"build_kiosk (demo profile): {(time.perf_counter() - started) * 1000:.0f} ms; problems: {services.problems}")
    try:
        window = create_shell(config, services.session, bridge=bridge_for_devices(services.devices),
                              flows=flow_factories(services))
        window.show_kiosk(fullscreen=False, hide_cursor=False, width=1920, height=1080)
        pad = services.pinpad_simulator

        def until(predicate, timeout: float = 20.0) -> None:
            end = time.monotonic() + timeout
            while not predicate():
                if time.monotonic() > end:
                    raise SystemExit("bench: the kiosk did not get there")
                app.processEvents()

        services.virtual_cards.insert_card(CardConfig(pin="147258"))
        until(lambda: window.current_page == "home")
        window.home.service_buttons["card_status"].click()
        samples: list[float] = []
        while len(samples) < args.keys:
            until(lambda: pad.entry_mode == "pin" and getattr(window.step.body, "pin", None) is not None)
            widget = window.step.body.pin
            for _ in range(5):              # five digits, then clear: the entry stays open
                before = widget.count
                t0 = time.perf_counter()
                pad.press("1")
                until(lambda b=before, w=widget: w.count == b + 1)
                samples.append((widget.last_echo_at - t0) * 1000)
            pad.press("clear")
            until(lambda w=widget: w.count == 0)
        samples.sort()
        print(f"key-to-echo over {len(samples)} keys: median {statistics.median(samples):.1f} ms, "
              f"p95 {samples[int(len(samples) * 0.95) - 1]:.1f} ms, max {samples[-1]:.1f} ms")
        services.session.end_visit(__import__("kiosk.session", fromlist=["EndReason"]).EndReason.FINISHED)
        window.shutdown()
    finally:
        services.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
