"""The real entry point, in its own process: `kiosk` -> ui.main.run -> an event loop -> exit code.

In a subprocess because run() owns the event loop and QApplication.exit() (how it ends) would
leave the test process's shared QApplication unusable for the other tests.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_kiosk_starts_fullscreen_and_stops_cleanly_on_sigterm(tmp_path):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "KIOSK__KIOSK__DATA_DIR": str(tmp_path),
           "KIOSK__UI__VOICE_ENGINE": "none"}
    proc = subprocess.Popen([sys.executable, "-m", "kiosk.cli"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    log_file = tmp_path / "logs" / "kiosk.jsonl"
    try:
        deadline = time.monotonic() + 60
        while not (log_file.exists() and "kiosk screen ready" in log_file.read_text(encoding="utf-8")):
            assert proc.poll() is None, f"kiosk exited early: {proc.communicate()[1][-2000:]}"
            assert time.monotonic() < deadline, "kiosk did not report ready within 60 s"
            time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    lines = [json.loads(line) for line in log_file.read_text(encoding="utf-8").splitlines()]
    ready = next(entry for entry in lines if entry["msg"] == "kiosk screen ready")
    assert ready["fullscreen"] is True and ready["voice"] == "none" and ready["startup_ms"] > 0
    # `kiosk` on the demo profile builds the whole kiosk (kiosk.app.build_kiosk): every part started.
    assert [e.get("problem") for e in lines if e["msg"] == "kiosk part not available"] == []
    assert any(e["msg"] == "demo kiosk enrolled at the embedded backend" for e in lines)
    closed = next(entry for entry in lines if entry["msg"] == "kiosk screen closed")
    assert closed["exit_code"] == 0
