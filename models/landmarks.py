"""Dense face landmarks (MediaPipe face_landmark, 468 points, converted to ONNX at install) and the
two measures the blink and open-mouth challenges need: eye aspect ratio and mouth opening.

The crop is MediaPipe's: a square 1.5x the face box around its centre, rotated upright by the
5-point roll, resized to 192x192 RGB in 0..1. Five landmarks cannot see an eyelid or the lips; these
468 can (upper/lower eyelid and inner-lip contours).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from models.pose import pose_from_landmarks
from models.runtime import make_runner
from models.types import Face

SIZE = 192
# MediaPipe face-mesh indices (canonical topology): per eye the corners and two lid pairs.
RIGHT_EYE = (33, 133, (160, 144), (158, 153))      # the subject's right eye: outer, inner, lid pairs
LEFT_EYE = (263, 362, (385, 380), (387, 373))
MOUTH_CORNERS = (78, 308)                           # inner-lip corners
LIPS_INNER = (13, 14)                               # upper and lower inner lip, centre
FOREHEAD_TO_NOSE_TIP = (10, 1)                      # far from the lids and the jaw (face_aspect)
EYE_OUTER_CORNERS = (33, 263)


@dataclass(frozen=True)
class Openness:
    eye: float          # eye aspect ratio, mean of both eyes: lid gap / eye width (~0.25-0.35 open, < 0.15 closed)
    mouth: float        # inner-lip gap / mouth width (~0-0.1 closed, > 0.4 wide open)
    face_flag: float    # the model's face-present probability
    aspect: float = 0.0  # forehead-to-nose-tip / outer-eye-corner distance: a blink or a jaw barely moves
    #                      it, a flat photo tilted or turned in the hand squeezes one axis (face_aspect)


def _dist(p: np.ndarray, a: int, b: int) -> float:
    return float(np.hypot(*(p[a, :2] - p[b, :2])))


def eye_aspect_ratio(points: np.ndarray) -> float:
    ratios = []
    for outer, inner, lid1, lid2 in (RIGHT_EYE, LEFT_EYE):
        width = _dist(points, outer, inner) or 1e-6
        ratios.append((_dist(points, *lid1) + _dist(points, *lid2)) / (2 * width))
    return float(np.mean(ratios))


def mouth_opening(points: np.ndarray) -> float:
    return _dist(points, *LIPS_INNER) / (_dist(points, *MOUTH_CORNERS) or 1e-6)


def face_aspect(points: np.ndarray) -> float:
    """Vertical over horizontal extent of rigid parts of the face. A real blink or an open mouth
    barely moves it (synthesised on 27 faces: 0.93-1.05 of rest); a printed photo tilted back by 40
    degrees shrinks every vertical distance, the lid gap included, by about cos 40 = 0.77, which
    reads as closed eyes (models/challenge.py refuses to read such a frame)."""
    return _dist(points, *FOREHEAD_TO_NOSE_TIP) / (_dist(points, *EYE_OUTER_CORNERS) or 1e-6)


def _eye_line_deg(points: np.ndarray) -> float:
    v = points[LEFT_EYE[0], :2] - points[RIGHT_EYE[0], :2]       # outer corners, image left to right
    return math.degrees(math.atan2(v[1], v[0]))


class DenseLandmarks:
    def __init__(self, model: bytes, threads: int = 1, runtime: str = "onnxruntime") -> None:
        self._runner = make_runner(model, threads, runtime)

    def crop_matrix(self, face: Face, roll: float | None = None) -> np.ndarray:
        cx, cy = face.centre
        side = 1.5 * max(face.w, face.h)
        roll = pose_from_landmarks(face.landmarks).roll_deg if roll is None else roll
        m = cv2.getRotationMatrix2D((cx, cy), roll, SIZE / side)
        m[0, 2] += SIZE / 2 - cx
        m[1, 2] += SIZE / 2 - cy
        return m

    def points(self, frame_bgr: np.ndarray, face: Face, roll: float | None = None) -> tuple[np.ndarray, float]:
        """468x3 points in frame pixels (z in crop pixels) and the face-present probability.
        ``roll``: turn the crop upright by this many degrees (default: the 5-point roll)."""
        m = self.crop_matrix(face, roll)
        crop = cv2.warpAffine(frame_bgr, m, (SIZE, SIZE), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
        blob = np.ascontiguousarray(crop[:, :, ::-1].transpose(2, 0, 1)[None], dtype=np.float32) / 255.0
        raw, flag = self._runner.run(blob)[:2]
        pts = raw.reshape(468, 3).astype(np.float64)
        inv = cv2.invertAffineTransform(m)
        pts[:, :2] = pts[:, :2] @ inv[:, :2].T + inv[:, 2]
        return pts, 1.0 / (1.0 + math.exp(-float(np.clip(flag.ravel()[0], -30, 30))))

    def roll(self, frame_bgr: np.ndarray, face: Face) -> float:
        """Head roll in degrees, from the dense eye corners on a crop turned upright by a first
        estimate. YuNet's 5 points at 320 px read a fraction of the true roll (a 30 degree tilt read
        1.5-18); one dense pass reads 55-90% of it, the second, on a near-upright crop, most of it."""
        first = _eye_line_deg(self.points(frame_bgr, face)[0])
        return _eye_line_deg(self.points(frame_bgr, face, first)[0])

    def openness(self, frame_bgr: np.ndarray, face: Face) -> Openness:
        pts, flag = self.points(frame_bgr, face)
        return Openness(eye_aspect_ratio(pts), mouth_opening(pts), flag, face_aspect(pts))
