#!/usr/bin/env python3
"""Screenshots of every shell screen on a real X server: starts its own Xvfb (1920x1080) on a free
display, runs the kiosk window fullscreen through the xcb platform plugin, grabs the X screen.

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots]

Prints the start-up time (QApplication to first exposed fullscreen frame) as a figure.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def start_xvfb() -> tuple[subprocess.Popen[bytes], str]:
    """Xvfb picks a free display itself (-displayfd) and writes its number once it accepts clients."""
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        raise SystemExit("Xvfb is missing: install the Debian package xvfb (scripts/setup.sh)")
    read_end, write_end = os.pipe()
    proc = subprocess.Popen([xvfb, "-displayfd", str(write_end), "-screen", "0", "1920x1080x24", "-nolisten", "tcp"],
                            pass_fds=(write_end,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_end)
    with os.fdopen(read_end) as reader:
        number = reader.readline().strip()
    if not number.isdigit():
        proc.kill()
        raise SystemExit("Xvfb did not start (no display number reported)")
    return proc, f":{number}"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def capture(out: Path) -> None:
    started = time.monotonic()
    from PySide6.QtWidgets import QApplication, QLabel, QVBoxLayout, QWidget

    app = QApplication([sys.argv[0]])
    from kiosk import i18n
    from kiosk.config import load_config
    from kiosk.session import SessionCore
    from ui.main import create_shell

    base = load_config("demo")
    config = dataclasses.replace(base, ui=dataclasses.replace(base.ui, voice_engine="none", hide_cursor=True))
    clock = Clock()
    core = SessionCore(config.ui.idle_timeout_s, config.ui.countdown_s, clock=clock)

    class DemoFlow:
        """Shows the step layout the way the issue-6 flows will drive it (no pretend service)."""

        def __init__(self, host) -> None:
            self.host = host

        def start(self) -> None:
            body = QWidget()
            text = QLabel()
            text.setText("●  ●  ●  ○  ○  ○")
            text.setStyleSheet("font-size: 72px; letter-spacing: 12px;")
            QVBoxLayout(body).addWidget(text)
            self.host.enter_step("new_pin", "Change PIN", "Set a new six-digit PIN", 2, 4, body=body)

        def stop(self) -> None:
            pass

    window = create_shell(config, core, flows={"retiree_certification": DemoFlow})
    window.show_kiosk(fullscreen=True, hide_cursor=True, width=1920, height=1080)
    while not (window.windowHandle() and window.windowHandle().isExposed()):
        app.processEvents()
    app.processEvents()
    print(f"start-up: {(time.monotonic() - started) * 1000:.0f} ms from QApplication to the first exposed "
          f"fullscreen frame (xcb on Xvfb)")

    def settle() -> None:
        end = time.monotonic() + 0.4
        while time.monotonic() < end:
            app.processEvents()
            time.sleep(0.02)

    def shot(name: str) -> None:
        settle()
        screen = app.primaryScreen()
        image = screen.grabWindow(0)          # the whole X screen: what a citizen would see
        path = out / f"{name}.png"
        image.save(str(path))
        print(f"  {path.relative_to(ROOT)}  {image.width()}x{image.height()}")

    out.mkdir(parents=True, exist_ok=True)
    shot("01-attract")
    core.start_visit("touch")
    shot("02-home")
    window.start_service("retiree_certification")
    shot("03-step")
    # an issue-6 style device failure (kiosk/messages/pinpad.py wording)
    window.step.show_error("The PIN pad is not responding.",
                           "Please wait a moment and try again, or go to the counter.",
                           [window.host.retry_action(lambda: None), window.host.home_action()])
    shot("04-step-error")
    window.go_home()
    window.start_service("card_status")
    shot("05-error-not-available")
    window.host.show_result("Done", "Please note", details=[])
    window.go_home()
    clock.now += config.ui.idle_timeout_s + 2
    core.tick()
    shot("06-countdown")
    core.touch()
    i18n.set_language("en")
    shot("07-home-english")
    window.start_service("retiree_certification")
    shot("08-step-english")
    i18n.set_language("zh_CN")
    window.go_home()
    window.operator.open_dialog()
    shot("09-operator-dialog")
    window.shutdown()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    if os.environ.get("KIOSK_SCREENSHOTS_CHILD") == "1":
        capture(args.out.resolve())
        return 0
    xvfb, display = start_xvfb()
    try:
        env = {**os.environ, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb", "KIOSK_SCREENSHOTS_CHILD": "1"}
        return subprocess.run([sys.executable, __file__, "--out", str(args.out)], env=env, check=False,
                              timeout=120).returncode
    finally:
        xvfb.terminate()
        xvfb.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())
