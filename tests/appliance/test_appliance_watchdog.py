"""The systemd watchdog, without systemd: the kiosk's real watchdog client (sdnotify) talks to a
notification socket like the service manager's, and the test plays systemd's part (WatchdogSec
elapsed without WATCHDOG=1 -> SIGABRT, then start again). What this does not prove is systemd's
own reaction to the unit (that needs a booted systemd): docs/deploy.md lists it for the site check.
"""

from __future__ import annotations

import itertools
import json
import os
import resource
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

from appliance_helpers import ROOT, NotifyListener, wait_until

from drivers.api import DeviceWorker
from kiosk.appliance.state import read_state
from kiosk.appliance.watchdog import WatchdogClient
from kiosk.session import SessionCore


def _gaps(pings: list[float]) -> list[float]:
    return [b - a for a, b in itertools.pairwise(pings)]


def test_frozen_event_loop_stops_the_pings(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import QTimer

    from ui.appliance import ApplianceLink

    listener = NotifyListener(tmp_path / "notify")
    environ = {"NOTIFY_SOCKET": str(listener.path), "WATCHDOG_USEC": "200000"}       # WatchdogSec=0.2
    link = ApplianceLink(SessionCore(60, 15), client=WatchdogClient(environ=environ),
                         state_file=tmp_path / "state.json", environ=environ)
    try:
        link.start()
        qtbot.wait(600)
        assert link.timer.interval() == 100                      # half of WatchdogSec
        before = len(listener.pings())
        assert before >= 3 and listener.messages[0][1].startswith("READY=1")
        QTimer.singleShot(0, lambda: time.sleep(1.0))            # the UI thread hangs for 1 s
        qtbot.wait(1400)
        gaps = _gaps(listener.pings())
        assert max(gaps) > 0.9, gaps                             # > WatchdogSec: systemd would restart
        assert len(listener.pings()) > before + 2                # and pings resume once it runs again
        state = read_state(tmp_path / "state.json")
        assert state is not None and state.home_ready and state.idle and state.pid == os.getpid()
        link.stop()
        listener.wait_for("STOPPING=1", 2)
    finally:
        link.stop()
        listener.close()


def test_stuck_device_worker_withholds_the_ping(tmp_path: Path) -> None:
    listener = NotifyListener(tmp_path / "notify")
    worker = DeviceWorker("pinpad", idle_interval=0.05)
    release = threading.Event()
    worker.start()
    client = WatchdogClient(environ={"NOTIFY_SOCKET": str(listener.path), "WATCHDOG_USEC": "2000000"},
                            stuck_after_s=0.5)
    try:
        assert client.tick()                                     # healthy worker: ping
        # A command body stuck in blocking I/O that ignores its deadline (0.2 s).
        worker.submit("read", lambda ctx: release.wait(30), timeout=0.2)
        time.sleep(1.0)
        assert not client.tick()                                 # overdue 0.8 s > 0.5 s: no ping
        assert worker.overdue_s() > 0.5
        release.set()
        wait_until(lambda: worker.overdue_s() == 0.0, 5, "worker back round its loop")
        assert client.tick()
        # The datagrams reach the listener's thread a moment after they are sent.
        wait_until(lambda: len(listener.messages) >= 3, 5, "the last ping arrives")
    finally:
        release.set()
        worker.stop()
        listener.close()
    texts = [m for _t, m in listener.messages]
    assert texts == ["WATCHDOG=1", "STATUS=device worker stuck: pinpad", "WATCHDOG=1"]


def test_missed_watchdog_restart_is_recorded_as_a_visit_end(tmp_path: Path) -> None:
    """The real demo kiosk freezes mid-visit; the 'service manager' aborts it when WatchdogSec passes
    without a ping and starts it again; the new process closes the visit (wiped: the process that
    held it is gone) and records it as a crash_restart visit end in its outbox."""
    listener = NotifyListener(tmp_path / "notify")
    data = tmp_path / "data"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "KIOSK__KIOSK__DATA_DIR": str(data),
           "KIOSK__UI__VOICE_ENGINE": "none", "NOTIFY_SOCKET": str(listener.path),
           "WATCHDOG_USEC": "2000000", "FREEZE_FILE": str(tmp_path / "freeze")}

    def no_core() -> None:
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    def start(args: list[str]) -> subprocess.Popen[bytes]:
        return subprocess.Popen([sys.executable, *args], cwd=ROOT, env=env, preexec_fn=no_core,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    first = start([str(Path(__file__).with_name("freezing_kiosk.py"))])
    second = None
    try:
        listener.wait_for("READY=1", 90)
        wait_until(lambda: len(listener.pings()) >= 2, 10, "watchdog pings")
        (tmp_path / "freeze").touch()
        marker = data / "visit-in-progress"
        wait_until(marker.exists, 10, "the visit starts")
        visit_id = marker.read_text()
        # systemd's part: WatchdogSec (2 s) without WATCHDOG=1 -> WatchdogSignal (SIGABRT).
        wait_until(lambda: time.monotonic() - listener.pings()[-1] > 2.0, 10, "pings stop")
        first.send_signal(signal.SIGABRT)
        assert first.wait(10) == -signal.SIGABRT
        pings_before = len(listener.pings())
        second = start(["-m", "kiosk.cli", "run"])             # Restart=on-failure
        wait_until(lambda: len(listener.pings()) > pings_before, 90, "the restarted kiosk pings")
        # READY=1 comes once its parts are attached, the crashed visit closed and recorded.
        wait_until(lambda: sum(m[1].startswith("READY=1") for m in listener.messages) >= 2, 90,
                   "the restarted kiosk is ready")
        assert not marker.exists()
        second.send_signal(signal.SIGTERM)
        assert second.wait(20) == 0
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()
        listener.close()
    assert sum("READY=1" in m for _t, m in listener.messages) == 2
    stores = [p for p in data.rglob("*.sqlite3") if "backend" not in p.parts]
    rows = []
    for store in stores:
        with sqlite3.connect(store) as conn:
            if conn.execute("SELECT name FROM sqlite_master WHERE name='outbox'").fetchone():
                rows += conn.execute("SELECT type, envelope FROM outbox WHERE type='visit_crash'").fetchall()
    assert [json.loads(envelope)["payload"]["visit_id"] for _t, envelope in rows] == [visit_id]
