"""Doctor: are the face models installed, intact (manifest sha256) and loadable?"""

from __future__ import annotations

import time

import numpy as np

from kiosk.config import KioskConfig, resolve_path
from kiosk.doctor import CheckResult, Verdict
from models.manifest import Manifest, ModelIntegrityError

_INSTALL = "run `kiosk models install --from ../shared/models/minifasnet` (scripts/setup.sh does it)"


def checks(config: KioskConfig) -> list[CheckResult]:
    models_dir = resolve_path(config.face.models_dir)
    try:
        manifest = Manifest.load(models_dir)
    except ModelIntegrityError as exc:
        return [CheckResult("face models", Verdict.PROBLEM, str(exc), _INSTALL)]
    problems = manifest.verify_all()
    if problems:
        return [CheckResult("face models", Verdict.PROBLEM, problems[0], _INSTALL)]
    from models.factory import make_pipeline

    try:
        pipeline = make_pipeline(models_dir=models_dir, threads=config.face.threads,
                                 detect_max_side=config.face.detect_max_side, runtime=config.face.runtime,
                                 embedding_bf16=config.face.embedding_bf16, parallel=config.face.parallel)
        frame = np.full((480, 640, 3), 128, np.uint8)
        pipeline.analyse(frame)                # the first run pays for graph set-up
        started = time.perf_counter()
        pipeline.analyse(frame)
        ms = (time.perf_counter() - started) * 1e3
    except Exception as exc:  # a model that will not load is the finding
        return [CheckResult("face models", Verdict.PROBLEM, f"models do not load: {type(exc).__name__}", _INSTALL)]
    results = [CheckResult("face models", Verdict.OK, f"{len(manifest.files)} files in {models_dir} match the "
                           f"manifest; detection {ms:.0f} ms on a blank frame; runtime {pipeline.embedder.runtime} "
                           f"(SFace {pipeline.embedder.precision})")]
    wanted = {"blink", "open_mouth"} & set(config.face.challenge_move_list())
    if wanted and config.face.active_challenge and not manifest.has("facemesh"):
        results.append(CheckResult("face challenge", Verdict.WARN,
                                   f"{', '.join(sorted(wanted))} asked but the dense landmark model is not installed "
                                   "(the kiosk uses head moves only)",
                                   "run `kiosk models install` with PyPI reachable (it takes face_landmark.tflite "
                                   "from the mediapipe 0.10.14 wheel), or drop them from face.challenge_moves"))
    elif wanted and config.face.active_challenge:
        # installed before the refining models existed: the mesh's own lids / lips are read
        refiners = {"blink": (("eyes",), "the eye model", "iris_landmark.tflite"),
                    "open_mouth": (("lips_backbone", "lips"), "the attention model", "face_landmark_with_attention.tflite")}
        missing = [(move, *refiners[move]) for move in sorted(wanted)
                   if not all(manifest.has(key) for key in refiners[move][0])]
        if missing:
            results.append(CheckResult(
                "face challenge", Verdict.WARN,
                "; ".join(f"{move} asked but {what} is not installed" for move, _, what, _ in missing)
                + ": the mesh alone misses the move on some faces (eyes narrow at rest, a smile's teeth)",
                f"run `kiosk models install` with PyPI reachable (it takes "
                f"{' and '.join(member for *_, member in missing)} from the mediapipe 0.10.14 wheel)"))
    if not config.face.active_challenge and config.kiosk.profile != "demo":
        results.append(CheckResult("face policy", Verdict.WARN, "active liveness challenge is off",
                                   "set face.active_challenge = true: passive liveness alone misses some replays"))
    return results
