"""The README's one command for the field profile on a PC (scripts/field_demo.py) starts the kiosk
with the documented demo operator, and stops cleanly on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_field_demo_starts_with_one_command_and_its_demo_operator(tmp_path: Path) -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", KIOSK__KIOSK__DATA_DIR=str(tmp_path))
    proc = subprocess.Popen([sys.executable, str(ROOT / "scripts" / "field_demo.py"), "--windowed"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT)
    log = tmp_path / "logs" / "kiosk.jsonl"
    try:
        deadline = time.monotonic() + 90
        ready = False
        while time.monotonic() < deadline and proc.poll() is None:
            if log.is_file() and "kiosk screen ready" in log.read_text(encoding="utf-8"):
                ready = True
                break
            time.sleep(0.2)
        assert ready, f"the field demo never showed its screen (exit {proc.poll()})"
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, output[-3000:]
    assert "sign in as 'demo-op' with password 'field-demo-2026'" in output
    lines = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert not [line for line in lines if line.get("msg") == "kiosk part not available"], lines
