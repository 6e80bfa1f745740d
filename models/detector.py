"""Face detection with YuNet (2023mar, weights dequantized at install) through cv2.FaceDetectorYN.

OpenCV's own YuNet wrapper is used because the liveness reference outputs were measured with its
boxes, and it decodes the anchor-free heads and runs NMS for any input size. The network runs on a
frame scaled so its longer side is at most ``max_side`` pixels (a kiosk face is large; a 320 px
input costs a quarter of a 640 px one); boxes come back in full-frame pixels.
"""

from __future__ import annotations

import threading

import cv2
import numpy as np

from models.types import Face


class FaceDetector:
    def __init__(self, model: bytes, score_threshold: float = 0.6, nms_threshold: float = 0.3,
                 top_k: int = 50, max_side: int = 640) -> None:
        self._buffer = np.frombuffer(model, dtype=np.uint8)
        self._net = cv2.FaceDetectorYN.create("onnx", self._buffer, np.empty(0, np.uint8), (320, 320),
                                              score_threshold, nms_threshold, top_k)
        self._size = (320, 320)
        self.max_side = max_side
        self._lock = threading.Lock()   # one detector object is not re-entrant

    def detect(self, frame_bgr: np.ndarray) -> list[Face]:
        """Faces in ``frame_bgr`` (HxWx3 uint8), best score first."""
        h, w = frame_bgr.shape[:2]
        scale = min(1.0, self.max_side / max(h, w))
        image = frame_bgr if scale == 1.0 else cv2.resize(
            frame_bgr, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
        size = (image.shape[1], image.shape[0])
        with self._lock:
            if size != self._size:
                self._net.setInputSize(size)
                self._size = size
            _, rows = self._net.detect(image)
        if rows is None:
            return []
        faces = [Face.from_yunet_row(r, 1.0 / scale) for r in rows]
        return sorted(faces, key=lambda f: -f.score)
