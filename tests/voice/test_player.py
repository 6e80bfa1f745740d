"""The ALSA player: real aplay processes playing to ALSA's null device, off the caller's thread."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from kiosk.voice.pack import SAMPLE_RATE, VoicePack
from kiosk.voice.player import AlsaPlayer, Playback


def _wait(predicate, timeout: float = 10.0) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError("timed out")
        time.sleep(0.01)


def test_plays_pack_audio_to_alsa_null_without_blocking_the_caller(alsa_null: Path, pack: VoicePack) -> None:
    started: list[int] = []
    threads: list[str] = []

    def on_started(seq: int, _at: float) -> None:
        started.append(seq)
        threads.append(threading.current_thread().name)

    player = AlsaPlayer("default", on_started=on_started)
    try:
        clip = pack.clip_for("zh_CN", "请插入社保卡或触摸屏幕开始")
        assert clip is not None
        pcm = pack.pcm("zh_CN", clip.key, "normal")
        t0 = time.perf_counter()
        player.play(Playback.of(pcm, SAMPLE_RATE, 0.5, 1))
        assert time.perf_counter() - t0 < 0.5           # the caller only hands the request over
        _wait(lambda: player.played == 1)
        assert started == [1] and threads == ["voice-play"] and player.failures == 0
    finally:
        player.close()


def test_latest_request_wins_and_stop_cuts_in(alsa_null: Path) -> None:
    player = AlsaPlayer("kiosk_null")
    try:
        long = b"\x01\x00" * SAMPLE_RATE * 30            # 30 s: null consumes fast, but in chunks
        for seq in range(5):
            player.play(Playback.of(long, SAMPLE_RATE, 1.0, seq))
        player.stop()
        _wait(lambda: not player.busy)
        assert player.failures == 0
    finally:
        player.close()


def test_an_unknown_alsa_device_is_a_counted_failure_not_a_crash(alsa_null: Path) -> None:
    player = AlsaPlayer("no_such_pcm")
    try:
        player.play(Playback.of(b"\x00\x00" * 2400, SAMPLE_RATE, 1.0, 1))
        _wait(lambda: player.failures == 1)
        assert player.played == 0
    finally:
        player.close()


def test_missing_aplay_says_which_package() -> None:
    with pytest.raises(FileNotFoundError, match="alsa-utils"):
        AlsaPlayer(binary="/nonexistent/aplay")


def test_a_part_that_cannot_be_decoded_ends_that_prompt_only(alsa_null: Path) -> None:
    def damaged() -> bytes:
        raise RuntimeError("voice clip does not match its sha256")

    player = AlsaPlayer("default")
    try:
        player.play(Playback((lambda: b"\x00\x00" * 2400, damaged), SAMPLE_RATE, 1.0, 1))
        _wait(lambda: player.failures == 1)
        player.play(Playback.of(b"\x00\x00" * 2400, SAMPLE_RATE, 1.0, 2))      # the next prompt plays
        _wait(lambda: player.played == 1)
        assert not player.busy
    finally:
        player.close()
