"""Build the face pipeline from an installed models folder (plain keyword arguments only)."""

from __future__ import annotations

import logging
from pathlib import Path

import cv2

from drivers.camera.api import Camera
from models.detector import FaceDetector
from models.embedding import FaceEmbedder
from models.landmarks import DenseLandmarks
from models.lazy import LazyPipeline, trim_heap
from models.liveness import PassiveLiveness
from models.manifest import Manifest, ModelIntegrityError
from models.pipeline import FacePipeline
from models.quality import QualityThresholds
from models.runtime import resolve_runtime
from models.verifier import FaceVerificationService

log = logging.getLogger(__name__)


def make_pipeline(*, models_dir: str | Path, threads: int = 1, detect_max_side: int = 320,
                  detect_score: float = 0.6, cv_threads: int | None = None,
                  quality: QualityThresholds | None = None, runtime: str = "auto",
                  embedding_bf16: bool = True, detect_threads: int | None = None,
                  parallel: bool = False) -> FacePipeline:
    """Every model is read once, checked against ``manifest.json`` and loaded from those bytes.

    Raises models.manifest.ModelIntegrityError when a file is missing or altered.
    ``cv_threads`` sets OpenCV's process-wide pool (cv2.FaceDetectorYN when OpenVINO is not used);
    None leaves it alone. ``runtime``: "auto" (OpenVINO where it imports and compiles the models,
    else onnxruntime and cv2.FaceDetectorYN, with a warning), "openvino" or "onnxruntime"
    (models/runtime.py). ``embedding_bf16``: SFace in
    bfloat16 where OpenVINO runs and the CPU computes bf16 natively (cosine >= 0.999 to float32,
    same pair decisions: docs/face.md, "Measured figures"); every other model stays float32.
    ``parallel``: the second core during a face check: the two MiniFASNets at once and the embedding
    beside liveness (models.pipeline.FacePipeline), and YuNet on two threads under OpenVINO (1.4 vs
    1.9 ms at 320x256; SFace and the MiniFASNets measured no faster on two). ``detect_threads``
    overrides YuNet's thread count (default: 2 with ``parallel``, else ``threads``).
    """
    manifest = Manifest.load(Path(models_dir))
    if cv_threads is not None:
        cv2.setNumThreads(cv_threads)
    # errors only: OpenCV 5's dnn warns on every detector about its new engine's targets
    cv2.utils.logging.setLogLevel(getattr(cv2.utils.logging, "LOG_LEVEL_ERROR", 2))
    engine = resolve_runtime(runtime)

    def build(engine: str) -> FacePipeline:
        return FacePipeline(
            FaceDetector(manifest.model("yunet"), score_threshold=detect_score, max_side=detect_max_side,
                         runtime=engine, threads=detect_threads or (max(2, threads) if parallel else threads)),
            PassiveLiveness(manifest.model("minifasnet_v2"), manifest.model("minifasnet_v1se"), threads, engine),
            FaceEmbedder(manifest.model("sface"), threads, engine, "bf16" if embedding_bf16 else "f32"),
            quality or QualityThresholds(),
            landmarks=DenseLandmarks(manifest.model("facemesh"), threads, engine,
                                     manifest.model("eyes") if manifest.has("eyes") else None,
                                     (manifest.model("lips_backbone"), manifest.model("lips"))
                                     if manifest.has("lips_backbone") and manifest.has("lips") else None)
            if manifest.has("facemesh") else None,
            parallel=parallel)

    try:
        return build(engine)
    except ModelIntegrityError:
        raise
    except Exception as exc:  # OpenVINO imports but cannot compile here: the face check must still work
        if runtime != "auto" or engine != "openvino":
            raise
        log.warning("face runtime: OpenVINO could not load the models (%s: %s); using onnxruntime",
                    type(exc).__name__, exc)
        return build("onnxruntime")


def make_face_verifier(*, camera: Camera, models_dir: str | Path, threads: int = 1, detect_max_side: int = 320,
                       cv_threads: int | None = 1, name: str = "face",
                       lazy: bool = False, release_after_s: float = 0.0, runtime: str = "auto",
                       embedding_bf16: bool = True, parallel: bool = False) -> FaceVerificationService:
    """The FaceVerifier service (models.verifier) over a ``camera`` from
    drivers.camera.factory.make_camera. Call ``.start()`` on the result; start the camera itself
    only once the consent is accepted. ``cv_threads=1`` keeps OpenCV's pool (YuNet) off the UI's core.
    ``lazy``: the models are checked now but loaded on first use, and dropped after
    ``release_after_s`` unused (> 0), see models/lazy.py."""
    def build() -> FacePipeline:
        return make_pipeline(models_dir=models_dir, threads=threads, detect_max_side=detect_max_side,
                             cv_threads=cv_threads, runtime=runtime, embedding_bf16=embedding_bf16,
                             parallel=parallel)

    if not lazy:
        return FaceVerificationService(camera, build(), name=name)
    if cv_threads is not None:
        cv2.setNumThreads(cv_threads)      # now, as before: other OpenCV users (camera, QR) share the pool
    problems = Manifest.load(Path(models_dir)).verify_all()     # a bad model is reported at start
    if problems:
        raise ModelIntegrityError(problems[0])
    trim_heap()                     # the checked files' bytes are freed: hand the pages back
    return FaceVerificationService(camera, LazyPipeline(build, release_after_s), name=name)  # type: ignore[arg-type]
