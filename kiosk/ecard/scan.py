"""Start a visit from the e-card: read the phone's code off the camera, sign in, identify the visit.

The camera is the face camera (drivers/camera api); it starts with a consent that says what it is
for ("your e-card code is read; no picture is kept"), the person having tapped "show your e-card
code". Frames are decoded one by one, newest first, and never stored. The first code read is
checked and redeemed (kiosk/ecard/signin.py); on success the session core records who the visit
is for (source: e-card), and the services an e-card visit may use follow from kiosk/identity.py.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from drivers.camera.api import Camera, CameraConsent
from kiosk.ecard.signin import EcardSignIn, SignInResult
from kiosk.identity import IdentitySource, VisitIdentity

SCAN_CONSENT = CameraConsent(text_id="ecard_code_scan_v1", accepted=True)
ReadCode = Callable[[np.ndarray], "str | None"]


class Identifies(Protocol):
    """What the session core offers here (kiosk/session.py SessionCore.identify)."""

    def identify(self, identity: VisitIdentity) -> str | None: ...


@dataclass(frozen=True)
class ScanOutcome:
    """``result`` when a code was read and checked; ``timed_out`` when none was shown in time;
    ``refused_visit`` when the session would not take the identity ("other_person", "busy")."""

    result: SignInResult | None = None
    timed_out: bool = False
    refused_visit: str | None = None
    frames_read: int = 0

    @property
    def signed_in(self) -> bool:
        return self.result is not None and self.result.ok and self.refused_visit is None


def read_code_from_camera(camera: Camera, read_code: ReadCode, *, timeout_s: float,
                          cancel: threading.Event | None = None) -> tuple[str | None, int]:
    """The first QR text the camera shows within ``timeout_s`` -> (text or None, frames decoded)."""
    deadline = time.monotonic() + timeout_s
    seq = 0
    decoded = 0
    while time.monotonic() < deadline and not (cancel is not None and cancel.is_set()):
        frame = camera.wait_frame(after_seq=seq, timeout=min(0.5, max(0.01, deadline - time.monotonic())))
        if frame is None:
            continue
        seq = frame.seq
        decoded += 1
        text = read_code(frame.image)
        if text:
            return text, decoded
    return None, decoded


def sign_in_by_ecard(camera: Camera, read_code: ReadCode, signin: EcardSignIn, session: Identifies, *,
                     timeout_s: float = 30.0, cancel: threading.Event | None = None) -> ScanOutcome:
    """The whole step: camera on for the code only, code read, checked, redeemed, visit identified."""
    camera.start(SCAN_CONSENT)
    try:
        text, frames = read_code_from_camera(camera, read_code, timeout_s=timeout_s, cancel=cancel)
    finally:
        camera.stop()
    if text is None:
        return ScanOutcome(timed_out=True, frames_read=frames)
    result = signin.sign_in(text)
    if not result.ok or result.id_number is None:
        return ScanOutcome(result=result, frames_read=frames)
    refused = session.identify(VisitIdentity(IdentitySource.E_CARD, result.id_number, result.name_masked))
    return ScanOutcome(result=result, refused_visit=refused, frames_read=frames)
