"""Doctor: is the configured camera (or recorded source) there and giving frames?"""

from __future__ import annotations

from pathlib import Path

from drivers.api import DeviceStatus
from drivers.camera.api import CameraConsent, SourceKind
from drivers.camera.factory import make_camera, webcam_present
from kiosk.config import KioskConfig, resolve_path
from kiosk.doctor import CheckResult, Verdict

# The doctor is run by staff, not a citizen: no face is analysed or kept, one frame is read and dropped.
_DOCTOR_CONSENT = CameraConsent("doctor-self-test", accepted=True)


def checks(config: KioskConfig) -> list[CheckResult]:
    cam = config.camera
    source = str(resolve_path(cam.source)) if cam.source else ""
    if cam.backend in ("images", "video", "still") and not Path(source).exists():
        return [CheckResult("camera", Verdict.PROBLEM, f"recorded source {source} not found",
                            "set camera.source to an existing image, folder or video")]
    try:
        camera = make_camera(backend=cam.backend, device=cam.device, width=cam.width, height=cam.height,
                             fps=cam.fps, source=source, reopen_max_backoff_s=cam.reopen_max_backoff_s)
    except ValueError as exc:
        return [CheckResult("camera", Verdict.PROBLEM, str(exc), "fix the [camera] table of the configuration")]
    camera.start(_DOCTOR_CONSENT)
    try:
        frame = camera.wait_frame(0, timeout=5.0)
    finally:
        camera.stop()
    if frame is None:
        todo = ("check the camera's USB cable, then run `kiosk doctor` again" if camera.kind is SourceKind.WEBCAM
                else "check camera.source")
        return [CheckResult("camera", Verdict.PROBLEM, f"{camera.description}: no frame in 5 s "
                            f"({camera.status_detail or DeviceStatus.OFFLINE.value})", todo)]
    h, w = frame.image.shape[:2]
    detail = f"{camera.description}: {w}x{h}"
    if camera.kind is not SourceKind.WEBCAM:
        if config.kiosk.profile != "demo":
            return [CheckResult("camera", Verdict.PROBLEM, detail + " (a recording, not a camera)",
                                "connect the kiosk camera and set camera.backend = \"opencv\"")]
        # The demo profile is meant to run on a recording when no webcam exists: that is its
        # correct state, not a problem (the screen says so to the person in front of it).
        hint = "" if webcam_present(cam.device) else "no webcam found; the demo uses a recording"
        return [CheckResult("camera", Verdict.OK, f"{detail}; {hint}".rstrip("; "))]
    if (w, h) != (cam.width, cam.height):
        return [CheckResult("camera", Verdict.WARN, f"{detail}, configured {cam.width}x{cam.height}",
                            "the camera does not offer the configured size; set camera.width/height to one it does")]
    return [CheckResult("camera", Verdict.OK, detail)]
