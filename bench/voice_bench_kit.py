"""What the voice benchmarks share (bench/voice_latency.py, bench/private_audio.py): ALSA's null
device unless a device is named, the demo configuration with the voice pack on, an AudioSink whose
player records when each prompt's first samples went to aplay, and Qt-pumping waits."""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def null_alsa_unless(device: str, tmp: Path) -> str:
    """The ALSA device to play to: ``device``, or a private asound.conf's null device (runs anywhere)."""
    if not device:
        (tmp / "asound.conf").write_text("pcm.!default { type null }\n")
        os.environ["ALSA_CONFIG_PATH"] = str(tmp / "asound.conf")
    return device or "default"


def voice_config() -> Any:
    """The demo profile with the voice on, spoken from the pre-rendered pack."""
    from kiosk.config import load_config

    config = load_config("demo", environ={})
    return dataclasses.replace(config, ui=dataclasses.replace(config.ui, voice=True, voice_engine="pack"))


def timed_sink(device: str) -> tuple[Any, dict[int, float]]:
    """An AudioSink on ``device`` and the map prompt seq -> when its first samples reached aplay."""
    from ui.voice import AudioSink

    sink = AudioSink(device)
    if sink.player is None:
        raise SystemExit("bench: aplay is missing (apt-get install alsa-utils)")
    started: dict[int, float] = {}
    sink.player.on_started = lambda seq, at: started.__setitem__(seq, at)
    return sink, started


def wait_until(app: Any, predicate: Callable[[], bool], timeout: float = 10.0, what: str = "timed out") -> None:
    """Pump Qt until ``predicate`` holds (finely: the waits are what is timed)."""
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise SystemExit(f"bench: {what}")
        app.processEvents()
        time.sleep(0.0005)


def settle(app: Any, seconds: float = 1.5) -> None:
    """Let the kiosk idle a moment (the prompter's warm-up runs) before timing."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.005)
