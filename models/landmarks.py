"""Dense face landmarks (MediaPipe face_landmark, 468 points, converted to ONNX at install) and the
two measures the blink and open-mouth challenges need: eye aspect ratio and mouth opening.

The crop is MediaPipe's: a square 1.5x the face box around its centre, rotated upright by the
5-point roll, resized to 192x192 RGB in 0..1. Five landmarks cannot see an eyelid or the lips; these
468 can (upper/lower eyelid and inner-lip contours).

The eyes are read again by MediaPipe's eye-region model where it is installed (:class:`EyeLids`): the
mesh's own lid points sit inside the visible opening and move little when the lid shuts (a shut eye
read 64% of its open ratio on the mesh, 42% on the eye model; docs/face.md "Blink").
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from models.lips import RefinedLips
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
    eye: float          # eye aspect ratio, mean of both eyes: lid gap / eye width (open: mesh ~0.25, eye model ~0.32)
    mouth: float        # inner-lip gap / mouth width (~0-0.1 closed, > 0.4 wide open; refined lips where installed)
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


def _square_crop_matrix(centre: tuple[float, float], angle_deg: float, side: float, size: int) -> np.ndarray:
    """Frame -> crop: a square of ``side`` frame pixels around ``centre``, turned by ``angle_deg``,
    to ``size`` x ``size`` (MediaPipe's ROI, for the mesh and for each eye)."""
    m = cv2.getRotationMatrix2D(centre, angle_deg, size / side)
    m[0, 2] += size / 2 - centre[0]
    m[1, 2] += size / 2 - centre[1]
    return m


def _rgb_blob(crop_bgr: np.ndarray) -> np.ndarray:
    """The landmark models' input: 1x3xHxW RGB in 0..1."""
    return np.ascontiguousarray(crop_bgr[:, :, ::-1].transpose(2, 0, 1)[None], dtype=np.float32) / 255.0


def _to_frame(points: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Crop pixels back to frame pixels through the inverse of ``m``."""
    inv = cv2.invertAffineTransform(m)
    return points @ inv[:, :2].T + inv[:, 2]


# MediaPipe's eye ROI: a square of 2.3 corner-to-corner distances around the corners' midpoint,
# turned so the corners lie level, 64x64 RGB in 0..1; the model is trained on the eye that lies on
# the image's left (the subject's right), so the other eye's crop is mirrored.
EYE_SIZE = 64
EYE_CROP_SCALE = 2.3
# The eye model's first 16 of 71 points are the lid contour: 0 the outer corner, 1-7 the lower lid,
# 8 the inner corner, 9-15 the upper lid (MediaPipe's iris-to-face-mesh mapping: 33, 7, 163, 144,
# 145, 153, 154, 155, 133, 246, 161, 160, 159, 158, 157, 173 for the subject's right eye).
EYE_MODEL_CORNERS = (0, 8)
EYE_MODEL_LIDS = ((11, 3), (12, 4), (13, 5))        # upper / lower lid pairs across the middle of the eye


class EyeLids:
    """Lid gap / eye width from MediaPipe's eye-region model (``iris_landmark.tflite`` rebuilt as
    ONNX at install), one 64x64 crop per eye placed by the mesh's eye corners."""

    def __init__(self, model: bytes, threads: int = 1, runtime: str = "onnxruntime") -> None:
        self._runner = make_runner(model, threads, runtime)

    @staticmethod
    def crop_matrix(left: np.ndarray, right: np.ndarray) -> np.ndarray:
        """Frame -> crop: ``left`` and ``right`` (the corners as they should appear in the crop,
        before any mirroring) level across the middle."""
        centre = (left + right) / 2
        span = right - left
        return _square_crop_matrix((float(centre[0]), float(centre[1])), math.degrees(math.atan2(span[1], span[0])),
                                   EYE_CROP_SCALE * max(float(np.hypot(*span)), 1e-6), EYE_SIZE)

    def lids(self, frame_bgr: np.ndarray, outer: np.ndarray, inner: np.ndarray, mirror: bool) -> np.ndarray:
        """One eye's 16 lid-contour points in frame pixels (order: EYE_MODEL_CORNERS, EYE_MODEL_LIDS).
        ``mirror``: the eye on the image's right (the subject's left), whose outer corner lies on the
        right; mirrored, it looks like the eye the model knows."""
        m = self.crop_matrix(inner, outer) if mirror else self.crop_matrix(outer, inner)
        crop = cv2.warpAffine(frame_bgr, m, (EYE_SIZE, EYE_SIZE), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_REPLICATE)
        if mirror:
            crop = crop[:, ::-1]
        lids = self._runner.run(_rgb_blob(crop))[0].reshape(71, 3)[:16, :2].astype(np.float64)
        if mirror:
            lids[:, 0] = EYE_SIZE - lids[:, 0]          # MediaPipe's own flip back (x -> 64 - x)
        return _to_frame(lids, m)

    def eye_ratio(self, frame_bgr: np.ndarray, outer: np.ndarray, inner: np.ndarray, mirror: bool) -> float:
        """One eye's lid gap over its width."""
        lids = self.lids(frame_bgr, outer, inner, mirror)
        width = float(np.hypot(*(lids[EYE_MODEL_CORNERS[0]] - lids[EYE_MODEL_CORNERS[1]]))) or 1e-6
        gaps = [float(np.hypot(*(lids[a] - lids[b]))) for a, b in EYE_MODEL_LIDS]
        return sum(gaps) / (len(gaps) * width)

    def aspect_ratio(self, frame_bgr: np.ndarray, points: np.ndarray) -> float:
        """Mean of both eyes, placed by the mesh's eye corners (``points`` in frame pixels)."""
        right = self.eye_ratio(frame_bgr, points[RIGHT_EYE[0], :2], points[RIGHT_EYE[1], :2], mirror=False)
        left = self.eye_ratio(frame_bgr, points[LEFT_EYE[0], :2], points[LEFT_EYE[1], :2], mirror=True)
        return (right + left) / 2


def _eye_line_deg(points: np.ndarray) -> float:
    v = points[LEFT_EYE[0], :2] - points[RIGHT_EYE[0], :2]       # outer corners, image left to right
    return math.degrees(math.atan2(v[1], v[0]))


class DenseLandmarks:
    def __init__(self, model: bytes, threads: int = 1, runtime: str = "onnxruntime",
                 eyes: bytes | None = None, lips: tuple[bytes, bytes] | None = None) -> None:
        """``eyes``: the eye-region model; without it the blink is read on the mesh's own lids.
        ``lips``: the attention mesh's backbone and lips head (models/lips.py); without them the
        open mouth is read on the mesh's own lips."""
        self._runner = make_runner(model, threads, runtime)
        self.eyes = EyeLids(eyes, threads, runtime) if eyes is not None else None
        self.lips = RefinedLips(*lips, threads, runtime) if lips is not None else None

    def crop_matrix(self, face: Face, roll: float | None = None) -> np.ndarray:
        roll = pose_from_landmarks(face.landmarks).roll_deg if roll is None else roll
        return _square_crop_matrix(face.centre, roll, 1.5 * max(face.w, face.h), SIZE)

    def _crop(self, frame_bgr: np.ndarray, face: Face, roll: float | None) -> tuple[np.ndarray, np.ndarray]:
        """(frame -> crop matrix, the crop as the models' input: 1x3x192x192 RGB in 0..1)."""
        m = self.crop_matrix(face, roll)
        crop = cv2.warpAffine(frame_bgr, m, (SIZE, SIZE), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
        return m, _rgb_blob(crop)

    def points(self, frame_bgr: np.ndarray, face: Face, roll: float | None = None) -> tuple[np.ndarray, float]:
        """468x3 points in frame pixels (z in crop pixels) and the face-present probability.
        ``roll``: turn the crop upright by this many degrees (default: the 5-point roll)."""
        return self._points(*self._crop(frame_bgr, face, roll))

    def _points(self, m: np.ndarray, blob: np.ndarray) -> tuple[np.ndarray, float]:
        raw, flag = self._runner.run(blob)[:2]
        pts = raw.reshape(468, 3).astype(np.float64)
        pts[:, :2] = _to_frame(pts[:, :2], m)
        return pts, 1.0 / (1.0 + math.exp(-float(np.clip(flag.ravel()[0], -30, 30))))

    def roll(self, frame_bgr: np.ndarray, face: Face) -> float:
        """Head roll in degrees, from the dense eye corners on a crop turned upright by a first
        estimate. YuNet's 5 points at 320 px read a fraction of the true roll (a 30 degree tilt read
        1.5-18); one dense pass reads 55-90% of it, the second, on a near-upright crop, most of it."""
        first = _eye_line_deg(self.points(frame_bgr, face)[0])
        return _eye_line_deg(self.points(frame_bgr, face, first)[0])

    def lip_points(self, frame_bgr: np.ndarray, face: Face) -> np.ndarray | None:
        """The refined lips (80x2 in frame pixels, models.lips.LIPS order), None without the model."""
        if self.lips is None:
            return None
        m, blob = self._crop(frame_bgr, face, None)
        return _to_frame(self.lips.points(blob), m)

    def openness(self, frame_bgr: np.ndarray, face: Face) -> Openness:
        m, blob = self._crop(frame_bgr, face, None)
        pts, flag = self._points(m, blob)
        eye = self.eyes.aspect_ratio(frame_bgr, pts) if self.eyes is not None else eye_aspect_ratio(pts)
        mouth = self.lips.mouth_opening(blob) if self.lips is not None else mouth_opening(pts)
        return Openness(eye, mouth, flag, face_aspect(pts))
