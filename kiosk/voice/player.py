"""Play 16-bit mono PCM through ALSA (``aplay`` from Debian's alsa-utils) on a thread of its own.

Why not QtMultimedia: feeding ``QMediaPlayer`` from the GUI thread froze the kiosk (the GUI
thread held the GIL inside ``setSourceDevice`` while Qt's audio thread waited for it; issue 19).
Here nothing audio-related runs on the GUI thread: ``play``/``stop`` only swap a request under
a lock and kill a child process; the player thread starts ``aplay`` and writes the PCM to its
stdin in short chunks (the writes release the GIL), so a newer prompt or a stop cuts in within
one chunk. Latest request wins; ``stop`` is immediate.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

log = logging.getLogger(__name__)

CHUNK_S = 0.08


@dataclass(frozen=True)
class Playback:
    """int16 little-endian mono PCM, as parts produced in order *on the player thread*: a part of
    a composed prompt is decoded just before it is played, so audio starts after the first part."""

    parts: Sequence[Callable[[], bytes]]
    rate: int
    volume: float               # 0..1, applied here (the pack is normalised)
    seq: int

    @classmethod
    def of(cls, pcm: bytes, rate: int, volume: float = 1.0, seq: int = 0) -> Playback:
        return cls((lambda: pcm,), rate, volume, seq)


class AlsaPlayer:
    """One background thread, one ``aplay`` at a time. ``device`` is an ALSA PCM name."""

    def __init__(self, device: str = "default", binary: str | None = None,
                 on_started: Callable[[int, float], None] | None = None) -> None:
        found = shutil.which(binary or "aplay")
        if found is None:
            raise FileNotFoundError("aplay is not installed (Debian package alsa-utils; scripts/setup.sh)")
        self.binary = found
        self.device = device
        self.on_started = on_started         # (seq, monotonic time the first audio went to ALSA)
        self.played = 0                      # playbacks aplay took whole and finished without error
        self.failures = 0
        self._cond = threading.Condition()
        self._pending: Playback | None = None
        self._generation = 0
        self._proc: subprocess.Popen[bytes] | None = None
        self._closed = False
        self._thread = threading.Thread(target=self._run, daemon=True, name="voice-play")
        self._thread.start()

    def play(self, playback: Playback) -> None:
        with self._cond:
            self._generation += 1
            self._pending = playback
            self._kill_locked()
            self._cond.notify()

    def stop(self) -> None:
        with self._cond:
            self._generation += 1
            self._pending = None
            self._kill_locked()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._pending = None
            self._kill_locked()
            self._cond.notify()
        self._thread.join(timeout=5)

    @property
    def busy(self) -> bool:
        with self._cond:
            return self._pending is not None or (self._proc is not None and self._proc.poll() is None)

    def _kill_locked(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._pending is None and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                playback, self._pending = self._pending, None
                generation = self._generation
            assert playback is not None
            try:
                self._play(playback, generation)
            except (OSError, ValueError, RuntimeError) as exc:     # RuntimeError: a damaged clip
                self.failures += 1
                log.warning("voice playback failed", extra={"error": type(exc).__name__})

    def _play(self, playback: Playback, generation: int) -> None:
        proc = subprocess.Popen([self.binary, "-q", "-D", self.device, "-t", "raw", "-f", "S16_LE",
                                 "-c", "1", "-r", str(playback.rate), "-"],
                                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        with self._cond:
            self._proc = proc
            if generation != self._generation:        # stopped or replaced while starting
                proc.kill()
        assert proc.stdin is not None
        chunk = int(CHUNK_S * playback.rate) * 2
        started = complete = False
        try:
            for part in playback.parts:
                if generation != self._generation:
                    break
                data = _scaled(part(), playback.volume)
                for at in range(0, len(data), chunk):
                    if generation != self._generation:
                        break
                    proc.stdin.write(data[at:at + chunk])
                    if not started:
                        started = True
                        if self.on_started is not None:
                            self.on_started(playback.seq, time.monotonic())
            else:
                complete = generation == self._generation
            proc.stdin.close()
        except (BrokenPipeError, ValueError):
            pass                                       # killed by stop() or a newer prompt
        finally:
            if not proc.stdin.closed and proc.poll() is None:
                proc.kill()                            # a part failed to decode: do not leave aplay waiting
                proc.wait()
        code = proc.wait()
        if complete and code == 0:
            self.played += 1
        if code not in (0, -9) and generation == self._generation:
            err = proc.stderr.read().decode(errors="replace").strip() if proc.stderr else ""
            raise OSError(f"aplay exited with {code}: {err[:200]}")
        if proc.stderr:
            proc.stderr.close()


def _scaled(pcm: bytes, volume: float) -> bytes:
    if volume >= 0.999:
        return pcm
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float32) * max(0.0, volume)
    return samples.astype("<i2").tobytes()
