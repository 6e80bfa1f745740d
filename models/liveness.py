"""Passive liveness: MiniFASNetV2 (crop scale 2.7) + MiniFASNetV1SE (crop scale 4.0), softmax averaged.

Pre-processing as in the weights' README: the face box scaled about its centre by
``min(scale, (H-1)/h, (W-1)/w)``, shifted (not shrunk) into the frame, cropped inclusive of the
right/bottom pixel, resized to 80x80 bilinear; BGR, float 0..255, NCHW. Index 1 = real.
"""

from __future__ import annotations

from concurrent.futures import Executor
from dataclasses import dataclass

import cv2
import numpy as np

from models.runtime import make_runner

INPUT_SIZE = 80
V2_SCALE = 2.7
V1SE_SCALE = 4.0


def crop_box(frame_w: int, frame_h: int, box: tuple[float, float, float, float], scale: float) -> tuple[int, int, int, int]:
    """(left, top, right, bottom), inclusive, as the original Silent-Face CropImage computes it."""
    x, y, bw, bh = box
    scale = min((frame_h - 1) / bh, (frame_w - 1) / bw, scale)
    new_w, new_h = bw * scale, bh * scale
    cx, cy = x + bw / 2, y + bh / 2
    left, top = cx - new_w / 2, cy - new_h / 2
    right, bottom = cx + new_w / 2, cy + new_h / 2
    if left < 0:
        right -= left
        left = 0
    if top < 0:
        bottom -= top
        top = 0
    if right > frame_w - 1:
        left -= right - frame_w + 1
        right = frame_w - 1
    if bottom > frame_h - 1:
        top -= bottom - frame_h + 1
        bottom = frame_h - 1
    return int(left), int(top), int(right), int(bottom)


def crop_input(frame_bgr: np.ndarray, box: tuple[float, float, float, float], scale: float) -> np.ndarray:
    """The 1x3x80x80 float32 network input for one face."""
    h, w = frame_bgr.shape[:2]
    left, top, right, bottom = crop_box(w, h, box, scale)
    patch = cv2.resize(frame_bgr[top:bottom + 1, left:right + 1], (INPUT_SIZE, INPUT_SIZE))
    return np.ascontiguousarray(patch.transpose(2, 0, 1)[None], dtype=np.float32)


@dataclass(frozen=True)
class LivenessScore:
    real: float              # fused P(real), 0..1
    v2: float                # MiniFASNetV2's P(real)
    v1se: float              # MiniFASNetV1SE's P(real)


class PassiveLiveness:
    def __init__(self, v2_model: bytes, v1se_model: bytes, threads: int = 1, runtime: str = "onnxruntime") -> None:
        # float32 in either runtime: the thresholds were calibrated on these scores
        self._v2 = make_runner(v2_model, threads, runtime)
        self._v1se = make_runner(v1se_model, threads, runtime)

    def probabilities(self, frame_bgr: np.ndarray, box: tuple[float, float, float, float],
                      helper: Executor | None = None) -> tuple[np.ndarray, np.ndarray]:
        """``helper``: run V2 there while V1SE runs on the caller's thread (both runtimes release the
        GIL): one core each."""
        x2, x1 = crop_input(frame_bgr, box, V2_SCALE), crop_input(frame_bgr, box, V1SE_SCALE)
        if helper is None:
            return self._v2.run(x2)[0][0], self._v1se.run(x1)[0][0]
        pending = helper.submit(self._v2.run, x2)
        p1 = self._v1se.run(x1)[0][0]
        return pending.result()[0][0], p1

    def score(self, frame_bgr: np.ndarray, box: tuple[float, float, float, float],
              helper: Executor | None = None) -> LivenessScore:
        # Whole-pixel boxes, as the original pipeline's detector produced them: the reference
        # outputs are reproduced with truncated YuNet boxes (README: scores move with the box).
        p2, p1 = self.probabilities(frame_bgr, tuple(float(int(v)) for v in box), helper)  # type: ignore[arg-type]
        fused = (p2 + p1) / 2
        return LivenessScore(float(fused[1]), float(p2[1]), float(p1[1]))
