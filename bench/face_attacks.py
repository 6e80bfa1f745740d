"""Synthesised presentation attacks for the labelled face set (bench/face_set.py): a printed photo and
a screen replay of each genuine framed photo, as a kiosk camera would capture them.

Physical model, kept simple and stated here so nobody mistakes it for a real attack set:

* **print** (``print_full``: the sheet fills the view; ``print_edge``: the sheet, 82% of the view,
  held in front of a plain background so its edges show): ink gamut (contrast and saturation
  compressed, paper white is not the display's white, blacks are lifted), an amplitude-modulated
  halftone screen per channel (15/75/45 degrees) rendered at 2x and taken down by the camera, paper
  texture (low-frequency fibre noise, multiplicative), uneven light across a hand-held sheet, then the
  camera: a slight perspective, lens blur, sensor noise, JPEG.
* **replay** (``replay_full`` / ``replay_bezel``): the frame shown on an RGB-stripe screen 1.6x the
  camera's resolution with a black matrix between subpixels, captured with a slight rotation and
  no anti-alias filter (point sampling, as a sensor does: this is what makes moiré), emissive
  tone (raised blacks from the backlight, a blue cast, gamma), a reflection gradient; ``replay_bezel``
  shows the phone's black bezel inside the view.

Deterministic (seeded per image). What these are not: real prints or screens, 3D masks, deepfakes,
OLED replays; a model tuned on them is tuned on this simulation, so the report keeps the real
attack photographs (silentface F1/F2) apart.
"""

from __future__ import annotations

import cv2
import numpy as np

KINDS = ("print_full", "print_edge", "replay_full", "replay_bezel")
LABELS = {"print_full": "attack_print", "print_edge": "attack_print",
          "replay_full": "attack_replay", "replay_bezel": "attack_replay"}


def _background(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """A plain room wall: a colour, a light gradient, a little texture."""
    base = rng.uniform(90, 190, 3).astype(np.float32)
    ramp = np.linspace(0.85, 1.1, w, dtype=np.float32)[None, :, None]
    noise = cv2.GaussianBlur(rng.normal(0, 6, (h, w)).astype(np.float32), (0, 0), 2)[..., None]
    return base[None, None, :] * ramp + noise


def _camera(img: np.ndarray, rng: np.random.Generator, warp: float = 0.015) -> np.ndarray:
    """Recapture: a small perspective (the medium is not square to the lens), lens blur, noise, JPEG."""
    h, w = img.shape[:2]
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    dst = src + rng.uniform(-warp, warp, (4, 2)).astype(np.float32) * np.float32([w, h])
    m = cv2.getPerspectiveTransform(src, dst)
    out = cv2.warpPerspective(img, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
    out = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.5, 0.9))
    out = out + rng.normal(0, 2.5, out.shape).astype(np.float32)
    ok, jpg = cv2.imencode(".jpg", np.clip(out, 0, 255).astype(np.uint8), [cv2.IMWRITE_JPEG_QUALITY, 90])
    assert ok
    return cv2.imdecode(jpg, cv2.IMREAD_COLOR)


def _halftone(f: np.ndarray, period: float) -> np.ndarray:
    """AM halftone: each channel thresholded against a rotated dot screen at 2x, then averaged down."""
    h, w = f.shape[:2]
    up = cv2.resize(f, (w * 2, h * 2), interpolation=cv2.INTER_LINEAR)
    yy, xx = np.mgrid[0:h * 2, 0:w * 2].astype(np.float32)
    for c, angle in enumerate((15.0, 75.0, 45.0)):
        a = np.deg2rad(angle)
        u, v = xx * np.cos(a) + yy * np.sin(a), -xx * np.sin(a) + yy * np.cos(a)
        screen = 0.5 + 0.25 * (np.cos(2 * np.pi * u / period) + np.cos(2 * np.pi * v / period))
        up[..., c] = np.clip((up[..., c] - screen) * 6 + 0.5, 0, 1)
    return cv2.resize(up, (w, h), interpolation=cv2.INTER_AREA)


def printed(frame_bgr: np.ndarray, rng: np.random.Generator, edge: bool) -> np.ndarray:
    h, w = frame_bgr.shape[:2]
    f = frame_bgr.astype(np.float32) / 255
    grey = f.mean(2, keepdims=True)
    f = grey + (f - grey) * rng.uniform(0.7, 0.85)                 # ink saturates less than a screen
    f = 0.07 + f * rng.uniform(0.8, 0.88)                          # lifted blacks, paper white
    f = _halftone(f, period=rng.uniform(3.0, 4.5))
    paper = np.float32([0.97, 0.99, 1.0])[None, None, :]           # slightly warm white (BGR)
    fibre = cv2.GaussianBlur(rng.normal(0, 1, (h, w)).astype(np.float32), (0, 0), 2.5) * 0.03
    f = f * paper * (1 + fibre[..., None] + rng.normal(0, 0.012, (h, w, 1)).astype(np.float32))
    light = np.linspace(rng.uniform(0.85, 1.0), rng.uniform(1.0, 1.12), h, dtype=np.float32)[:, None, None]
    sheet = np.clip(f * light, 0, 1) * 255
    if edge:
        sheet = _place(sheet, _background(h, w, rng), 0.82, rng)
    return _camera(sheet, rng)


def replay(frame_bgr: np.ndarray, rng: np.random.Generator, bezel: bool) -> np.ndarray:
    h, w = frame_bgr.shape[:2]
    f = frame_bgr.astype(np.float32) / 255
    f = np.power(f, rng.uniform(0.85, 0.95))                       # screen gamma, brighter mid-tones
    f = 0.05 + f * 0.95                                            # backlight bleed in the blacks
    f = f * np.float32([1.06, 1.0, 0.94])[None, None, :]           # blue cast (BGR)
    # the screen: 1.6x the camera's resolution, each pixel three subpixel stripes and a black matrix
    sw, sh = int(w * 1.6), int(h * 1.6)
    screen = cv2.resize(f, (sw, sh), interpolation=cv2.INTER_LINEAR)
    sub = np.zeros((sh, sw * 3, 3), np.float32)
    for c in range(3):
        sub[:, 2 - c::3, c] = screen[..., c] * 2.6                 # B,G,R order in BGR stripes R,G,B
    sub[1::4] *= 0.35                                              # black matrix rows
    # the camera samples the stripes directly (no anti-alias filter): moiré
    angle = rng.uniform(-2.5, 2.5)
    m = cv2.getRotationMatrix2D((sw * 1.5, sh / 2), angle, 1.0)
    m[0] *= w / (sw * 3)
    m[1] *= h / sh
    m[0, 2] += 0
    captured = cv2.warpAffine(sub, m, (w, h), flags=cv2.INTER_NEAREST, borderMode=cv2.BORDER_REFLECT_101)
    captured = 0.55 * captured + 0.45 * cv2.warpAffine(
        cv2.resize(screen, (sw * 3, sh)), m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
    glare = np.linspace(0, rng.uniform(0.05, 0.15), w, dtype=np.float32)[None, :, None]
    shown = np.clip(captured + glare, 0, 1) * 255
    if bezel:
        framed = np.full((h, w, 3), 18, np.float32)
        inner = cv2.resize(shown, (int(w * 0.9), int(h * 0.9)), interpolation=cv2.INTER_AREA)
        y0, x0 = (h - inner.shape[0]) // 2, (w - inner.shape[1]) // 2
        framed[y0:y0 + inner.shape[0], x0:x0 + inner.shape[1]] = inner
        shown = _place(framed, _background(h, w, rng), 0.9, rng)
    return _camera(shown, rng)


def _place(medium: np.ndarray, background: np.ndarray, scale: float, rng: np.random.Generator) -> np.ndarray:
    """The medium scaled by ``scale`` and laid over the background near the centre."""
    h, w = background.shape[:2]
    small = cv2.resize(medium, (int(w * scale), int(h * scale)), interpolation=cv2.INTER_AREA)
    y0 = (h - small.shape[0]) // 2 + int(rng.integers(-8, 9))
    x0 = (w - small.shape[1]) // 2 + int(rng.integers(-8, 9))
    out = background.copy()
    out[y0:y0 + small.shape[0], x0:x0 + small.shape[1]] = small
    return out


def synthesise(kind: str, frame_bgr: np.ndarray, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if kind == "print_full":
        return printed(frame_bgr, rng, edge=False)
    if kind == "print_edge":
        return printed(frame_bgr, rng, edge=True)
    if kind == "replay_full":
        return replay(frame_bgr, rng, bezel=False)
    if kind == "replay_bezel":
        return replay(frame_bgr, rng, bezel=True)
    raise ValueError(f"unknown attack kind {kind!r}; one of {', '.join(KINDS)}")
