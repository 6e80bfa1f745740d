#!/usr/bin/env python3
"""Private audio and the eyes-free visit, timed: headphones plugged / pulled (the simulated socket
read by the real evdev driver) and a PIN pad key (the real pad driver over its pty simulator) ->
what the voice does, to the first audio handed to aplay (ALSA's null device unless --device).

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/private_audio.py [--rounds 10]

Prints figures, asserts nothing. The socket is polled every 50 ms (drivers/headphone/evdev.py).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from voice_bench_kit import null_alsa_unless, settle, timed_sink, voice_config, wait_until  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--device", default="")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="kiosk-private-bench-"))
    device = null_alsa_unless(args.device, tmp)

    from PySide6.QtWidgets import QApplication

    from drivers.headphone.factory import create_headphone_jack
    from drivers.pinpad.factory import create_pinpad
    from kiosk.session import SessionCore
    from ui.main import bridge_for_devices, create_shell

    app = QApplication([sys.argv[0]])
    config = voice_config()
    core = SessionCore(600, 15, result_timeout_s=600, marker_path=tmp / "visit")
    sink, started = timed_sink(device)
    jack = create_headphone_jack("simulator")
    pad = create_pinpad(backend="simulator")
    assert jack.service is not None and jack.simulator is not None and pad.simulator is not None
    bridge = bridge_for_devices({"headphones": jack.service, "pinpad": pad.service})
    window = create_shell(config, core, sink=sink, bridge=bridge)
    window.show_kiosk(fullscreen=False, hide_cursor=False, width=1920, height=1080)

    def until(predicate, timeout: float = 10.0) -> None:
        wait_until(app, predicate, timeout)

    until(lambda: pad.service.wait_online(0))
    settle(app)
    core.start_visit("touch")                       # the home screen: choices to move between
    plug: list[float] = []
    unplug_mode: list[float] = []
    unplug_audio: list[float] = []
    key: list[float] = []
    for _ in range(args.rounds):
        t0 = time.monotonic()
        jack.simulator.plug()
        until(lambda: window.prompter.private)
        seq = window.prompter._seq
        until(lambda s=seq: s in started)
        plug.append((started[seq] - t0) * 1000)
        until(lambda: window.eyes_free.listening and pad.simulator.entry_mode == "plain")
        t0 = time.monotonic()
        pad.simulator.press("8")
        until(lambda s=seq: window.prompter._seq != s)
        seq = window.prompter._seq
        until(lambda s=seq: s in started)
        key.append((started[seq] - t0) * 1000)
        t0 = time.monotonic()
        jack.simulator.unplug()
        until(lambda: not window.prompter.private)
        unplug_mode.append((time.monotonic() - t0) * 1000)
        seq = window.prompter._seq
        until(lambda s=seq: s in started)
        unplug_audio.append((started[seq] - t0) * 1000)
        until(lambda: not sink.player.busy)
    window.shutdown()
    window.prompter.close()
    bridge.detach_all()
    pad.close()
    jack.close()

    def line(name: str, values: list[float]) -> str:
        values = sorted(values)
        return (f"{name}: median {statistics.median(values):.1f} ms, max {values[-1]:.1f} ms "
                f"over {len(values)} rounds")

    print(line("headphones in -> private speech (key map) starts", plug))
    print(line("pad key 8 -> the next choice is said", key))
    print(line("headphones out -> private speech stopped, mode public", unplug_mode))
    print(line("headphones out -> public notice starts", unplug_audio))
    return 0


if __name__ == "__main__":
    sys.exit(main())
