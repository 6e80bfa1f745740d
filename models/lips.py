"""The lips as MediaPipe's attention mesh refines them (``face_landmark_with_attention.tflite``), for
the open-mouth challenge.

The base mesh's inner lips do not follow a jaw that drops below a smile's teeth (the synthesised
open jaw read on 155 of 174 frames, 58 of 74 smiles; docs/face.md "Open mouth"); the attention
model's lips sub-network does (173 of 174, 73 of 74). That model holds three custom TFLite
operators between two ordinary parts, so it is installed as two ONNX graphs
(models/tflite_onnx.py, segments) with the operators done here in numpy, as MediaPipe defines them
(``mediapipe/util/tflite/operations``, Apache-2.0; version 2 of each, as the file uses):

* ``Landmarks2TransformMatrix``: from the mesh (scaled to the 48x48 feature map) a 16x16 crop
  around the 80 lip points, turned along the mouth corners (61 -> 291), 1.5x their extent;
* ``TransformTensorBilinear``: that crop sampled from the feature map (bilinear, zero outside,
  pixel centres aligned);
* ``TransformLandmarks``: the sub-network's 80 points back through the same matrix, whose
  translation the file scales by 4 (a constant MUL) to reach the 192 px crop.

Checked against mediapipe 0.10.14's own FaceMesh(refine_landmarks=True) on 8 photographs: refined
lips a median 0.6-2.7% of the mouth's width apart (our crop comes from YuNet, theirs from its own
detector: the two base meshes are 2-8% apart on the same photographs).
"""

from __future__ import annotations

import math

import numpy as np

from models.runtime import make_runner

# The attention model's lip points in its own order: which base-mesh point each refines.
LIPS = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 185, 40, 39, 37, 0, 267, 269, 270, 409,
        78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308, 191, 80, 81, 82, 13, 312, 311, 310, 415,
        76, 77, 90, 180, 85, 16, 315, 404, 320, 307, 306, 184, 74, 73, 72, 11, 302, 303, 304, 408,
        62, 96, 89, 179, 86, 15, 316, 403, 319, 325, 292, 183, 42, 41, 38, 12, 268, 271, 272, 407)
MOUTH_CORNERS = (61, 291)        # outer corners: the crop's axis
INNER = tuple(LIPS.index(i) for i in (13, 14, 78, 308))   # upper / lower inner lip, inner corners
CROP = 16                        # the sub-network's input, 16x16x32
CROP_SCALE = 1.5                 # the crop spans 1.5x the lip points' extent
FEATURE_SCALE = 0.25             # mesh (192 px) -> feature map (48 px): the file's MUL constant
LANDMARK_SHIFT_SCALE = 4.0       # the file's MUL on the matrix' translation for TransformLandmarks


def _rotation(angle: float) -> np.ndarray:
    return np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])


def crop_transform(mesh: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(A, t): lips-crop pixel p -> feature-map pixel A @ p + t (Landmarks2TransformMatrix v2)."""
    points = mesh[:, :2] * FEATURE_SCALE
    corners = points[MOUTH_CORNERS[1]] - points[MOUTH_CORNERS[0]]
    angle = math.atan2(corners[1], corners[0])
    level = points[list(LIPS)] @ _rotation(-angle).T        # the lips turned level
    low, high = level.min(0), level.max(0)
    centre = _rotation(angle) @ ((low + high) / 2)
    a = _rotation(angle) @ np.diag(CROP_SCALE * (high - low) / CROP)
    return a, centre - a @ np.array([CROP / 2, CROP / 2])


def sample(features: np.ndarray, a: np.ndarray, t: np.ndarray) -> np.ndarray:
    """The CROPxCROP crop of ``features`` (C, H, W) through (A, t) (TransformTensorBilinear v2)."""
    height, width = features.shape[1:]
    shift = t + a @ np.array([0.5, 0.5]) - 0.5                # pixel centres aligned
    oy, ox = np.mgrid[0:CROP, 0:CROP].astype(np.float64)
    x = a[0, 0] * ox + a[0, 1] * oy + shift[0]
    y = a[1, 0] * ox + a[1, 1] * oy + shift[1]
    x, y = np.where(np.isfinite(x), x, -1.0), np.where(np.isfinite(y), y, -1.0)   # a broken mesh: zeros
    inside = (x >= 0) & (x <= width - 1) & (y >= 0) & (y <= height - 1)
    x0, y0 = np.floor(x).astype(int), np.floor(y).astype(int)
    fx, fy = x - x0, y - y0

    def at(row: np.ndarray, col: np.ndarray) -> np.ndarray:
        valid = inside & (row < height) & (col < width)
        return features[:, np.clip(row, 0, height - 1), np.clip(col, 0, width - 1)] * valid

    upper = (1 - fx) * at(y0, x0) + fx * at(y0, x0 + 1)
    lower = (1 - fx) * at(y0 + 1, x0) + fx * at(y0 + 1, x0 + 1)
    return ((1 - fy) * upper + fy * lower).astype(np.float32)


class RefinedLips:
    """The attention mesh's backbone (``backbone``: 192x192 crop -> mesh and the 48x48 feature map)
    and its lips head (``head``: the 16x16 crop -> 80 points)."""

    def __init__(self, backbone: bytes, head: bytes, threads: int = 1, runtime: str = "onnxruntime") -> None:
        self._backbone = make_runner(backbone, threads, runtime)
        self._head = make_runner(head, threads, runtime)

    def points(self, blob: np.ndarray) -> np.ndarray:
        """80x2 lip points in the 192 px crop that ``blob`` (1x3x192x192 RGB 0..1) holds, in LIPS order."""
        mesh, _, features = self._backbone.run(blob)[:3]
        a, t = crop_transform(mesh.reshape(468, 3))
        lips = self._head.run(sample(features[0], a, t)[None])[0].reshape(80, 2).astype(np.float64)
        return lips @ a.T + LANDMARK_SHIFT_SCALE * t

    def mouth_opening(self, blob: np.ndarray) -> float:
        """Inner-lip gap over inner-lip width (the crop is a similarity of the frame: the ratio is the frame's)."""
        p = self.points(blob)
        upper, lower, left, right = (p[i] for i in INNER)
        return float(np.hypot(*(upper - lower)) / (np.hypot(*(left - right)) or 1e-6))
