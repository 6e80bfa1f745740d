"""The camera's shapes: frames, sources, the consent gate and the Camera protocol."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol, runtime_checkable

import numpy as np

from drivers.api import DeviceStatus, EventListener


class SourceKind(StrEnum):
    WEBCAM = "webcam"      # a live camera (cv2.VideoCapture on an index or /dev/video path)
    VIDEO = "video"        # a recorded video file, looped
    IMAGES = "images"      # a folder of images, cycled
    STILL = "still"        # one image, repeated


class SourceError(Exception):
    """The source cannot give a frame (unplugged, file gone, end of a non-looping file)."""


class ConsentRequired(PermissionError):
    """The camera may not start (or a face be captured) before the person accepted the consent text."""


@dataclass(frozen=True)
class CameraConsent:
    """Proof the flow shows and the person accepts before the camera starts.

    ``text_id`` names the version of the consent text shown (so a record can say which text was
    accepted); ``accepted`` must be True. The camera and the verifier refuse to run without one.
    """

    text_id: str
    accepted: bool
    accepted_at: float = field(default_factory=time.time)

    def require(self) -> None:
        if not self.accepted or not self.text_id:
            raise ConsentRequired("the face-capture consent has not been accepted")


def require_consent(consent: CameraConsent | None) -> None:
    if not isinstance(consent, CameraConsent):
        raise ConsentRequired("the face-capture consent has not been accepted")
    consent.require()


@dataclass(frozen=True, eq=False)
class Frame:
    """One captured frame. ``image`` is BGR uint8 and read-only: consumers share it; copy to change it
    (and copy before wrapping it in a QImage that crosses threads)."""

    image: np.ndarray
    seq: int                # 1, 2, 3... per camera start
    t: float                # time.monotonic() when captured

    def __repr__(self) -> str:  # never dump pixels into a log
        h, w = self.image.shape[:2]
        return f"<Frame #{self.seq} {w}x{h}>"


class FrameSource(Protocol):
    """Where frames come from. Used only by the capture thread that owns it."""

    kind: SourceKind
    description: str         # for the UI and logs: "webcam /dev/video0", "recorded: image_T1.jpg"
    paced: bool              # True: read() already blocks at the device's rate (a webcam)
    fps: float

    def open(self) -> None: ...
    def read(self) -> np.ndarray: ...       # raises SourceError when the source is dead
    def release(self) -> None: ...


FrameListener = Callable[[Frame], None]


@runtime_checkable
class Camera(Protocol):
    name: str

    @property
    def status(self) -> DeviceStatus: ...
    @property
    def kind(self) -> SourceKind: ...
    @property
    def description(self) -> str: ...
    @property
    def running(self) -> bool: ...

    def start(self, consent: CameraConsent) -> None: ...
    def stop(self, timeout: float = 5.0) -> None: ...
    def latest(self) -> Frame | None: ...
    def wait_frame(self, after_seq: int = 0, timeout: float = 1.0) -> Frame | None: ...
    def on_frame(self, listener: FrameListener) -> Callable[[], None]: ...
    def subscribe(self, listener: EventListener) -> Callable[[], None]: ...
