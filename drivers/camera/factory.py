"""Build a camera from plain keyword arguments (kiosk/app.py maps the [camera] table to these)."""

from __future__ import annotations

import glob
import logging
from pathlib import Path

from drivers.camera.capture import CameraCapture
from drivers.camera.sources import OpenCvCameraSource, recorded_source

log = logging.getLogger(__name__)


def webcam_present(device: str = "0") -> bool:
    """A cheap check without opening anything: is there a V4L2 node for this device?"""
    if device.isdigit():
        return Path(f"/dev/video{device}").exists()
    if device.startswith("/dev/"):
        return Path(device).exists()
    return bool(glob.glob("/dev/video*"))


def make_camera(*, backend: str = "auto", device: str = "0", width: int = 640, height: int = 480,
                fps: int = 30, source: str | Path = "", reopen_max_backoff_s: float = 10.0,
                name: str = "camera") -> CameraCapture:
    """``backend``: "opencv" (a real camera), "images" / "video" / "still" (a recorded ``source``),
    or "auto": the webcam if one is plugged in, else the recorded source. The camera's ``kind`` and
    ``description`` say which one was chosen, so the UI can tell the person it is a recording."""
    if backend == "auto":
        backend = "opencv" if webcam_present(device) else "recorded"
        log.info("camera source chosen", extra={"device": name, "backend": backend})
    if backend == "opencv":
        cam_source = OpenCvCameraSource(device, width, height, fps)
    elif backend in ("images", "video", "still", "recorded"):
        if not source:
            raise ValueError("camera.source must name a folder, video or image for a recorded camera")
        cam_source = recorded_source(source, fps=min(float(fps), 15.0))
    else:
        raise ValueError(f"unknown camera backend {backend!r}; expected auto, opencv, images, video or still")
    return CameraCapture(cam_source, name=name, reopen_max_backoff_s=reopen_max_backoff_s)
