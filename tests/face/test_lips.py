"""The attention mesh's custom operators as models/lips.py does them: the crop matrix follows the
mouth wherever it lies in the crop, and the bilinear crop is pixel-aligned (MediaPipe's definitions)."""

from __future__ import annotations

import math

import numpy as np

from models.lips import CROP, CROP_SCALE, FEATURE_SCALE, LIPS, crop_transform, sample


def test_lips_crop_follows_a_mouth_turned_in_the_image() -> None:
    """A mouth 60 x 20 px, turned 0.6 rad about (96, 130): the crop's x axis runs from corner 61 to
    291, its centre is the mouth's, and it spans 1.5x the lips' extent along and across the mouth
    (in the 48x48 feature map, a quarter of the 192 px crop)."""
    theta, centre = 0.6, np.array([96.0, 130.0])
    around = np.linspace(0, 2 * math.pi, len(LIPS), endpoint=False)
    local = np.column_stack([30 * np.cos(around), 10 * np.sin(around)])
    local[LIPS.index(61)], local[LIPS.index(291)] = (-30.0, 0.0), (30.0, 0.0)
    turn = np.array([[math.cos(theta), -math.sin(theta)], [math.sin(theta), math.cos(theta)]])
    mesh = np.zeros((468, 3))
    mesh[list(LIPS), :2] = local @ turn.T + centre
    a, t = crop_transform(mesh)
    assert math.isclose(math.atan2(a[1, 0], a[0, 0]), theta, abs_tol=1e-9)
    np.testing.assert_allclose(a @ np.array([CROP / 2, CROP / 2]) + t, centre * FEATURE_SCALE, atol=1e-9)
    np.testing.assert_allclose(np.linalg.norm(a, axis=0) * CROP, CROP_SCALE * FEATURE_SCALE * np.array([60.0, 20.0]),
                               rtol=1e-9)


def test_lips_crop_sampling_is_aligned_and_zero_outside() -> None:
    """TransformTensorBilinear as MediaPipe defines it: with an identity matrix shifted by whole
    pixels the crop is exactly that window of the feature map; beyond the map it is zero."""
    features = np.random.default_rng(3).standard_normal((4, 48, 48)).astype(np.float32)
    window = sample(features, np.eye(2), np.array([5.0, 7.0]))
    np.testing.assert_allclose(window, features[:, 7:7 + CROP, 5:5 + CROP], atol=1e-6)
    half = sample(features, np.eye(2), np.array([5.5, 7.0]))
    np.testing.assert_allclose(half, (features[:, 7:7 + CROP, 5:5 + CROP] + features[:, 7:7 + CROP, 6:6 + CROP]) / 2,
                               atol=1e-5)
    outside = sample(features, np.eye(2), np.array([40.0, 0.0]))
    assert not outside[:, :, 8:].any() and outside[:, :, :8].any()
