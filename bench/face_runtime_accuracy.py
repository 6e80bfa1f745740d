"""Same accuracy? The face runtimes and landmark refinements compared on real faces; prints, asserts nothing.

    .venv/bin/python bench/face_runtime_accuracy.py [--models var/models]

On the deepface photographs (master.csv: 38 genuine and 261 impostor pairs, each photo scaled to
640 px on its longer side, the face found by the runtime's 320 px detection) for each variant:
SFace cosine of every photo's embedding to the reference variant's (onnxruntime float32, YuNet in
cv2.FaceDetectorYN, landmarks refined on the crop at native resolution up to 640 px, as shipped
before issue 14),
d' of genuine vs impostor scores, the genuine minimum / median and impostor maximum, and FMR / FNMR
at the shipped match threshold. Then passive liveness (both MiniFASNets) and YuNet's boxes in each
runtime on every photo in ../shared/testdata/faces: the largest score and box differences.
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from models.detector import REFINE_CANVASES  # noqa: E402
from models.embedding import cosine  # noqa: E402
from models.factory import make_pipeline  # noqa: E402
from models.policy import SHIPPED_MATCH_THRESHOLD  # noqa: E402

SHARED = Path(os.environ.get("KIOSK_SHARED_DIR", ROOT.parent / "shared"))
FACES = SHARED / "testdata" / "faces"


def scaled(path: Path, side: int = 640) -> np.ndarray:
    image = cv2.imread(str(path))
    scale = side / max(image.shape[:2])
    return cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)


def d_prime(genuine: list[float], impostor: list[float]) -> float:
    return (statistics.mean(genuine) - statistics.mean(impostor)) / (
        ((statistics.pvariance(genuine) + statistics.pvariance(impostor)) / 2) ** 0.5)


def embeddings(pipeline, images: dict[str, np.ndarray], canvases) -> dict[str, np.ndarray]:
    """``canvases``: the refinement's (models.detector.REFINE_CANVASES or others); None: no refinement."""
    out = {}
    for name, image in images.items():
        faces = pipeline.detector.detect(image)
        if not faces:
            continue
        face = faces[0]
        if canvases is not None:
            face = pipeline.detector.refine(image, face, canvases=canvases)
        out[name] = pipeline.embedder.embed(image, face)
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", default=str(ROOT / "var" / "models"))
    args = parser.parse_args()
    deepface = FACES / "deepface"
    with open(deepface / "master.csv", newline="") as fh:
        pairs = [(r["file_x"], r["file_y"], r["Decision"] == "Yes") for r in csv.DictReader(fh)]
    images = {n: scaled(deepface / n) for n in sorted({p for a, b, _ in pairs for p in (a, b)})}
    pipelines = {"onnxruntime": make_pipeline(models_dir=args.models, runtime="onnxruntime"),
                 "openvino f32": make_pipeline(models_dir=args.models, runtime="openvino", embedding_bf16=False),
                 "openvino bf16": make_pipeline(models_dir=args.models, runtime="openvino", embedding_bf16=True)}
    full, shipped = ((640, 640),), REFINE_CANVASES     # (640, 640): up to 640 px at native resolution, as before
    variants = [("onnxruntime, refine 640 (before)", "onnxruntime", full),
                ("onnxruntime, refine shipped (fallback)", "onnxruntime", shipped),
                ("onnxruntime, no refinement", "onnxruntime", None),
                ("openvino f32, refine 640", "openvino f32", full),
                ("openvino f32, refine shipped", "openvino f32", shipped),
                ("openvino bf16, refine 640", "openvino bf16", full),
                ("openvino bf16, refine 320x320", "openvino bf16", ((320, 320),)),
                ("openvino bf16, refine 256x256", "openvino bf16", ((256, 256),)),
                ("openvino bf16, refine shipped", "openvino bf16", shipped),
                ("openvino bf16, no refinement", "openvino bf16", None)]
    reference = None
    print(f"deepface pairs at 640 px, match threshold {SHIPPED_MATCH_THRESHOLD}; refinement canvases shipped: "
          f"{' then '.join(f'{w}x{h}' for w, h in REFINE_CANVASES)} (the crop at native resolution on the first that holds it)")
    print(f"{'variant':<38} {'cos to ref min':>14} {'d-prime':>8} {'gen min':>8} {'gen med':>8} {'imp max':>8} "
          f"{'FMR':>7} {'FNMR':>7}")
    for label, engine, side in variants:
        emb = embeddings(pipelines[engine], images, side)
        reference = reference or emb
        genuine = [cosine(emb[a], emb[b]) for a, b, same in pairs if same and a in emb and b in emb]
        impostor = [cosine(emb[a], emb[b]) for a, b, same in pairs if not same and a in emb and b in emb]
        to_ref = min(cosine(emb[n], reference[n]) for n in emb if n in reference)
        fmr = sum(s >= SHIPPED_MATCH_THRESHOLD for s in impostor)
        fnmr = sum(s < SHIPPED_MATCH_THRESHOLD for s in genuine)
        print(f"{label:<38} {to_ref:>14.4f} {d_prime(genuine, impostor):>8.2f} {min(genuine):>8.3f} "
              f"{statistics.median(genuine):>8.3f} {max(impostor):>8.3f} {fmr:>3}/{len(impostor):<3} "
              f"{fnmr:>3}/{len(genuine):<3}")
    # bf16 against float32 on the very same aligned crops (the precision alone)
    f32, bf16 = pipelines["openvino f32"], pipelines["openvino bf16"]
    same_crop = []
    for image in images.values():
        faces = f32.detector.detect(image)
        if faces:
            face = f32.detector.refine(image, faces[0])
            same_crop.append(cosine(f32.embedder.embed(image, face), bf16.embedder.embed(image, face)))
    print(f"SFace bf16 vs float32 on the same {len(same_crop)} aligned crops: cosine min {min(same_crop):.5f}, "
          f"median {statistics.median(same_crop):.5f} (runtime {bf16.embedder.runtime}, {bf16.embedder.precision})")
    # liveness and boxes: OpenVINO vs onnxruntime / cv2.FaceDetectorYN on every test photo
    ort, ov = pipelines["onnxruntime"], pipelines["openvino f32"]
    live_diff, box_diff, count = 0.0, 0.0, 0
    for path in sorted(FACES.rglob("*.jpg")):
        image = cv2.imread(str(path))
        if image is None:
            continue
        a, b = ort.detector.detect(image), ov.detector.detect(image)
        if not a or not b or len(a) != len(b):
            if len(a) != len(b):
                print(f"  {path.name}: {len(a)} faces (cv2) vs {len(b)} (openvino)")
            continue
        count += 1
        box_diff = max(box_diff, float(np.abs(np.array(a[0].box) - np.array(b[0].box)).max()))
        live_diff = max(live_diff, abs(ort.liveness(image, a[0]).real - ov.liveness(image, a[0]).real))
    print(f"{count} photos: YuNet boxes openvino vs cv2.FaceDetectorYN max difference {box_diff:.4f} px; "
          f"fused liveness openvino vs onnxruntime (same box) max difference {live_diff:.2e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
