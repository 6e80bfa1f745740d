"""A visit started by the e-card: the real camera driver plays recorded frames of a phone showing a
fresh code, OpenCV reads it, the embedded backend (the demo's platform, same code as production)
redeems it once, and the session core identifies the visit as an e-card visit."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import cv2
import httpx
import pytest

from backend.embedded import EmbeddedBackend
from drivers.camera.factory import make_camera
from drivers.codescan.frames import FrameCodeReader
from drivers.codescan.phone_render import PhoneShot, render
from kiosk.backend_client import BackendClient, EcardPlatformKey
from kiosk.ecard.code import CodeRefusal
from kiosk.ecard.scan import sign_in_by_ecard
from kiosk.ecard.signin import EcardSignIn
from kiosk.identity import IdentitySource
from kiosk.session import SessionCore
from kiosk.signing import create_key
from kiosk.store import Store

PERSON = "440106195203154324"


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedBackend]:
    backend = EmbeddedBackend(data_dir=tmp_path_factory.mktemp("platform"))
    backend.start()
    httpx.post(f"{backend.url}/v1/operator/seed", headers={"Authorization": f"Bearer {backend.operator_token}"},
               json={"persons": [{"id_number": PERSON, "name": "张建明", "phone": "13800138000",
                                  "retired": True}]}, timeout=10).raise_for_status()
    yield backend
    backend.stop()


@pytest.fixture
def kiosk(platform: EmbeddedBackend, tmp_path: Path) -> Iterator[tuple[EcardSignIn, Store]]:
    kiosk_id = f"kiosk-ecard-{tmp_path.name[-20:]}"        # one enrolment per kiosk id: re-keying is refused
    signer = create_key(tmp_path / "kiosk.key")
    client = BackendClient(platform.url, kiosk_id, signer, timeout_s=5.0)
    assert type(client.enroll(signer.public_key_b64, platform.enrollment_token(kiosk_id))).__name__ == "Enrolled"
    key = client.ecard_platform_key()
    assert isinstance(key, EcardPlatformKey), key
    store = Store(tmp_path / "kiosk.sqlite3", kiosk_id=kiosk_id, signer=signer)
    yield EcardSignIn({key.iss: key.public_key}, client, store), store
    store.close()
    client.close()


def phone_recording(platform: EmbeddedBackend, folder: Path, frames: int = 6) -> str:
    """Frames of a phone held up to the camera: a few empty ones, then the code, tilted, with glare."""
    code = httpx.post(f"{platform.url}/v1/dev/ecard/codes", json={"id_number": PERSON}, timeout=10,
                      headers={"Authorization": f"Bearer {platform.operator_token}"}).json()["code"]
    folder.mkdir(parents=True, exist_ok=True)
    empty = render("not a phone yet", PhoneShot(code_fraction=0.01, center=(2.0, 2.0)))
    for i in range(2):
        cv2.imwrite(str(folder / f"{i:03d}.png"), empty)
    for i in range(2, frames):
        shot = PhoneShot(code_fraction=0.25, yaw_deg=20, glare=0.5, moire=0.6, seed=i)
        cv2.imwrite(str(folder / f"{i:03d}.png"), render(code, shot))
    return code


def session_core(tmp_path: Path) -> SessionCore:
    return SessionCore(idle_timeout_s=60, countdown_s=15, result_timeout_s=20, marker_path=tmp_path / "visit")


def test_the_phone_in_front_of_the_camera_starts_an_e_card_visit(platform: EmbeddedBackend, kiosk, tmp_path: Path
                                                                 ) -> None:  # type: ignore[no-untyped-def]
    signin, _store = kiosk
    phone_recording(platform, tmp_path / "frames")
    camera = make_camera(backend="images", source=tmp_path / "frames", fps=15)
    reader = FrameCodeReader()
    core = session_core(tmp_path)
    outcome = sign_in_by_ecard(camera, lambda img: (r.text if (r := reader.read(img)) else None), signin, core,
                               timeout_s=10)
    assert outcome.signed_in, outcome
    assert core.identity is not None and core.identity.source is IdentitySource.E_CARD
    assert core.identity.id_number == PERSON
    assert core.allows("retiree_certification") and not core.allows("pin_change")
    assert not camera.running, "the camera is off once the code was read"


def test_the_same_recording_twice_is_a_replay(platform: EmbeddedBackend, kiosk, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    signin, _store = kiosk
    phone_recording(platform, tmp_path / "frames")
    reader = FrameCodeReader()

    def read(img):  # type: ignore[no-untyped-def]
        found = reader.read(img)
        return found.text if found else None

    first = sign_in_by_ecard(make_camera(backend="images", source=tmp_path / "frames", fps=15), read, signin,
                             session_core(tmp_path / "a"), timeout_s=10)
    assert first.signed_in
    second = sign_in_by_ecard(make_camera(backend="images", source=tmp_path / "frames", fps=15), read, signin,
                              session_core(tmp_path / "b"), timeout_s=10)
    assert not second.signed_in and second.result is not None
    assert second.result.refusal is CodeRefusal.ALREADY_USED


def test_no_code_shown_times_out_and_cancel_stops_at_once(kiosk, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    signin, _store = kiosk
    folder = tmp_path / "empty"
    folder.mkdir()
    cv2.imwrite(str(folder / "000.png"), render("x", PhoneShot(code_fraction=0.01, center=(2.0, 2.0))))
    reader = FrameCodeReader()
    outcome = sign_in_by_ecard(make_camera(backend="images", source=folder, fps=15),
                               lambda img: (r.text if (r := reader.read(img)) else None), signin,
                               session_core(tmp_path), timeout_s=1.0)
    assert outcome.timed_out and outcome.frames_read >= 1
    cancel = threading.Event()
    cancel.set()
    outcome = sign_in_by_ecard(make_camera(backend="images", source=folder, fps=15),
                               lambda img: None, signin, session_core(tmp_path / "c"), timeout_s=30, cancel=cancel)
    assert outcome.timed_out and outcome.frames_read == 0
