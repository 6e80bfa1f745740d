"""The quality gate: is this frame good enough to decide on, and if not, what should the person do?

Each failing check gives one :class:`QualityReason` (the first that applies, in the order a person
can fix them: get in frame, alone, at the right distance, centred, lit, still, uncovered, facing
the camera). kiosk/messages/face.py turns each reason into a spoken and written sentence.
Thresholds are in :class:`QualityThresholds`; the defaults suit a 640x480 kiosk camera at 40-70 cm.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import cv2
import numpy as np

from models.pose import Pose, pose_from_landmarks
from models.types import LEFT_EYE, MOUTH_LEFT, MOUTH_RIGHT, NOSE, RIGHT_EYE, Face


class QualityReason(StrEnum):
    OK = "ok"
    NO_FACE = "no_face"
    MULTIPLE_FACES = "multiple_faces"
    TOO_FAR = "too_far"
    TOO_CLOSE = "too_close"
    OFF_CENTRE = "off_centre"
    TOO_DARK = "too_dark"
    TOO_BRIGHT = "too_bright"
    BLURRED = "blurred"
    EYES_COVERED = "eyes_covered"
    FACE_OCCLUDED = "face_occluded"
    NOT_FRONTAL = "not_frontal"


@dataclass(frozen=True)
class QualityThresholds:
    count_score: float = 0.8          # detections below this do not count as "another person"
    min_face_ratio: float = 0.18      # face width / frame width below this: too far
    min_face_px: int = 80             # ... or fewer pixels than this across the face
    max_face_ratio: float = 0.70      # face width / frame width above this: too close
    max_centre_offset: float = 0.22   # face centre off the frame centre, as a fraction of width/height
    min_brightness: float = 70.0      # mean grey level of the face (0-255)
    max_brightness: float = 200.0
    max_clipped: float = 0.25         # fraction of face pixels at 250+ (blown out)
    min_sharpness: float = 60.0       # variance of the Laplacian on the 112 px face crop
    eye_dark_ratio: float = 0.45      # eye patches this much darker than the cheeks: covered
    occlusion_texture_ratio: float = 0.30  # lower face this much flatter than the upper face: covered
    max_yaw: float = 0.22
    max_pitch: float = 0.20
    max_roll_deg: float = 20.0


@dataclass(frozen=True)
class QualityMetrics:
    face_ratio: float = 0.0
    centre_offset: float = 0.0
    brightness: float = 0.0
    clipped: float = 0.0
    sharpness: float = 0.0
    eye_ratio: float = 1.0
    texture_ratio: float = 1.0
    pose: Pose | None = None


@dataclass(frozen=True)
class QualityVerdict:
    reason: QualityReason
    face: Face | None = None                  # the face to use (the largest counted one)
    faces: int = 0
    metrics: QualityMetrics = field(default_factory=QualityMetrics)

    @property
    def ok(self) -> bool:
        return self.reason is QualityReason.OK


def _patch(gray: np.ndarray, cx: float, cy: float, half: float) -> np.ndarray:
    h, w = gray.shape
    x0, x1 = int(max(0, cx - half)), int(min(w, cx + half))
    y0, y1 = int(max(0, cy - half)), int(min(h, cy + half))
    return gray[y0:y1, x0:x1]


def _mean(p: np.ndarray) -> float:
    return float(p.mean()) if p.size else 0.0


def _texture(p: np.ndarray) -> float:
    return float(cv2.Laplacian(p, cv2.CV_32F).std()) if p.size >= 9 else 0.0


def assess(frame_bgr: np.ndarray, faces: list[Face], t: QualityThresholds = QualityThresholds()) -> QualityVerdict:
    counted = [f for f in faces if f.score >= t.count_score]
    if not counted:
        return QualityVerdict(QualityReason.NO_FACE)
    if len(counted) > 1:
        return QualityVerdict(QualityReason.MULTIPLE_FACES, max(counted, key=lambda f: f.w), len(counted))
    face = counted[0]
    H, W = frame_bgr.shape[:2]

    def verdict(reason: QualityReason, metrics: QualityMetrics) -> QualityVerdict:
        return QualityVerdict(reason, face, 1, metrics)

    ratio = face.w / W
    cx, cy = face.centre
    offset = max(abs(cx - W / 2) / W, abs(cy - H / 2) / H)
    outside = face.x < 0 or face.y < 0 or face.x + face.w > W or face.y + face.h > H
    m = QualityMetrics(face_ratio=ratio, centre_offset=offset)
    if ratio > t.max_face_ratio:
        return verdict(QualityReason.TOO_CLOSE, m)
    if ratio < t.min_face_ratio or face.w < t.min_face_px:
        return verdict(QualityReason.TOO_FAR, m)
    if offset > t.max_centre_offset or outside:
        return verdict(QualityReason.OFF_CENTRE, m)

    gray = cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2GRAY)
    x0, y0 = int(max(0, face.x)), int(max(0, face.y))
    region = gray[y0:int(min(H, face.y + face.h)), x0:int(min(W, face.x + face.w))]
    brightness = _mean(region)
    clipped = float((region >= 250).mean()) if region.size else 0.0
    crop = cv2.resize(region, (112, 112), interpolation=cv2.INTER_AREA) if region.size else region
    sharpness = float(cv2.Laplacian(crop, cv2.CV_64F).var()) if crop.size else 0.0
    m = QualityMetrics(ratio, offset, brightness, clipped, sharpness)
    if brightness < t.min_brightness:
        return verdict(QualityReason.TOO_DARK, m)
    if brightness > t.max_brightness or clipped > t.max_clipped:
        return verdict(QualityReason.TOO_BRIGHT, m)
    if sharpness < t.min_sharpness:
        return verdict(QualityReason.BLURRED, m)

    lm = face.landmarks
    eye_d = float(np.hypot(*(lm[LEFT_EYE] - lm[RIGHT_EYE]))) or 1.0
    half = eye_d * 0.18
    eyes = (_mean(_patch(gray, *lm[RIGHT_EYE], half)) + _mean(_patch(gray, *lm[LEFT_EYE], half))) / 2
    # cheeks: below each eye, level with the nose tip
    cheek_y = lm[NOSE][1]
    cheeks = (_mean(_patch(gray, lm[RIGHT_EYE][0], cheek_y, half)) + _mean(_patch(gray, lm[LEFT_EYE][0], cheek_y, half))) / 2
    eye_ratio = eyes / cheeks if cheeks > 1 else 1.0
    mouth = (lm[MOUTH_RIGHT] + lm[MOUTH_LEFT]) / 2
    lower = _texture(_patch(gray, (lm[NOSE][0] + mouth[0]) / 2, (lm[NOSE][1] + mouth[1]) / 2, eye_d * 0.3))
    upper = _texture(_patch(gray, (lm[RIGHT_EYE][0] + lm[LEFT_EYE][0]) / 2, (lm[RIGHT_EYE][1] + lm[LEFT_EYE][1]) / 2,
                            eye_d * 0.45))
    texture_ratio = lower / upper if upper > 1e-3 else 1.0
    pose = pose_from_landmarks(lm)
    m = QualityMetrics(ratio, offset, brightness, clipped, sharpness, eye_ratio, texture_ratio, pose)
    if eye_ratio < t.eye_dark_ratio:
        return verdict(QualityReason.EYES_COVERED, m)
    if texture_ratio < t.occlusion_texture_ratio:
        return verdict(QualityReason.FACE_OCCLUDED, m)
    if abs(pose.yaw) > t.max_yaw or abs(pose.pitch) > t.max_pitch or abs(pose.roll_deg) > t.max_roll_deg:
        return verdict(QualityReason.NOT_FRONTAL, m)
    return verdict(QualityReason.OK, m)
