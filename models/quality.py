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
    HEAD_TILTED = "head_tilted"       # roll past the limit (5 points per frame; dense landmarks per decision)


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
    min_sharpness: float = 60.0       # variance of the Laplacian on the 112 px face crop (defocus)
    min_detail_isotropy: float = 0.15  # fine detail in the weakest direction / the strongest: motion blur
    # Eye patches / cheeks after normalising the light to mid-grey (a gamma curve): below this, dark
    # lenses. Raw mean ratios fell to 0.20 for genuine faces in poor light; normalised medians of genuine
    # faces measured >= 0.295, drawn dark lenses <= 0.285 (docs/face.md, rates table).
    eye_dark_ratio: float = 0.25
    occlusion_texture_ratio: float = 0.15  # lower face this much flatter than the upper face: covered
    max_outside: float = 0.08         # the box may overhang the frame by this fraction of its size
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
    detail_isotropy: float = 1.0


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


def _median(p: np.ndarray) -> float:
    return float(np.median(p)) if p.size else 0.0


def _mean(p: np.ndarray) -> float:
    return float(p.mean()) if p.size else 0.0


def _texture(p: np.ndarray) -> float:
    return float(cv2.Laplacian(p, cv2.CV_32F).std()) if p.size >= 9 else 0.0


def assess(frame_bgr: np.ndarray, faces: list[Face], t: QualityThresholds = QualityThresholds()) -> QualityVerdict:
    """The first failing rule, in the order a person can fix them (or OK)."""
    verdict, _failed = evaluate(frame_bgr, faces, t)
    return verdict


def evaluate(frame_bgr: np.ndarray, faces: list[Face],
             t: QualityThresholds = QualityThresholds()) -> tuple[QualityVerdict, list[QualityReason]]:
    """The verdict and every rule the frame fails (for measuring each rule's refusal rate alone:
    bench/face_quality_rates.py). A face that is too far or off centre is not measured further."""
    counted = [f for f in faces if f.score >= t.count_score]
    if not counted:
        return QualityVerdict(QualityReason.NO_FACE), [QualityReason.NO_FACE]
    if len(counted) > 1:
        return (QualityVerdict(QualityReason.MULTIPLE_FACES, max(counted, key=lambda f: f.w), len(counted)),
                [QualityReason.MULTIPLE_FACES])
    face = counted[0]
    H, W = frame_bgr.shape[:2]
    failed: list[QualityReason] = []

    ratio = face.w / W
    cx, cy = face.centre
    offset = max(abs(cx - W / 2) / W, abs(cy - H / 2) / H)
    # YuNet's box includes forehead and chin: a face as large as a 4:3 frame allows overhangs it a
    # little (measured: 9% of genuine frames at 65% width were "off centre" with a strict box test).
    over_x, over_y = t.max_outside * face.w, t.max_outside * face.h
    outside = face.x < -over_x or face.y < -over_y or face.x + face.w > W + over_x or face.y + face.h > H + over_y \
        or bool((face.landmarks < 0).any() or (face.landmarks[:, 0] >= W).any() or (face.landmarks[:, 1] >= H).any())
    if ratio > t.max_face_ratio or face.h > H * (1 + 2 * t.max_outside):
        failed.append(QualityReason.TOO_CLOSE)      # taller than the frame: moving back is the fix
    if ratio < t.min_face_ratio or face.w < t.min_face_px:
        failed.append(QualityReason.TOO_FAR)
    if offset > t.max_centre_offset or outside:
        failed.append(QualityReason.OFF_CENTRE)
    if failed:
        return QualityVerdict(failed[0], face, 1, QualityMetrics(face_ratio=ratio, centre_offset=offset)), failed

    gray = cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2GRAY)
    x0, y0 = int(max(0, face.x)), int(max(0, face.y))
    region = gray[y0:int(min(H, face.y + face.h)), x0:int(min(W, face.x + face.w))]
    brightness = _mean(region)
    clipped = float((region >= 250).mean()) if region.size else 0.0
    crop = cv2.resize(region, (112, 112), interpolation=cv2.INTER_AREA) if region.size else region
    sharpness = _sharpness(crop)
    isotropy = _detail_isotropy(crop)
    if brightness < t.min_brightness:
        failed.append(QualityReason.TOO_DARK)
    if brightness > t.max_brightness or clipped > t.max_clipped:
        failed.append(QualityReason.TOO_BRIGHT)
    if sharpness < t.min_sharpness or isotropy < t.min_detail_isotropy:
        failed.append(QualityReason.BLURRED)      # "hold still": decided before any liveness score

    lm = face.landmarks
    eye_d = float(np.hypot(*(lm[LEFT_EYE] - lm[RIGHT_EYE]))) or 1.0
    half = eye_d * 0.18
    # The median of a patch as tall as a lens: dark lenses fill most of it even when the landmarks
    # slide off the eye (they do, on a lens), while a genuine eye's dark pupil and lashes do not.
    eyes = (_median(_patch(gray, *lm[RIGHT_EYE], half * 1.4)) + _median(_patch(gray, *lm[LEFT_EYE], half * 1.4))) / 2
    # cheeks: below each eye, level with the nose tip
    cheek_y = lm[NOSE][1]
    cheeks = (_mean(_patch(gray, lm[RIGHT_EYE][0], cheek_y, half)) + _mean(_patch(gray, lm[LEFT_EYE][0], cheek_y, half))) / 2
    eye_ratio = _light_normalised(eyes, brightness) / _light_normalised(cheeks, brightness) if cheeks > 1 else 1.0
    mouth = (lm[MOUTH_RIGHT] + lm[MOUTH_LEFT]) / 2
    lower = _texture(_patch(gray, (lm[NOSE][0] + mouth[0]) / 2, (lm[NOSE][1] + mouth[1]) / 2, eye_d * 0.3))
    upper = _texture(_patch(gray, (lm[RIGHT_EYE][0] + lm[LEFT_EYE][0]) / 2, (lm[RIGHT_EYE][1] + lm[LEFT_EYE][1]) / 2,
                            eye_d * 0.45))
    texture_ratio = lower / upper if upper > 1e-3 else 1.0
    pose = pose_from_landmarks(lm)
    m = QualityMetrics(ratio, offset, brightness, clipped, sharpness, eye_ratio, texture_ratio, pose, isotropy)
    if eye_ratio < t.eye_dark_ratio:
        failed.append(QualityReason.EYES_COVERED)
    if texture_ratio < t.occlusion_texture_ratio:
        failed.append(QualityReason.FACE_OCCLUDED)
    if abs(pose.yaw) > t.max_yaw or abs(pose.pitch) > t.max_pitch:
        failed.append(QualityReason.NOT_FRONTAL)
    if abs(pose.roll_deg) > t.max_roll_deg:
        failed.append(QualityReason.HEAD_TILTED)
    return QualityVerdict(failed[0] if failed else QualityReason.OK, face, 1, m), failed


def _sharpness(crop: np.ndarray) -> float:
    return float(cv2.Laplacian(crop, cv2.CV_64F).var()) if crop.size else 0.0


def _detail_isotropy(crop: np.ndarray) -> float:
    """Energy of the second derivative in the weakest of 4 directions over the strongest.

    Motion smears detail along one direction only: a 15 px motion blur left the Laplacian variance
    of genuine faces' range (it keeps the detail across the motion) but drops this to 0.03-0.29,
    where genuine faces, sharp or softly focused, measured 0.17 and above."""
    if crop.size < 64:
        return 1.0
    c = cv2.GaussianBlur(crop.astype(np.float32), (0, 0), 0.7)
    xx = cv2.Sobel(c, cv2.CV_32F, 2, 0, ksize=3)
    yy = cv2.Sobel(c, cv2.CV_32F, 0, 2, ksize=3)
    xy = cv2.Sobel(c, cv2.CV_32F, 1, 1, ksize=3)
    energies = []
    for ca, sa in ((1.0, 0.0), (0.7071, 0.7071), (0.0, 1.0), (-0.7071, 0.7071)):
        d = xx * ca * ca + 2 * xy * ca * sa + yy * sa * sa
        energies.append(float((d * d).mean()))
    return min(energies) / max(energies) if max(energies) > 1e-6 else 1.0


def _light_normalised(grey: float, face_mean: float) -> float:
    """``grey`` after the gamma curve that takes the face's mean to mid-grey: poor light darkens
    eye sockets more than cheeks, dark lenses stay dark in any light."""
    gamma = np.log(0.5) / np.log(min(max(face_mean, 1.0), 254.0) / 255.0)
    return float((max(grey, 0.5) / 255.0) ** gamma)
