"""YuNet's output decoding, as OpenCV's ``FaceDetectorYN`` does it (objdetect/src/face_detect.cpp,
Apache-2.0), for running the network in another runtime (models/runtime.py).

The network sees the BGR image (float 0..255) padded with zeros on the right and bottom to a multiple
of 32. Per stride s in (8, 16, 32) and grid cell (row r, column c): score = sqrt(clip(cls) *
clip(obj)); centre = ((c, r) + bbox[:2]) * s, size = exp(bbox[2:]) * s; landmarks = ((c, r) +
kps) * s. Then NMS on the boxes truncated to whole pixels, as OpenCV's Rect2i does.
"""

from __future__ import annotations

import cv2
import numpy as np

STRIDES = (8, 16, 32)
DIVISOR = 32


def padded_size(width: int, height: int) -> tuple[int, int]:
    return (width - 1) // DIVISOR * DIVISOR + DIVISOR, (height - 1) // DIVISOR * DIVISOR + DIVISOR


def blob(image_bgr: np.ndarray, pad_w: int, pad_h: int) -> np.ndarray:
    """1x3xHxW float32, the image at the top left, zeros elsewhere (cv2.copyMakeBorder + blobFromImage)."""
    h, w = image_bgr.shape[:2]
    out = np.zeros((1, 3, pad_h, pad_w), np.float32)
    out[0, :, :h, :w] = image_bgr.transpose(2, 0, 1)
    return out


def decode(outputs: list[np.ndarray], pad_w: int, pad_h: int, score_threshold: float, nms_threshold: float,
           top_k: int) -> np.ndarray:
    """Nx15 rows (x, y, w, h, 5 landmarks, score), best first. ``outputs`` in the graph's order:
    cls_8/16/32, obj_8/16/32, bbox_8/16/32, kps_8/16/32."""
    rows = []
    for i, stride in enumerate(STRIDES):
        cols, nrows = pad_w // stride, pad_h // stride
        cls = np.clip(outputs[i].reshape(-1), 0.0, 1.0)
        obj = np.clip(outputs[i + 3].reshape(-1), 0.0, 1.0)
        score = np.sqrt(cls * obj)
        keep = np.flatnonzero(score >= score_threshold)
        if keep.size == 0:
            continue
        bbox = outputs[i + 6].reshape(-1, 4)[keep]
        kps = outputs[i + 9].reshape(-1, 10)[keep]
        grid = np.stack([keep % cols, keep // cols], axis=1).astype(np.float32)
        assert nrows * cols == cls.size, "YuNet output does not match the input size"
        wh = np.exp(bbox[:, 2:]) * stride
        xy = (grid + bbox[:, :2]) * stride - wh / 2
        marks = (kps.reshape(-1, 5, 2) + grid[:, None, :]) * stride
        rows.append(np.concatenate([xy, wh, marks.reshape(-1, 10), score[keep, None]], axis=1))
    if not rows:
        return np.empty((0, 15), np.float32)
    faces = np.concatenate(rows).astype(np.float32)
    if len(faces) > 1:
        boxes = np.trunc(faces[:, :4]).astype(np.int32).tolist()
        keep_idx = cv2.dnn.NMSBoxes(boxes, faces[:, 14].tolist(), score_threshold, nms_threshold, 1.0, top_k)
        faces = faces[np.asarray(keep_idx, dtype=np.int64).reshape(-1)]
    return faces
