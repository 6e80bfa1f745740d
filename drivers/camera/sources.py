"""Frame sources behind one interface: a live camera, a video file, a folder of images, a still."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from drivers.camera.api import SourceError, SourceKind

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}
VIDEO_SUFFIXES = {".mp4", ".avi", ".mkv", ".mov", ".webm", ".mjpg", ".mjpeg"}


def _device_arg(device: str) -> int | str:
    return int(device) if device.isdigit() else device


class OpenCvCameraSource:
    """A real camera. cv2.VideoCapture is created, read and released on the capture thread only."""

    kind = SourceKind.WEBCAM
    paced = True

    def __init__(self, device: str = "0", width: int = 640, height: int = 480, fps: int = 30) -> None:
        self.device, self.width, self.height, self.fps = device, width, height, float(fps)
        self.description = f"webcam {device}"
        self._cap: cv2.VideoCapture | None = None

    def open(self) -> None:
        cap = cv2.VideoCapture(_device_arg(self.device), cv2.CAP_V4L2) if self.device.isdigit() or \
            self.device.startswith("/dev/") else cv2.VideoCapture(self.device)
        if not cap.isOpened():
            cap.release()
            raise SourceError(f"camera {self.device} cannot be opened")
        cap.set(cv2.CAP_PROP_FRAME_WIDTH, self.width)
        cap.set(cv2.CAP_PROP_FRAME_HEIGHT, self.height)
        cap.set(cv2.CAP_PROP_FPS, self.fps)
        cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)     # no stale frames queued in the driver
        self._cap = cap

    def read(self) -> np.ndarray:
        if self._cap is None:
            raise SourceError("camera not open")
        ok, frame = self._cap.read()
        if not ok or frame is None:
            raise SourceError(f"camera {self.device} gave no frame (unplugged?)")
        return frame

    def release(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None


class VideoFileSource:
    """A recorded video, looped, delivered at its own frame rate (or ``fps``)."""

    kind = SourceKind.VIDEO
    paced = False

    def __init__(self, path: str | Path, fps: float | None = None, loop: bool = True) -> None:
        self.path, self.loop = Path(path), loop
        self.fps = float(fps or 0) or 25.0
        self._fixed_fps = fps is not None
        self.description = f"recorded video {self.path.name}"
        self._cap: cv2.VideoCapture | None = None

    def open(self) -> None:
        if not self.path.is_file():
            raise SourceError(f"video {self.path} not found")
        cap = cv2.VideoCapture(str(self.path))
        if not cap.isOpened():
            cap.release()
            raise SourceError(f"video {self.path} cannot be decoded")
        if not self._fixed_fps:
            self.fps = float(cap.get(cv2.CAP_PROP_FPS)) or 25.0
        self._cap = cap

    def read(self) -> np.ndarray:
        if self._cap is None:
            raise SourceError("video not open")
        ok, frame = self._cap.read()
        if not ok and self.loop:
            self._cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
            ok, frame = self._cap.read()
        if not ok or frame is None:
            raise SourceError(f"video {self.path} ended or is unreadable")
        return frame

    def release(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None


class ImageFolderSource:
    """The images of a folder (sorted by name), cycled at ``fps``. Each image is read when due, so a
    folder that disappears makes the source fail like an unplugged camera."""

    kind = SourceKind.IMAGES
    paced = False

    def __init__(self, folder: str | Path, fps: float = 10.0, loop: bool = True) -> None:
        self.folder, self.fps, self.loop = Path(folder), float(fps), loop
        self.description = f"recorded images {self.folder.name}/"
        self._files: list[Path] = []
        self._i = 0

    def open(self) -> None:
        if not self.folder.is_dir():
            raise SourceError(f"image folder {self.folder} not found")
        self._files = sorted(p for p in self.folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not self._files:
            raise SourceError(f"no images in {self.folder}")
        self._i = 0

    def read(self) -> np.ndarray:
        if not self._files:
            raise SourceError("image folder not open")
        if self._i >= len(self._files):
            if not self.loop:
                raise SourceError(f"image folder {self.folder} ended")
            self._i = 0
        path = self._files[self._i]
        self._i += 1
        image = cv2.imread(str(path))
        if image is None:
            raise SourceError(f"image {path.name} unreadable or gone")
        return image

    def release(self) -> None:
        self._files = []


class StillImageSource:
    """One image (a file, or an array for tests), repeated at ``fps``."""

    kind = SourceKind.STILL
    paced = False

    def __init__(self, image: str | Path | np.ndarray, fps: float = 10.0) -> None:
        self.fps = float(fps)
        self._path = None if isinstance(image, np.ndarray) else Path(image)
        self._array = image if isinstance(image, np.ndarray) else None
        self.description = f"recorded still {self._path.name}" if self._path else "recorded still (memory)"
        self._image: np.ndarray | None = None

    def open(self) -> None:
        if self._array is not None:
            self._image = self._array
            return
        assert self._path is not None
        image = cv2.imread(str(self._path))
        if image is None:
            raise SourceError(f"still image {self._path} not found or unreadable")
        self._image = image

    def read(self) -> np.ndarray:
        if self._image is None:
            raise SourceError("still image not open")
        return self._image.copy()

    def release(self) -> None:
        self._image = None


def recorded_source(path: str | Path, fps: float = 10.0) -> ImageFolderSource | VideoFileSource | StillImageSource:
    """The recorded source a path names: a folder, a video file or an image file."""
    p = Path(path)
    if p.is_dir():
        return ImageFolderSource(p, fps)
    if p.suffix.lower() in VIDEO_SUFFIXES:
        return VideoFileSource(p)
    return StillImageSource(p, fps)
