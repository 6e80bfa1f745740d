"""Plain result types shared by the face pipeline (no runtime objects, safe to pass across threads)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# YuNet's 5 landmarks, in its output order.
RIGHT_EYE, LEFT_EYE, NOSE, MOUTH_RIGHT, MOUTH_LEFT = range(5)


@dataclass(frozen=True)
class Face:
    """One detected face in frame pixels. ``landmarks``: 5x2 (right eye, left eye, nose tip,
    right and left mouth corners, as seen by the subject)."""

    x: float
    y: float
    w: float
    h: float
    score: float
    landmarks: np.ndarray

    @property
    def box(self) -> tuple[float, float, float, float]:
        return self.x, self.y, self.w, self.h

    @property
    def centre(self) -> tuple[float, float]:
        return self.x + self.w / 2, self.y + self.h / 2

    def as_yunet_row(self) -> np.ndarray:
        """The 15-float row cv2.FaceDetectorYN returns (for cv2.FaceRecognizerSF and tests)."""
        return np.array([self.x, self.y, self.w, self.h, *self.landmarks.reshape(-1), self.score], dtype=np.float32)

    @classmethod
    def from_yunet_row(cls, row: np.ndarray, scale: float = 1.0) -> Face:
        r = np.asarray(row, dtype=np.float32)
        return cls(float(r[0] * scale), float(r[1] * scale), float(r[2] * scale), float(r[3] * scale),
                   float(r[14]), (r[4:14].reshape(5, 2) * scale).astype(np.float32))
