"""The quality gate's verdicts on versions of the real images that the tests generate."""

from __future__ import annotations

import cv2
import numpy as np

from models.quality import QualityReason, assess


def _verdict(pipeline, image):
    return assess(image, pipeline.detector.detect(image), pipeline.quality)


def _centred(image: np.ndarray, pipeline) -> np.ndarray:
    """image_T1 with its face moved to the frame centre (the good baseline)."""
    face = max(pipeline.detector.detect(image), key=lambda f: f.w)
    h, w = image.shape[:2]
    cx, cy = face.centre
    m = np.float32([[1, 0, w / 2 - cx], [0, 1, h / 2 - cy]])
    return cv2.warpAffine(image, m, (w, h), borderMode=cv2.BORDER_REFLECT)


def test_good_frame_passes(pipeline, images) -> None:
    v = _verdict(pipeline, _centred(images["image_T1"], pipeline))
    assert v.reason is QualityReason.OK, v.metrics
    assert v.face is not None


def test_generated_defects_get_the_right_reason(pipeline, images) -> None:
    base = _centred(images["image_T1"], pipeline)
    h, w = base.shape[:2]
    face = max(pipeline.detector.detect(base), key=lambda f: f.w)
    cases = {
        QualityReason.TOO_DARK: (base * 0.25).astype(np.uint8),
        QualityReason.TOO_BRIGHT: cv2.convertScaleAbs(base, alpha=1.0, beta=140),
        QualityReason.BLURRED: cv2.GaussianBlur(base, (0, 0), 3.5),
        # shifted: the face moved towards a corner
        QualityReason.OFF_CENTRE: cv2.warpAffine(base, np.float32([[1, 0, -w * 0.3], [0, 1, -h * 0.2]]), (w, h)),
        # a small face in a big grey frame: stepped back
        QualityReason.TOO_FAR: cv2.copyMakeBorder(cv2.resize(base, (w // 3, h // 3)), h // 3, h // 3, w // 3, w // 3,
                                                   cv2.BORDER_CONSTANT, value=(128, 128, 128)),
        # cropped around the face and enlarged: leaning into the camera
        QualityReason.TOO_CLOSE: cv2.resize(base[int(face.y - face.h * 0.1):int(face.y + face.h * 1.05),
                                                 int(face.x - face.w * 0.05):int(face.x + face.w * 1.05)], (w, h)),
        QualityReason.NO_FACE: np.full_like(base, 120),
        QualityReason.MULTIPLE_FACES: images["two_people"],
    }
    for expected, image in cases.items():
        v = _verdict(pipeline, image)
        assert v.reason is expected, (expected, v.reason, v.metrics)


def test_covered_eyes_and_lower_face(pipeline, images) -> None:
    base = _centred(images["image_T1"], pipeline)
    face = max(pipeline.detector.detect(base), key=lambda f: f.w)
    lm = face.landmarks
    eye_d = float(np.hypot(*(lm[1] - lm[0])))
    sunglasses = base.copy()
    for eye in lm[:2]:
        cv2.ellipse(sunglasses, (int(eye[0]), int(eye[1])), (int(eye_d * 0.42), int(eye_d * 0.28)), 0, 0, 360,
                    (20, 20, 20), -1)
    v = _verdict(pipeline, sunglasses)
    assert v.reason is QualityReason.EYES_COVERED, (v.reason, v.metrics)

    masked = base.copy()
    top = int(lm[2][1] - eye_d * 0.3)
    cv2.rectangle(masked, (int(face.x + face.w * 0.1), top), (int(face.x + face.w * 0.9), int(face.y + face.h * 1.05)),
                  (200, 170, 120), -1)
    v = _verdict(pipeline, masked)
    assert v.reason in (QualityReason.FACE_OCCLUDED, QualityReason.NO_FACE), (v.reason, v.metrics)


def test_turned_head_is_not_frontal(pipeline, images) -> None:
    # A good frame whose detected landmarks are moved as a turned or tilted head moves them
    # (nose off the eye midline; eye line rotated): the gate must ask to look straight.
    import dataclasses

    base = _centred(images["image_T1"], pipeline)
    face = max(pipeline.detector.detect(base), key=lambda f: f.w)
    lm = face.landmarks.copy()
    eye_d = float(np.hypot(*(lm[1] - lm[0])))
    turned = lm.copy()
    turned[2, 0] += 0.45 * eye_d
    v = assess(base, [dataclasses.replace(face, landmarks=turned)], pipeline.quality)
    assert v.reason is QualityReason.NOT_FRONTAL and abs(v.metrics.pose.yaw) > 0.22, v.metrics
    centre = lm.mean(axis=0)
    rot = cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), 35, 1.0)
    tilted = (np.c_[lm, np.ones(5)] @ rot.T).astype(np.float32)
    v = assess(base, [dataclasses.replace(face, landmarks=tilted)], pipeline.quality)
    assert v.reason is QualityReason.HEAD_TILTED and abs(v.metrics.pose.roll_deg) > 20, v.metrics
