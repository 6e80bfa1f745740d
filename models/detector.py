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
                 top_k: int = 50, max_side: int = 320) -> None:
        self._buffer = np.frombuffer(model, dtype=np.uint8)
        self._net = cv2.FaceDetectorYN.create("onnx", self._buffer, np.empty(0, np.uint8), (320, 320),
                                              score_threshold, nms_threshold, top_k)
        self._size = (320, 320)
        self.max_side = max_side           # full-frame detection: pass the frame's longer side or more
        self._lock = threading.Lock()   # one detector object is not re-entrant

    def detect(self, frame_bgr: np.ndarray, max_side: int | None = None) -> list[Face]:
        """Faces in ``frame_bgr`` (HxWx3 uint8), best score first."""
        h, w = frame_bgr.shape[:2]
        scale = min(1.0, (max_side or self.max_side) / max(h, w))
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

    def refine(self, frame_bgr: np.ndarray, face: Face, margin: float = 0.25, max_side: int = 640) -> Face:
        """Re-detect one face at full resolution in a crop around it, for precise landmarks (the
        embedding's alignment needs them; a 320 px detection is a few pixels off). Falls back to
        ``face`` when the crop shows none."""
        h, w = frame_bgr.shape[:2]
        x0, y0 = int(max(0, face.x - face.w * margin)), int(max(0, face.y - face.h * margin))
        x1, y1 = int(min(w, face.x + face.w * (1 + margin))), int(min(h, face.y + face.h * (1 + margin)))
        crop = frame_bgr[y0:y1, x0:x1]
        if crop.size == 0:
            return face
        found = self.detect(crop, max_side)
        if not found:
            return face
        cx, cy = face.centre
        best = min(found, key=lambda f: abs(f.centre[0] + x0 - cx) + abs(f.centre[1] + y0 - cy))
        return Face(best.x + x0, best.y + y0, best.w, best.h, best.score,
                    (best.landmarks + np.array([x0, y0], np.float32)).astype(np.float32))
