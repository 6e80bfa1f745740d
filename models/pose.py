"""Head pose cues from YuNet's 5 landmarks (eyes, nose tip, mouth corners).

What 5 points can tell: yaw (nose off the eye midline), pitch (nose height between the eye and
mouth lines), roll (eye-line angle), face scale. What they cannot: blinks (an eye is one point, its
lid is invisible to it) and an open mouth (the corners barely move when the jaw drops), so the
active challenge uses turns and nods only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from models.types import LEFT_EYE, MOUTH_LEFT, MOUTH_RIGHT, NOSE, RIGHT_EYE

# Neutral pitch ratio (nose tip ~58% of the way from the eye line to the mouth line, frontal face).
NEUTRAL_PITCH = 0.58


@dataclass(frozen=True)
class Pose:
    yaw: float        # (nose x - eye-mid x) / eye distance; + = image right. ~0 frontal, |0.3| a clear turn
    pitch: float      # (nose y - eye line) / (mouth line - eye line) - NEUTRAL_PITCH; + = chin down
    roll_deg: float   # eye-line angle, degrees
    eye_distance: float

    @property
    def frontal_error(self) -> float:
        return max(abs(self.yaw), abs(self.pitch))


def pose_from_landmarks(landmarks: np.ndarray) -> Pose:
    pts = np.asarray(landmarks, dtype=np.float64).reshape(5, 2)
    right_eye, left_eye = pts[RIGHT_EYE], pts[LEFT_EYE]
    eye_vec = left_eye - right_eye
    eye_dist = float(np.hypot(*eye_vec)) or 1e-6
    roll = math.degrees(math.atan2(eye_vec[1], eye_vec[0]))
    # Measure in the face's own frame (undo roll) so a tilted head does not read as a turn.
    c, s = math.cos(-math.radians(roll)), math.sin(-math.radians(roll))
    rot = np.array([[c, -s], [s, c]])
    eye_mid = (right_eye + left_eye) / 2
    local = (pts - eye_mid) @ rot.T
    mouth_y = (local[MOUTH_RIGHT, 1] + local[MOUTH_LEFT, 1]) / 2
    yaw = local[NOSE, 0] / eye_dist
    pitch = (local[NOSE, 1] / mouth_y if mouth_y > 1e-6 else 1.0) - NEUTRAL_PITCH
    return Pose(float(yaw), float(pitch), float(roll), eye_dist)
