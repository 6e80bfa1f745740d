"""QR codes read off camera frames with OpenCV's own detectors (no decoder of ours).

A phone held up to the kiosk's face camera fills 15-60 % of the frame, often tilted, with glare
and moiré. Detection cost grows with pixels and a code this large is readable at a lower
resolution, so each frame is tried from cheap to expensive and stops at the first read:

1. the ArUco-based detector (fast; finds tilted codes);
2. the classic detector, which reads some codes the first misses under moiré;
3. the ArUco-based detector on a contrast-equalised copy (CLAHE), for codes washed out by glare.

Frames wider than ``work_width`` are scaled down first: a code filling 15 % of a 640 x 480 frame
is still ~4 px per module there, and detection cost grows with the pixels.

Only text is returned; frames are never kept.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import cv2
import numpy as np


class FrameError(ValueError):
    """The frame is not an image this reader can use (empty, wrong type or shape)."""


@dataclass(frozen=True)
class CodeRead:
    text: str
    stage: str                  # which attempt read it: "aruco", "classic" or "equalised"
    elapsed_ms: float


def as_grey(frame: np.ndarray) -> np.ndarray:
    """A uint8 single-channel view of a camera frame; FrameError for anything else."""
    if not isinstance(frame, np.ndarray) or frame.size == 0:
        raise FrameError("empty frame")
    if frame.dtype != np.uint8:
        raise FrameError(f"frame dtype {frame.dtype} (expected uint8)")
    if frame.ndim == 2:
        return frame
    if frame.ndim == 3 and frame.shape[2] == 3:
        return cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    if frame.ndim == 3 and frame.shape[2] == 4:
        return cv2.cvtColor(frame, cv2.COLOR_BGRA2GRAY)
    raise FrameError(f"frame shape {frame.shape} (expected H x W, H x W x 3 or H x W x 4)")


class FrameCodeReader:
    """Reads one QR code per frame, if there is one. Not thread-safe: one per camera thread."""

    def __init__(self, work_width: int = 960) -> None:
        self.work_width = work_width
        self._aruco = cv2.QRCodeDetectorAruco()
        self._classic = cv2.QRCodeDetector()
        self._clahe = cv2.createCLAHE(clipLimit=3.0, tileGridSize=(8, 8))

    @staticmethod
    def _decode(detector: cv2.QRCodeDetector, grey: np.ndarray) -> str:
        try:
            text, _points, _straight = detector.detectAndDecode(grey)
        except cv2.error:
            return ""                 # OpenCV raises on some degenerate quadrilaterals: no code
        return text or ""

    def read(self, frame: np.ndarray) -> CodeRead | None:
        start = time.perf_counter()
        grey = as_grey(frame)
        scale = min(1.0, self.work_width / grey.shape[1])
        small = cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else grey
        for stage, detector, image in (
            ("aruco", self._aruco, small),
            ("classic", self._classic, small),
            ("equalised", self._aruco, None),
        ):
            if image is None:
                image = self._clahe.apply(small)
            text = self._decode(detector, image)
            if text:
                return CodeRead(text, stage, (time.perf_counter() - start) * 1000)
        return None
