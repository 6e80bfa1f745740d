"""Facial movements synthesised from one real photograph, driven by its dense landmarks: the eyelids
closed (the upper lid slid down onto the lower one, along each eye's own axis) and the jaw opened
(lower lip and chin moved down, the new gap dark like a mouth's interior). Used by tests/face
(challenge tests on recorded sequences) and by bench/face_liveness_decision.py (genuine sequences for
the combined decision); bench/face_moves_check.py measures whether each move is made, by the
challenge's own measure, on every genuine frame of the labelled set.
"""

from __future__ import annotations

import cv2
import numpy as np

# MediaPipe face-mesh contours (canonical topology), each from one corner to the other.
EYES = (  # (outer corner, inner corner, upper lid, lower lid): the subject's right eye, then left
    (33, 133, (246, 161, 160, 159, 158, 157, 173), (7, 163, 144, 145, 153, 154, 155)),
    (263, 362, (466, 388, 387, 386, 385, 384, 398), (249, 390, 373, 374, 380, 381, 382)),
)
MOUTH_CORNERS = (78, 308)                                        # inner-lip corners
UPPER_INNER = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308)
LOWER_INNER = (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308)
LOWER_OUTER = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291)
CHIN = 152
EYE_OPEN_SCALE = 1.6      # the mesh's lid points sit inside the visible opening: close a bit more than they say
LID_SKIN = 1.5            # the lid skin above the upper lid slides down whole up to this many apertures above it,
LID_FADE = 1.5            # ... and less and less over this many more (the brow moves little)
JAW_DROP = 0.55           # jaw drop in mouth widths (the challenge asks the inner-lip gap / width to rise 0.18);
                          # the mesh read 0.45 / 0.55 / 0.70 open on 152 / 155 / 146 of 174 frames


def _frame(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unit axis from a to b and its normal pointing down the image (towards the chin)."""
    e = (b - a) / max(float(np.hypot(*(b - a))), 1e-6)
    n = np.array([-e[1], e[0]])
    return e, (n if n[1] >= 0 else -n)


def _local(points: np.ndarray, idx: tuple[int, ...], origin: np.ndarray, e: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Landmarks ``idx`` in a local frame: (along e, along n) from ``origin``."""
    p = points[list(idx), :2] - origin
    return np.column_stack([p @ e, p @ n])


def _profile(uv: np.ndarray, u: np.ndarray) -> np.ndarray:
    """A contour's v as a function of u (linear between its points), at ``u``."""
    order = np.argsort(uv[:, 0])
    return np.interp(u, uv[order, 0], uv[order, 1])


def closed_eyes(image: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Both eyes shut: in each eye's own frame (corner to corner, so a tilted head closes along its
    own axis) the upper lid slides down until its lashes lie on the lower lid line, so no iris or
    white is left; the lid skin and crease above follow, less and less towards the brow; nothing moves
    below the lower lid or beyond the corners. The opening is the mesh's full lid contours widened by
    EYE_OPEN_SCALE (the mesh's lid points sit inside the visible edge: with the bare contours the iris
    showed under the lid on narrow eyes)."""
    h, w = image.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    map_x, map_y = xs.copy(), ys.copy()
    for outer, inner, upper, lower in EYES:
        a, b = points[outer, :2], points[inner, :2]
        e, n = _frame(a, b)
        length = float(np.hypot(*(b - a)))
        up, lo = _local(points, upper, a, e, n), _local(points, lower, a, e, n)
        ends = np.array([[0.0, 0.0], [length, 0.0]])
        up, lo = np.vstack([ends, up]), np.vstack([ends, lo])
        x0, x1 = int(max(min(a[0], b[0]) - length, 0)), int(min(max(a[0], b[0]) + length, w))
        y0, y1 = int(max(min(a[1], b[1]) - 2 * length, 0)), int(min(max(a[1], b[1]) + length, h))
        px, py = xs[y0:y1, x0:x1] - a[0], ys[y0:y1, x0:x1] - a[1]
        u, v = px * e[0] + py * e[1], px * n[0] + py * n[1]
        top, bottom = _profile(up, u), _profile(lo, u)
        mid = (top + bottom) / 2
        top = mid - EYE_OPEN_SCALE * (mid - top)
        bottom = mid + EYE_OPEN_SCALE * (bottom - mid)
        aperture = np.maximum(bottom - top, 0)
        amax = max(float(aperture.max()), 1.0)
        # the lid slides down as a whole: at the lash line by the opening there (so the upper lashes land
        # on the lower lid), above it by a flat-topped arch over the eye's width (the lid skin and crease
        # follow; no bend in the brow), the full shift up to LID_SKIN openings above the upper lid,
        # fading out over LID_FADE more; below the lower lid the shift fades within a third of an opening
        arch = amax * np.clip((0.65 * length - np.abs(u - length / 2)) / (0.3 * length), 0, 1)
        near = np.clip((top - v) / amax, 0, 1)                      # 0 at the lash line, 1 one opening above
        lid = aperture * (1 - near) + arch * near
        shift = lid * np.clip(1 - (top - LID_SKIN * amax - v) / (LID_FADE * amax), 0, 1)
        shift = np.where(v > bottom, aperture * np.clip(1 - (v - bottom) / (0.3 * amax), 0, 1), shift)
        dv = -shift
        map_x[y0:y1, x0:x1] += dv * n[0]
        map_y[y0:y1, x0:x1] += dv * n[1]
    out = cv2.remap(image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return out


def open_jaw(image: np.ndarray, points: np.ndarray, face) -> np.ndarray:
    """The jaw dropped: in the mouth's own frame (corner to corner) the lower lip, the chin and the
    skin down to the neck move down by JAW_DROP mouth widths (an oval gap at the lips: the corners
    stay), starting from the rest opening (a smile's open mouth opens further), and the new gap
    between the lips is a dark mouth interior shading from the upper teeth's shadow."""
    h, w = image.shape[:2]
    a, b = points[MOUTH_CORNERS[0], :2], points[MOUTH_CORNERS[1], :2]
    e, n = _frame(a, b)
    width = max(float(np.hypot(*(b - a))), 1.0)
    half = width / 2
    centre = (a + b) / 2
    upper_in, lower_in, lower_out = (_local(points, idx, centre, e, n) for idx in (UPPER_INNER, LOWER_INNER, LOWER_OUTER))
    chin_v = float((points[CHIN, :2] - centre) @ n)
    drop = JAW_DROP * width
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    px, py = xs - centre[0], ys - centre[1]
    u, v = px * e[0] + py * e[1], px * n[0] + py * n[1]
    # the jaw parts from the upper jaw midway between the inner lips: a closed mouth at its lip line, a
    # smile between its upper and lower teeth (the lower teeth go down with the jaw)
    lip_in = (_profile(upper_in, u) + _profile(lower_in, u)) / 2
    lip_out = _profile(lower_out, u) + 0.05 * width
    # horizontal shape: an oval at the lips (corners still), the whole jaw's width below the lower lip
    oval = np.sqrt(np.clip(1 - (u / half) ** 2, 0, 1))
    jaw = np.clip(1.6 - np.abs(u) / (1.1 * width), 0, 1)
    lip_drop = drop * oval                             # how far the lower lip moves at this u
    # in the lip's own (source) position, over a ramp long enough that the map stays one-to-one (no fold)
    below_lip = np.clip((v - lip_drop - lip_out) / (1.2 * drop + 1), 0, 1)
    shape = oval * (1 - below_lip) + np.maximum(oval, jaw) * below_lip
    # vertical: full drop from the lower inner lip down to the chin, fading out into the neck
    fade = np.clip(1 - (v - chin_v) / (0.8 * width), 0, 1)
    d = drop * shape * fade
    moving = v >= lip_in
    in_gap = moving & (np.abs(u) < half)
    src_v = np.where(moving, np.where(in_gap, np.maximum(v - d, lip_in), v - d), v)
    dv = src_v - v
    out = cv2.remap(image, (xs + dv * n[0]).astype(np.float32), (ys + dv * n[1]).astype(np.float32),
                    cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    # the gap: between the rest lower inner lip and where it now is
    gap = moving & (v < lip_in + lip_drop) & (np.abs(u) < half)
    depth = np.clip((v - lip_in) / np.maximum(lip_drop, 1e-6), 0, 1)   # 0 under the upper teeth, 1 at the tongue
    interior = np.stack([18 + 30 * depth, 12 + 25 * depth, 22 + 70 * depth], axis=-1)          # BGR: dark, then reddish
    soft = cv2.GaussianBlur(gap.astype(np.float32), (0, 0), max(width * 0.02, 0.8))[..., None]
    out = (out * (1 - soft) + interior * soft).astype(np.uint8)
    return out
