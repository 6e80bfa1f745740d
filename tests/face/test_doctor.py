"""Doctor checks for the camera and the face models, on real files (no webcam in CI)."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

from kiosk.config import KioskConfig
from kiosk.doctor import Verdict, camera, face


def _config(models_dir: Path, source: Path, backend: str = "still") -> KioskConfig:
    base = KioskConfig()
    return dataclasses.replace(base, face=dataclasses.replace(base.face, models_dir=str(models_dir)),
                               camera=dataclasses.replace(base.camera, backend=backend, source=str(source)))


def test_face_models_ok_then_tampered(tmp_path: Path, models_dir: Path, faces_dir: Path) -> None:
    still = faces_dir / "silentface" / "image_T1.jpg"
    assert [r.verdict for r in face.checks(_config(models_dir, still))] == [Verdict.OK]
    copy = tmp_path / "models"
    shutil.copytree(models_dir, copy)
    (copy / "face_detection_yunet_2023mar_f32.onnx").write_bytes(b"not a model")
    result = face.checks(_config(copy, still))[0]
    assert result.verdict is Verdict.PROBLEM and "manifest" in result.detail and "models install" in result.todo


def test_camera_check_reports_a_recording_and_a_missing_source(tmp_path: Path, models_dir: Path,
                                                              faces_dir: Path) -> None:
    still = faces_dir / "silentface" / "image_T1.jpg"
    result = camera.checks(_config(models_dir, still))[0]
    # On the demo profile a recording is the intended camera: OK, and the detail says it is one.
    assert result.verdict is Verdict.OK and "480x640" in result.detail and "recorded" in result.detail
    office = _config(models_dir, still)
    office = dataclasses.replace(office, kiosk=dataclasses.replace(office.kiosk, profile="office"))
    on_office = camera.checks(office)[0]
    assert on_office.verdict is Verdict.PROBLEM and "recording" in on_office.detail
    missing = camera.checks(_config(models_dir, tmp_path / "nothing.jpg"))[0]
    assert missing.verdict is Verdict.PROBLEM and "not found" in missing.detail


def test_doctor_warns_when_blink_is_asked_without_the_dense_landmark_model(tmp_path: Path, models_dir: Path,
                                                                           faces_dir: Path) -> None:
    import json

    copy = tmp_path / "models"
    shutil.copytree(models_dir, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    del manifest["files"]["face_landmark_468.onnx"]
    (copy / "manifest.json").write_text(json.dumps(manifest))
    results = face.checks(_config(copy, faces_dir / "silentface" / "image_T1.jpg"))
    warn = [r for r in results if r.name == "face challenge"]
    assert warn and warn[0].verdict is Verdict.WARN and "blink" in warn[0].detail and "models install" in warn[0].todo


def test_doctor_warns_when_blink_or_mouth_is_asked_without_their_refining_models(tmp_path: Path, models_dir: Path,
                                                                faces_dir: Path) -> None:
    """A kiosk whose models were installed before the eye and attention models existed reads blinks
    and open mouths on the mesh alone: the doctor says so and how to install them; with them
    installed there is no such warning."""
    import json

    image = faces_dir / "silentface" / "image_T1.jpg"
    assert not [r for r in face.checks(_config(models_dir, image)) if r.name == "face challenge"]
    copy = tmp_path / "models"
    shutil.copytree(models_dir, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    del manifest["files"]["iris_landmark_71.onnx"]
    del manifest["files"]["face_landmark_attention_lips.onnx"]
    (copy / "manifest.json").write_text(json.dumps(manifest))
    warn = [r for r in face.checks(_config(copy, image)) if r.name == "face challenge"]
    assert warn and warn[0].verdict is Verdict.WARN
    assert "eye model" in warn[0].detail and "attention model" in warn[0].detail
    assert "iris_landmark" in warn[0].todo and "face_landmark_with_attention" in warn[0].todo
