"""Camera capture on recorded sources: consent gate, latest-frame-wins, death and reopen, release."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from drivers.api import DeviceStatus, StatusChanged
from drivers.camera.api import CameraConsent, ConsentRequired, SourceError, SourceKind
from drivers.camera.capture import CameraCapture
from drivers.camera.factory import make_camera
from drivers.camera.sources import ImageFolderSource, StillImageSource, VideoFileSource

CONSENT = CameraConsent("face-consent-v1", accepted=True)


def _wait(predicate, timeout: float = 5.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def _write_images(folder: Path, n: int = 3) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        cv2.imwrite(str(folder / f"{i:03d}.png"), np.full((48, 64, 3), 40 * i, np.uint8))


def test_consent_is_required_before_the_camera_starts() -> None:
    camera = CameraCapture(StillImageSource(np.zeros((48, 64, 3), np.uint8), fps=30))
    with pytest.raises(ConsentRequired):
        camera.start(CameraConsent("face-consent-v1", accepted=False))
    with pytest.raises(ConsentRequired):
        camera.start(None)  # type: ignore[arg-type]
    assert not camera.running and camera.latest() is None


def test_latest_frame_wins_and_readers_do_not_slow_capture() -> None:
    camera = CameraCapture(StillImageSource(np.zeros((48, 64, 3), np.uint8), fps=50))
    seen: list[int] = []
    camera.on_frame(lambda f: seen.append(f.seq))
    camera.start(CONSENT)
    try:
        first = camera.wait_frame(0, timeout=2.0)
        assert first is not None and not first.image.flags.writeable
        time.sleep(0.5)                            # a slow reader: frames keep coming meanwhile
        newest = camera.wait_frame(first.seq, timeout=2.0)
        assert newest is not None and newest.seq > first.seq + 5
        assert camera.latest().seq >= newest.seq
        assert camera.status is DeviceStatus.ONLINE and camera.kind is SourceKind.STILL
    finally:
        camera.stop()
    assert not camera.running and camera.latest() is None
    assert seen == sorted(seen) and len(seen) >= 10


def test_camera_reopens_after_its_source_dies(tmp_path: Path) -> None:
    folder = tmp_path / "frames"
    _write_images(folder)
    camera = CameraCapture(ImageFolderSource(folder, fps=30), reopen_max_backoff_s=0.2, reopen_min_backoff_s=0.05)
    events: list[StatusChanged] = []
    camera.subscribe(lambda e: events.append(e) if isinstance(e, StatusChanged) else None)
    camera.start(CONSENT)
    try:
        assert _wait(lambda: camera.status is DeviceStatus.ONLINE)
        shutil.rmtree(folder)                      # "unplugged"
        assert _wait(lambda: camera.status is DeviceStatus.OFFLINE), camera.status_detail
        dead_seq = camera.latest().seq
        time.sleep(0.3)
        assert camera.latest().seq == dead_seq     # nothing delivered while dead
        _write_images(folder)                      # plugged back in
        assert _wait(lambda: camera.status is DeviceStatus.ONLINE)
        assert camera.wait_frame(dead_seq, timeout=2.0) is not None
        assert camera.reopen_count >= 1
    finally:
        camera.stop()
    assert [e.new for e in events][:3] == [DeviceStatus.ONLINE, DeviceStatus.OFFLINE, DeviceStatus.ONLINE]


class _CountingSource(StillImageSource):
    """A still source that counts open/release and dies after a few frames."""

    def __init__(self) -> None:
        super().__init__(np.zeros((8, 8, 3), np.uint8), fps=100)
        self.opened = self.released = self.reads = 0
        self.lock = threading.Lock()

    def open(self) -> None:
        with self.lock:
            self.opened += 1
        super().open()

    def read(self) -> np.ndarray:
        self.reads += 1
        if self.reads % 4 == 0:
            raise RuntimeError("driver bug")        # not a SourceError: must still release
        return super().read()

    def release(self) -> None:
        with self.lock:
            self.released += 1
        super().release()


def test_source_released_on_every_exit_path() -> None:
    source = _CountingSource()
    camera = CameraCapture(source, reopen_max_backoff_s=0.05, reopen_min_backoff_s=0.01)
    camera.start(CONSENT)
    assert _wait(lambda: source.opened >= 3)
    camera.stop()
    assert source.opened == source.released


def test_recorded_sources(tmp_path: Path, images) -> None:
    video = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 10, (64, 48))
    for i in range(5):
        writer.write(np.full((48, 64, 3), 50 * i, np.uint8))
    writer.release()
    source = VideoFileSource(video)
    source.open()
    frames = [source.read() for _ in range(7)]            # loops past the end
    source.release()
    assert len(frames) == 7 and frames[0].shape == (48, 64, 3)
    with pytest.raises(SourceError):
        VideoFileSource(tmp_path / "missing.avi").open()
    with pytest.raises(SourceError):
        StillImageSource(tmp_path / "missing.jpg").open()


def test_factory_falls_back_to_a_recorded_source_and_says_so(tmp_path: Path) -> None:
    still = tmp_path / "face.png"
    cv2.imwrite(str(still), np.zeros((48, 64, 3), np.uint8))
    camera = make_camera(backend="auto", device="97", source=str(still))   # no /dev/video97 here
    assert camera.kind is SourceKind.STILL and "recorded" in camera.description
    _write_images(tmp_path / "dir")
    assert make_camera(backend="images", source=str(tmp_path / "dir")).kind is SourceKind.IMAGES
    with pytest.raises(ValueError, match="unknown camera backend"):
        make_camera(backend="usb3")


class _HangingSource(StillImageSource):
    """Delivers a few frames, then blocks inside read() like a wedged USB camera."""

    def __init__(self) -> None:
        super().__init__(np.zeros((48, 64, 3), np.uint8), fps=50)   # >= frames.MIN_SIDE
        self.reads = 0
        self.unblock = threading.Event()

    def read(self) -> np.ndarray:
        self.reads += 1
        if self.reads > 3:
            self.unblock.wait(10)
        return super().read()


def test_a_hung_camera_is_reported_offline_and_recovers() -> None:
    source = _HangingSource()
    camera = CameraCapture(source, stall_s=0.3)
    camera.start(CONSENT)
    try:
        assert _wait(lambda: source.reads > 3)
        seq = camera.latest().seq
        assert camera.wait_frame(seq, timeout=0.6) is None
        assert camera.status is DeviceStatus.OFFLINE and "no frame" in camera.status_detail
        source.unblock.set()
        assert camera.wait_frame(seq, timeout=2.0) is not None
        assert camera.status is DeviceStatus.ONLINE
    finally:
        source.unblock.set()
        camera.stop()
