"""The appliance's link to the Qt event loop: systemd watchdog pings and the run-state file.

One QTimer on the UI thread: each turn pings the watchdog (unless a device worker is stuck, see
kiosk/appliance/watchdog.py) and publishes the run state (release, idle, devices) for the updater.
Because the timer runs on the event loop, a frozen UI thread stops both: systemd restarts the
kiosk, and the updater sees a stale state. READY=1 goes out on the loop's first turn, i.e. once
the kiosk screen is really up.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer

from kiosk.appliance.release import running_release
from kiosk.appliance.state import RunState, state_path, write_state
from kiosk.appliance.watchdog import WatchdogClient
from kiosk.session import SessionCore

log = logging.getLogger(__name__)

STATE_INTERVAL_S = 2.0          # the state file is fresh to within this, whatever WatchdogSec says


class ApplianceLink(QObject):
    def __init__(self, core: SessionCore, services: Any = None, *, client: WatchdogClient | None = None,
                 state_file: Path | None = None, environ: Mapping[str, str] = os.environ,
                 wait_for_services: bool = False, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.core = core
        self.services = services
        self.wait_for_services = wait_for_services    # the parts start behind the screen: READY on attach()
        self.client = client or WatchdogClient(environ=environ)
        self.state_file = state_file if state_file is not None else state_path(environ)
        self.release = running_release()
        self.home_ready = False
        interval = min(self.client.interval_s or STATE_INTERVAL_S, STATE_INTERVAL_S)
        self.timer = QTimer(self)
        self.timer.setInterval(max(50, int(interval * 1000)))
        self.timer.timeout.connect(self.tick)

    def start(self) -> None:
        QTimer.singleShot(0, self._first_turn)
        self.timer.start()

    def _first_turn(self) -> None:
        if not self.wait_for_services:      # built before the loop: ready on its first turn
            self.attach(self.services)
        else:                               # built behind the attract screen: ready once attached
            self.tick()

    def attach(self, services: Any) -> None:
        """The kiosk's parts are wired to the screen: only now is the kiosk "on its home screen"
        for systemd (READY=1) and for the updater's health check (devices, crash recovery done)."""
        self.services = services
        self.home_ready = True
        self.client.ready(f"kiosk {self.release['version']} on its home screen")
        self.tick()

    def tick(self) -> None:
        self.client.tick()
        if self.state_file is not None:
            try:
                write_state(self.state_file, self.snapshot())
            except OSError as exc:
                log.warning("run state not written", extra={"path": str(self.state_file), "error": str(exc)})

    def snapshot(self) -> RunState:
        devices = getattr(self.services, "devices", None) or {}
        return RunState(pid=os.getpid(), release=self.release, idle=self.core.is_idle,
                        idle_since=self.core.idle_since if self.core.is_idle else None, home_ready=self.home_ready,
                        devices={name: str(getattr(getattr(dev, "status", None), "value", "unknown"))
                                 for name, dev in devices.items()},
                        problems=list(getattr(self.services, "problems", None) or []))

    def stop(self) -> None:
        self.timer.stop()
        self.client.stopping()
