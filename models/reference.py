"""The registered reference photo: decode it strictly and refuse it, with a named problem, unless it
shows exactly one clear face.

A reference that is silently "used anyway" is worse than none: a truncated JPEG decodes with its
lower half grey, a group photo gives the largest face (maybe not the card holder). Each refusal
carries a :class:`ReferenceProblem`; kiosk/messages/face.py says what the person and the counter
should do (the counter registers a new photo; the kiosk cannot fix it).
"""

from __future__ import annotations

from enum import StrEnum

import cv2
import numpy as np

from drivers.camera.frames import FrameFormatError, to_bgr8

MIN_REFERENCE_FACE_PX = 40     # narrower faces (after the detector) carry too little detail to match


class ReferenceProblem(StrEnum):
    DAMAGED = "damaged"                  # truncated or corrupt file (a cut download, a bad disk)
    NOT_AN_IMAGE = "not_an_image"        # no image format we read, or an array we cannot use
    NO_FACE = "no_face"
    MULTIPLE_FACES = "multiple_faces"
    FACE_TOO_SMALL = "face_too_small"


class ReferenceImageError(ValueError):
    """The reference photo cannot be used; ``problem`` names why."""

    def __init__(self, problem: ReferenceProblem, detail: str = "") -> None:
        super().__init__(f"bad reference photo ({problem.value})" + (f": {detail}" if detail else ""))
        self.problem = problem


def _complete(data: bytes) -> bool:
    """Does an encoded image end where its format says it ends? (cv2 decodes a cut JPEG silently.)"""
    if data[:3] == b"\xff\xd8\xff":                 # JPEG: an end-of-image marker near the end
        return b"\xff\xd9" in data[-1024:]
    if data[:8] == b"\x89PNG\r\n\x1a\n":           # PNG: the IEND chunk closes the file
        return b"IEND" in data[-64:]
    if data[:2] == b"BM" and len(data) >= 6:         # BMP: the header states the file size
        return int.from_bytes(data[2:6], "little") <= len(data)
    return True


def decode_reference(data: bytes) -> np.ndarray:
    """BGR uint8 pixels of an encoded reference photo, or ReferenceImageError (DAMAGED / NOT_AN_IMAGE)."""
    if not data:
        raise ReferenceImageError(ReferenceProblem.DAMAGED, "the file is empty")
    if not _complete(data):
        raise ReferenceImageError(ReferenceProblem.DAMAGED, "the file is truncated")
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise ReferenceImageError(ReferenceProblem.NOT_AN_IMAGE, f"{len(data)} bytes in no readable image format")
    return image


def reference_pixels(image: object) -> np.ndarray:
    """An already-decoded reference (array, or encoded bytes) as BGR uint8."""
    if isinstance(image, (bytes, bytearray, memoryview)):
        return decode_reference(bytes(image))
    if image is None:
        raise ReferenceImageError(ReferenceProblem.NOT_AN_IMAGE, "no image (the file was missing or unreadable)")
    try:
        return to_bgr8(image)
    except FrameFormatError as exc:
        raise ReferenceImageError(ReferenceProblem.NOT_AN_IMAGE, str(exc)) from None
