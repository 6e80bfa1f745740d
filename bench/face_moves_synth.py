"""Facial movements synthesised from one real photograph, driven by its dense landmarks: the eyelids
closed (the upper lid slid onto the lower one) and the jaw opened (chin and lower lip moved down, the
mouth gap filled dark). Used by tests/face (challenge tests on recorded sequences) and by
bench/face_liveness_decision.py (genuine sequences for the combined decision).
"""

from __future__ import annotations

import cv2
import numpy as np

from models.landmarks import LEFT_EYE, RIGHT_EYE


def _warp(image: np.ndarray, src: np.ndarray, dst: np.ndarray, anchors: np.ndarray, radius: float) -> np.ndarray:
    """Move the pixels at ``src`` points to ``dst`` smoothly (Gaussian-weighted displacement field),
    keeping ``anchors`` still: a landmark-driven local warp."""
    h, w = image.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    dx = np.zeros_like(xs)
    dy = np.zeros_like(ys)
    weight = np.full_like(xs, 1e-6)
    for (sx, sy), (tx, ty) in zip(np.vstack([dst, anchors]), np.vstack([src, anchors]), strict=True):
        g = np.exp(-((xs - sx) ** 2 + (ys - sy) ** 2) / (2 * radius ** 2))
        dx += g * (tx - sx)
        dy += g * (ty - sy)
        weight += g
    return cv2.remap(image, (xs + dx / np.maximum(weight, 1.0)).astype(np.float32),
                     (ys + dy / np.maximum(weight, 1.0)).astype(np.float32),
                     cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def closed_eyes(image: np.ndarray, points: np.ndarray) -> np.ndarray:
    """The upper lid slid down onto the lower one: inside each eye's band every pixel samples the
    image one lid-gap higher (lid skin replaces the iris), fading out above the brow line and at the
    eye corners; below the lower lid nothing moves."""
    h, w = image.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    shift = np.zeros_like(ys)
    for outer, inner, (u1, l1), (u2, l2) in (RIGHT_EYE, LEFT_EYE):
        cx = (points[outer, 0] + points[inner, 0]) / 2
        half = abs(points[outer, 0] - points[inner, 0]) * 0.65
        gap = float(np.mean([points[l1, 1] - points[u1, 1], points[l2, 1] - points[u2, 1]])) * 1.15
        lower = float(max(points[l1, 1], points[l2, 1]))
        wx = np.clip(1.5 - 1.5 * np.abs(xs - cx) / half, 0, 1)
        above = np.clip(1 - (lower - gap * 3.5 - ys) / (gap * 2), 0, 1) * (ys <= lower)
        below = np.clip(1 - (ys - lower) / (gap * 0.4), 0, 1) * (ys > lower)
        shift = np.maximum(shift, gap * wx * (above + below))
    return cv2.remap(image, xs, (ys - shift).astype(np.float32), cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def open_jaw(image: np.ndarray, points: np.ndarray, face) -> np.ndarray:
    drop = 0.22 * face.h
    lower = [14, 17, 87, 317, 152, 148, 377, 175]          # lower lip (inner/outer) and chin contour
    src = points[lower, :2]
    dst = src + np.array([0, drop])
    anchors = points[[13, 0, 1, 4, 78, 308, 61, 291], :2]     # upper lip, nose, mouth corners stay
    out = _warp(image, src, dst, anchors, radius=face.w * 0.12)
    gap = np.array([points[78, :2], points[13, :2], points[308, :2], points[14, :2] + [0, drop]], np.int32)
    cv2.fillPoly(out, [gap], (40, 25, 30), cv2.LINE_AA)       # the open mouth is dark inside
    return out
