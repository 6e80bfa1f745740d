"""The camera boundary: every frame shape and type a camera or a file can give is converted to BGR
uint8 or refused with a named FrameFormatError, and a camera giving unusable frames says so."""

from __future__ import annotations

import time

import numpy as np
import pytest

from drivers.api import DeviceStatus
from drivers.camera.api import CameraConsent, SourceError, SourceKind
from drivers.camera.capture import CameraCapture
from drivers.camera.frames import MAX_SIDE, FrameFormatError, FrameProblem, to_bgr8
from drivers.camera.sources import StillImageSource

CONSENT = CameraConsent("face-consent-v1", accepted=True)


def _face(images) -> np.ndarray:
    return images["image_T1"]


@pytest.mark.parametrize("make, expect", [
    (lambda bgr: bgr[:, :, 0].copy(), "grey"),                                  # HxW (IR camera)
    (lambda bgr: bgr[:, :, :1].copy(), "grey"),                                 # HxWx1
    (lambda bgr: np.dstack([bgr, np.full(bgr.shape[:2], 255, np.uint8)]), "bgr"),  # BGRA
    (lambda bgr: bgr.astype(np.uint16) * 257, "bgr"),                           # 16-bit
    (lambda bgr: bgr.astype(np.float32) / 255.0, "bgr"),                        # float 0..1
    (lambda bgr: bgr.astype(np.float64), "bgr"),                                # float 0..255
    (lambda bgr: bgr[:, ::-1], "mirrored"),                                     # a non-contiguous view
])
def test_convertible_frames_become_bgr_uint8(images, make, expect) -> None:
    bgr = _face(images)
    out = to_bgr8(make(bgr))
    assert out.dtype == np.uint8 and out.shape == bgr.shape and out.flags.c_contiguous
    if expect == "grey":
        assert (out[:, :, 0] == bgr[:, :, 0]).all() and (out[:, :, 2] == bgr[:, :, 0]).all()
    elif expect == "mirrored":
        assert (out == bgr[:, ::-1]).all()
    else:
        assert np.abs(out.astype(int) - bgr).max() <= 1


@pytest.mark.parametrize("value, problem", [
    (None, FrameProblem.NOT_AN_ARRAY),
    (b"\xff\xd8 jpeg bytes", FrameProblem.NOT_AN_ARRAY),
    (np.zeros((0, 640, 3), np.uint8), FrameProblem.EMPTY),
    (np.zeros((480, 640, 2), np.uint8), FrameProblem.BAD_SHAPE),
    (np.zeros((480, 640, 3, 2), np.uint8), FrameProblem.BAD_SHAPE),
    (np.zeros(640, np.uint8), FrameProblem.BAD_SHAPE),
    (np.zeros((480, 640, 3), np.int32), FrameProblem.BAD_DTYPE),
    (np.zeros((480, 640, 3), bool), FrameProblem.BAD_DTYPE),
    (np.full((480, 640, 3), np.nan, np.float32), FrameProblem.NOT_FINITE),
    (np.full((480, 640, 3), 300.0, np.float32), FrameProblem.OUT_OF_RANGE),
    (np.zeros((16, 640, 3), np.uint8), FrameProblem.TOO_SMALL),
    (np.zeros((10, MAX_SIDE + 1, 3), np.uint8)[:, :, :1].repeat(40, 0), FrameProblem.TOO_LARGE),
])
def test_unusable_frames_are_refused_by_name(value, problem) -> None:
    with pytest.raises(FrameFormatError) as info:
        to_bgr8(value)
    assert info.value.problem is problem
    assert isinstance(info.value, SourceError) and problem.value in str(info.value)
    assert "camera" in str(info.value)             # says what to check


def test_pipeline_analyses_grey_and_bgra_frames_like_colour(pipeline, images) -> None:
    bgr = _face(images)
    colour = pipeline.analyse(bgr).verdict
    bgra = pipeline.analyse(np.dstack([bgr, np.full(bgr.shape[:2], 255, np.uint8)])).verdict
    grey = pipeline.analyse(bgr.mean(axis=2).astype(np.uint8)).verdict
    assert colour.ok and bgra.ok and grey.face is not None
    assert abs(bgra.face.x - colour.face.x) < 1 and abs(grey.face.x - colour.face.x) < 8
    with pytest.raises(FrameFormatError):
        pipeline.analyse(np.zeros((480, 640, 3), np.int64))


def _wait(predicate, timeout: float = 5.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def test_camera_giving_float_frames_reports_a_named_fault_and_delivers_nothing() -> None:
    camera = CameraCapture(StillImageSource(np.full((480, 640, 3), 2.0, np.float32) * 300, fps=30),
                           reopen_min_backoff_s=0.05, reopen_max_backoff_s=0.1)
    camera.start(CONSENT)
    try:
        assert _wait(lambda: camera.status is DeviceStatus.HARDWARE_ERROR)
        assert "out_of_range" in camera.status_detail and "camera" in camera.status_detail
        assert camera.wait_frame(0, timeout=0.3) is None
    finally:
        camera.stop()


def test_camera_giving_grey_frames_delivers_bgr() -> None:
    grey = np.tile(np.arange(640, dtype=np.uint16)[None] % 256, (480, 1)).astype(np.uint8)
    camera = CameraCapture(StillImageSource(grey, fps=30))
    camera.start(CONSENT)
    try:
        frame = camera.wait_frame(0, timeout=2.0)
        assert frame is not None and frame.image.shape == (480, 640, 3) and frame.image.dtype == np.uint8
        assert camera.status is DeviceStatus.ONLINE and camera.kind is SourceKind.STILL
    finally:
        camera.stop()
