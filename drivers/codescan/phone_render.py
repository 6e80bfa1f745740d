"""A phone showing a QR code, as the kiosk's camera sees it: for the demo camera, tests and the bench.

Renders what makes phone screens hard to read: the dark bezel and screen border, the screen's
own brightness against a dim hall, a specular glare patch, moiré (the camera's pixel grid beating
against the screen's), a tilt of the phone in space (perspective), sensor noise and a little
defocus. The QR image itself comes from OpenCV's own encoder.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class PhoneShot:
    """How the phone is held in front of a ``width`` x ``height`` camera."""

    width: int = 640                 # the face camera's default capture size
    height: int = 480
    code_fraction: float = 0.3       # the code's area as a fraction of the frame's area
    yaw_deg: float = 0.0             # phone turned left/right (perspective)
    pitch_deg: float = 0.0           # phone tilted towards/away from the camera
    roll_deg: float = 0.0            # phone rotated in the frame's plane
    center: tuple[float, float] = (0.5, 0.5)
    glare: float = 0.0               # 0..1 strength of a specular highlight across the screen
    moire: float = 0.0               # 0..1 amplitude of the screen/sensor interference pattern
    noise: float = 3.0               # sensor noise, grey levels (std)
    blur_px: float = 0.8             # defocus sigma
    ambient: int = 90                # background grey level (the hall behind the phone)
    seed: int = 0


def qr_image(text: str) -> np.ndarray:
    """The QR code of ``text`` from OpenCV's encoder: uint8, 1 px per module, with a quiet zone."""
    params = cv2.QRCodeEncoder.Params()
    params.correction_level = cv2.QRCodeEncoder_CORRECT_LEVEL_M
    image = cv2.QRCodeEncoder.create(params).encode(text)
    if image is None or image.size == 0:
        raise ValueError("the text does not fit a QR code")
    return image


def _phone_face(code: np.ndarray, code_px: int) -> np.ndarray:
    """The phone seen straight on: bezel, white screen, the code in the middle, a caption bar."""
    modules = code.shape[0]
    scale = max(1, round(code_px / modules))
    big = cv2.resize(code, (modules * scale, modules * scale), interpolation=cv2.INTER_NEAREST)
    side = big.shape[0]
    screen_w, screen_h = int(side * 1.25), int(side * 2.0)
    bezel = max(4, side // 14)
    phone = np.full((screen_h + 2 * bezel, screen_w + 2 * bezel), 18, np.uint8)
    screen = np.full((screen_h, screen_w), 245, np.uint8)
    cv2.rectangle(screen, (0, 0), (screen_w, side // 5), 200, -1)          # the app's title bar
    top = (screen_h - side) // 2
    left = (screen_w - side) // 2
    screen[top:top + side, left:left + side] = big
    phone[bezel:bezel + screen_h, bezel:bezel + screen_w] = screen
    return phone


def render(text: str, shot: PhoneShot = PhoneShot()) -> np.ndarray:
    """A BGR camera frame of a phone showing ``text`` as a QR code."""
    rng = np.random.default_rng(shot.seed)
    code_px = int((shot.code_fraction * shot.width * shot.height) ** 0.5)
    face = _phone_face(qr_image(text), code_px).astype(np.float32)
    h, w = face.shape
    # Place the phone's corners in 3-D (unit: pixels at the frame's depth), rotate, project.
    corners = np.array([[-w / 2, -h / 2, 0], [w / 2, -h / 2, 0], [w / 2, h / 2, 0], [-w / 2, h / 2, 0]],
                       np.float64)
    yaw, pitch, roll = np.radians([shot.yaw_deg, shot.pitch_deg, shot.roll_deg])
    ry = np.array([[np.cos(yaw), 0, np.sin(yaw)], [0, 1, 0], [-np.sin(yaw), 0, np.cos(yaw)]])
    rx = np.array([[1, 0, 0], [0, np.cos(pitch), -np.sin(pitch)], [0, np.sin(pitch), np.cos(pitch)]])
    rz = np.array([[np.cos(roll), -np.sin(roll), 0], [np.sin(roll), np.cos(roll), 0], [0, 0, 1]])
    rotated = corners @ (rz @ rx @ ry).T
    focal = 1.2 * shot.width
    depth = focal + rotated[:, 2]
    cx, cy = shot.center[0] * shot.width, shot.center[1] * shot.height
    projected = np.stack([cx + focal * rotated[:, 0] / depth, cy + focal * rotated[:, 1] / depth], axis=1)
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    matrix = cv2.getPerspectiveTransform(src, projected.astype(np.float32))
    mask = cv2.warpPerspective(np.ones_like(face), matrix, (shot.width, shot.height), flags=cv2.INTER_LINEAR)
    warped = cv2.warpPerspective(face, matrix, (shot.width, shot.height), flags=cv2.INTER_AREA)
    frame = warped * mask + shot.ambient * (1.0 - mask)
    yy, xx = np.mgrid[0:shot.height, 0:shot.width].astype(np.float32)
    if shot.moire > 0:
        # Two close spatial frequencies beat into broad bands, as a screen filmed by a sensor does.
        bands = np.sin(2 * np.pi * (xx * 0.21 + yy * 0.05)) * np.sin(2 * np.pi * (xx * 0.198 + yy * 0.047))
        frame += mask * bands * 40.0 * shot.moire
    if shot.glare > 0:
        gx = cx + (rng.uniform(-0.3, 0.3)) * code_px
        gy = cy + (rng.uniform(-0.3, 0.3)) * code_px
        spot = np.exp(-(((xx - gx) / (0.45 * code_px)) ** 2 + ((yy - gy) / (0.25 * code_px)) ** 2))
        frame += mask * spot * 255.0 * shot.glare
    if shot.blur_px > 0:
        frame = cv2.GaussianBlur(frame, (0, 0), shot.blur_px)
    frame += rng.normal(0.0, shot.noise, frame.shape).astype(np.float32)
    grey = np.clip(frame, 0, 255).astype(np.uint8)
    # A faint colour cast, as a phone screen's white is never the camera's white.
    return cv2.merge([np.clip(grey.astype(np.int16) + 6, 0, 255).astype(np.uint8), grey, grey])
