"""Alignment + SFace embedding (onnxruntime) and 1:1 cosine matching.

SFace runs in OpenVINO (bfloat16 where the CPU has it) or onnxruntime (models/runtime.py) rather
than cv2.FaceRecognizerSF so that, like the liveness models, it gets its own small thread count with
no spinning (cv2.dnn's thread pool is process-wide), and so one verified byte buffer feeds one runtime. The alignment is OpenCV's ``alignCrop``: a similarity
transform (Umeyama, no reflection) from YuNet's 5 landmarks to SFace's 112x112 template; a test
checks it against cv2.FaceRecognizerSF on the real images.
"""

from __future__ import annotations

import cv2
import numpy as np

from models.runtime import make_runner
from models.types import Face

# ArcFace/SFace 112x112 landmark template (OpenCV face_recognize.cpp).
TEMPLATE = np.array([[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366],
                     [41.5493, 92.3655], [70.7299, 92.2041]], dtype=np.float64)
SIZE = 112


def similarity_transform(src: np.ndarray, dst: np.ndarray = TEMPLATE) -> np.ndarray:
    """2x3 matrix of the least-squares similarity mapping ``src`` points onto ``dst`` (Umeyama)."""
    src = np.asarray(src, dtype=np.float64)
    src_mean, dst_mean = src.mean(0), dst.mean(0)
    sc, dc = src - src_mean, dst - dst_mean
    cov = dc.T @ sc / len(src)
    u, s, vt = np.linalg.svd(cov)
    d = np.ones(2)
    if np.linalg.det(cov) < 0:
        d[1] = -1
    rot = u @ np.diag(d) @ vt
    var = (sc ** 2).sum() / len(src)
    scale = (s * d).sum() / var
    matrix = np.zeros((2, 3))
    matrix[:, :2] = scale * rot
    matrix[:, 2] = dst_mean - scale * rot @ src_mean
    return matrix


def align(frame_bgr: np.ndarray, face: Face) -> np.ndarray:
    """The 112x112 BGR crop SFace expects."""
    matrix = similarity_transform(face.landmarks)
    return cv2.warpAffine(frame_bgr, matrix, (SIZE, SIZE))


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.asarray(a, np.float32).ravel(), np.asarray(b, np.float32).ravel()
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-12))


class FaceEmbedder:
    """128-d SFace features (L2-normalised)."""

    def __init__(self, model: bytes, threads: int = 1, runtime: str = "onnxruntime", precision: str = "f32") -> None:
        self._runner = make_runner(model, threads, runtime, precision)
        self.runtime, self.precision = self._runner.runtime, self._runner.precision

    def embed_aligned(self, aligned_bgr: np.ndarray) -> np.ndarray:
        # RGB, 0..255, NCHW: the graph does its own normalisation (its Sub/Mul nodes).
        blob = np.ascontiguousarray(aligned_bgr[:, :, ::-1].transpose(2, 0, 1)[None], dtype=np.float32)
        feature = self._runner.run(blob)[0][0]
        return (feature / (np.linalg.norm(feature) + 1e-12)).astype(np.float32)

    def embed(self, frame_bgr: np.ndarray, face: Face) -> np.ndarray:
        return self.embed_aligned(align(frame_bgr, face))
