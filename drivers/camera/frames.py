"""The camera boundary: every array a camera, a video or an image file can give becomes one BGR uint8
frame, or a named :class:`FrameFormatError` that says what was wrong.

What is converted (well defined, common from real devices and files):

* grey (HxW or HxWx1, e.g. an IR camera) -> BGR by replicating the channel;
* BGRA (HxWx4, PNG with alpha, some USB cameras) -> BGR, alpha dropped;
* uint16 (16-bit PNG/TIFF, machine-vision cameras) -> the high byte;
* float (OpenCV's float convention 0..1, or 0..255) -> uint8 rounded.

What is refused, each with its :class:`FrameProblem`: not an array, empty, 2-channel or >4-channel,
any other dtype (bool, signed ints, complex), NaN/inf, float values outside 0..255, a side under
``MIN_SIDE`` (nothing a face check can use) or over ``MAX_SIDE`` (a misconfigured or hostile source:
the pipeline would spend seconds per frame).
"""

from __future__ import annotations

from enum import StrEnum

import cv2
import numpy as np

from drivers.camera.api import SourceError

MIN_SIDE = 32
MAX_SIDE = 4096


class FrameProblem(StrEnum):
    NOT_AN_ARRAY = "not_an_array"
    EMPTY = "empty"
    BAD_SHAPE = "bad_shape"          # not HxW, HxWx1, HxWx3 or HxWx4
    BAD_DTYPE = "bad_dtype"          # not uint8, uint16 or float
    NOT_FINITE = "not_finite"        # NaN or inf in a float frame
    OUT_OF_RANGE = "out_of_range"    # float values outside 0..255
    TOO_SMALL = "too_small"
    TOO_LARGE = "too_large"


class FrameFormatError(SourceError):
    """The source gave a frame the face pipeline cannot use. ``problem`` names what; the message says
    what it was and what to do (it is a SourceError: the capture thread reports the camera as faulty
    with this message instead of passing the frame on)."""

    def __init__(self, problem: FrameProblem, detail: str) -> None:
        super().__init__(f"unusable frame ({problem.value}): {detail}; check camera.backend / camera.source "
                         "and that the camera delivers 8-bit colour or grey images")
        self.problem = problem


def _describe(image: np.ndarray) -> str:
    return f"shape {tuple(image.shape)}, dtype {image.dtype}"


def to_bgr8(image: object) -> np.ndarray:
    """``image`` as a C-contiguous HxWx3 uint8 BGR array (the same object when it already is one)."""
    if not isinstance(image, np.ndarray):
        raise FrameFormatError(FrameProblem.NOT_AN_ARRAY, f"got {type(image).__name__}")
    if image.size == 0:
        raise FrameFormatError(FrameProblem.EMPTY, _describe(image))
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if not (image.ndim == 2 or (image.ndim == 3 and image.shape[2] in (3, 4))):
        raise FrameFormatError(FrameProblem.BAD_SHAPE, _describe(image))
    h, w = image.shape[:2]
    if min(h, w) < MIN_SIDE:
        raise FrameFormatError(FrameProblem.TOO_SMALL, f"{w}x{h}, at least {MIN_SIDE} px a side is needed")
    if max(h, w) > MAX_SIDE:
        raise FrameFormatError(FrameProblem.TOO_LARGE, f"{w}x{h}, at most {MAX_SIDE} px a side is accepted")
    image = _to_uint8(image)
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    return image if image.flags.c_contiguous else np.ascontiguousarray(image)


def _to_uint8(image: np.ndarray) -> np.ndarray:
    if image.dtype == np.uint8:
        return image
    if image.dtype == np.uint16:
        return (image >> 8).astype(np.uint8)
    if image.dtype.kind == "f":
        if not np.isfinite(image).all():
            raise FrameFormatError(FrameProblem.NOT_FINITE, _describe(image) + " with NaN or inf values")
        lo, hi = float(image.min()), float(image.max())
        if lo < 0.0 or hi > 255.0:
            raise FrameFormatError(FrameProblem.OUT_OF_RANGE, f"{_describe(image)} with values {lo:g}..{hi:g}, "
                                   "expected 0..1 or 0..255")
        scale = 255.0 if hi <= 1.0 else 1.0     # OpenCV's float images are 0..1
        return np.clip(np.rint(image * scale), 0, 255).astype(np.uint8)
    raise FrameFormatError(FrameProblem.BAD_DTYPE, _describe(image) + ", expected uint8, uint16 or float")
