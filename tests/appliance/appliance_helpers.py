"""Helpers for the appliance tests: a notification-socket listener (what systemd's side of
sd_notify sees), a tiny process supervisor standing in for `systemctl restart`, and the source
tree of a small stand-in kiosk used inside test release bundles.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from waiting import wait_until as wait_until  # re-exported: the appliance tests import it from here

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class NotifyListener:
    """An AF_UNIX datagram socket like systemd's notify socket; records (monotonic time, message)."""

    path: Path
    messages: list[tuple[float, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._sock.bind(str(self.path))
        self._sock.settimeout(0.1)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data = self._sock.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            self.messages.append((time.monotonic(), data.decode()))

    def pings(self) -> list[float]:
        return [t for t, m in self.messages if "WATCHDOG=1" in m.split("\n")]

    def wait_for(self, text: str, timeout: float) -> float:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for t, m in list(self.messages):
                if text in m:
                    return t
            time.sleep(0.05)
        raise AssertionError(f"no {text!r} on the notify socket within {timeout}s: {self.messages[-5:]}")

    def close(self) -> None:
        self._stop.set()
        self._sock.close()
        self._thread.join(2)


class ProcessService:
    """Stands in for `systemctl restart sscard-kiosk`: stop the running process, start the current release."""

    def __init__(self, current: Path, env: dict[str, str]) -> None:
        self.current = current
        self.env = env
        self.proc: subprocess.Popen[bytes] | None = None
        self.restarts = 0

    def restart(self) -> None:
        self.stop()
        python = self.current / ".venv" / "bin" / "python"
        self.proc = subprocess.Popen([str(python), "-P", "-m", "standin_kiosk"], env=self.env, cwd="/",
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.restarts += 1

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


# A stand-in kiosk for update tests: it publishes the run state exactly as ui/appliance.py does
# (kiosk.appliance.state + running_release from its own release folder), healthy or not as its
# bundle says. A "broken" release crashes at start, as a release with a bad import would.
STANDIN = '''
import os, sys, time, signal
from pathlib import Path
from kiosk.appliance.release import running_release, app_root
from kiosk.appliance.state import RunState, write_state

behaviour = (app_root() / "BEHAVIOUR").read_text().strip()
if behaviour == "broken":
    sys.exit("standin kiosk: start-up failed")
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
state_file = Path(os.environ["KIOSK_STATE_FILE"])
visit_flag = Path(os.environ["STANDIN_VISIT_FLAG"])
started = time.time()
while True:
    idle = not visit_flag.exists()
    write_state(state_file, RunState(pid=os.getpid(), release=running_release(), idle=idle,
                                     idle_since=started if idle else None, home_ready=True,
                                     devices={"pinpad": "online", "smartcard": "noMedia"}))
    time.sleep(0.1)
'''


def standin_source(dest: Path, behaviour: str) -> Path:
    """A source tree for build_bundle: the real kiosk and drivers packages plus the stand-in."""
    dest.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "kiosk", dest / "kiosk", ignore=ignore)
    shutil.copytree(ROOT / "drivers", dest / "drivers", ignore=ignore)
    shutil.copy2(ROOT / "pyproject.toml", dest / "pyproject.toml")
    (dest / "standin_kiosk.py").write_text(STANDIN)
    (dest / "BEHAVIOUR").write_text(behaviour + "\n")
    return dest


STANDIN_PARTS = ("kiosk", "drivers", "pyproject.toml", "standin_kiosk.py", "BEHAVIOUR")
DEPS_FROM = Path(sys.prefix)


def env_for(tmp: Path) -> dict[str, str]:
    return {**os.environ, "KIOSK_STATE_FILE": str(tmp / "state.json"), "STANDIN_VISIT_FLAG": str(tmp / "visit")}
