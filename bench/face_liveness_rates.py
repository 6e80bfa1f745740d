"""Passive liveness (MiniFASNet V2 + V1SE) on the labelled face set: where the genuine refusals come
from, and what any threshold costs in attacks let through.

    .venv/bin/python bench/face_set.py                 # once: builds var/face_set (with the attacks)
    .venv/bin/python bench/face_liveness_rates.py [--set var/face_set] [--write-docs]

Every genuine frame labelled ``ok`` and every attack frame (real silentface photos and the attacks
synthesised by bench/face_attacks.py) that passes the quality gate is scored with

* the crop the runtime uses (``clamp``: the box scaled by 2.7 / 4.0 but never beyond the frame, as
  the weights' reference code does; on a 640x480 frame a face wider than ~22% gets less context than
  the networks were trained with), and ``pad`` (the full 2.7 / 4.0 context, the frame edge replicated);
* the box of the runtime's 320 px detection and of a full-resolution (640 px) detection;
* fusions: mean of the two P(real) (shipped), V2 alone, V1SE alone, min, geometric mean.

It prints BPCER (genuine refused) and APCER (attacks accepted) with 95% Wilson intervals at the
shipped threshold, and per face-size band the threshold each APCER target needs and the BPCER it
costs. Attacks refused by the gate are not counted (they never reach liveness); their count is shown.
``--write-docs`` replaces the table between the markers in docs/face.md.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections import Counter
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from face_quality_rates import rate, replace_block  # noqa: E402

from models.factory import make_pipeline  # noqa: E402
from models.liveness import INPUT_SIZE, V1SE_SCALE, V2_SCALE, crop_input  # noqa: E402
from models.policy import SHIPPED_LIVENESS_THRESHOLD  # noqa: E402
from models.quality import assess  # noqa: E402

BEGIN, END = "<!-- face-liveness-rates:begin -->", "<!-- face-liveness-rates:end -->"
BANDS = (("18-27%", 0.0, 0.27), ("27-42%", 0.27, 0.42), ("42-70%", 0.42, 1.0))
FUSIONS = {
    "mean": lambda a, b: (a + b) / 2,
    "V2": lambda a, b: a,
    "V1SE": lambda a, b: b,
    "min": np.minimum,
    "gmean": lambda a, b: np.sqrt(a * b),
}


def crop_padded(frame_bgr: np.ndarray, box: tuple[float, float, float, float], scale: float) -> np.ndarray:
    """The full ``scale`` context around the box, frame edges replicated (not what the runtime does)."""
    x, y, w, h = box
    nw, nh = w * scale, h * scale
    sx, sy = nw / INPUT_SIZE, nh / INPUT_SIZE
    m = np.array([[1 / sx, 0, -(x + w / 2 - nw / 2) / sx], [0, 1 / sy, -(y + h / 2 - nh / 2) / sy]], np.float32)
    patch = cv2.warpAffine(frame_bgr, m, (INPUT_SIZE, INPUT_SIZE), flags=cv2.INTER_LINEAR,
                           borderMode=cv2.BORDER_REPLICATE)
    return np.ascontiguousarray(patch.transpose(2, 0, 1)[None], dtype=np.float32)


def attack_kind(row: dict[str, str]) -> str:
    """print_full, print_edge, replay_full, replay_bezel (synthesised) or real_print / real_replay."""
    if row["variant"].startswith(("print_", "replay_")):
        return row["variant"].rsplit("_", 1)[0]
    return "real_" + row["label"].removeprefix("attack_")


def score_set(set_dir: Path, models: Path) -> tuple[list[dict], Counter]:
    pipeline = make_pipeline(models_dir=models)
    passive = pipeline.passive
    rows = [r for r in csv.DictReader(open(set_dir / "manifest.csv", encoding="utf-8"))
            if r["file"] and (r["label"] == "ok" or r["label"].startswith("attack"))]
    scored: list[dict] = []
    gated: Counter = Counter()
    for row in rows:
        image = cv2.imread(str(set_dir / row["file"]))
        if image is None:
            raise SystemExit(f"{set_dir / row['file']} missing: run bench/face_set.py first")
        verdict = assess(image, pipeline.detector.detect(image), pipeline.quality)
        kind = "genuine" if row["label"] == "ok" else attack_kind(row)
        if not verdict.ok:
            gated[kind] += 1
            continue
        full = pipeline.detector.detect(image, max(image.shape[:2]))
        boxes = {"320": verdict.face.box, "640": full[0].box if full else verdict.face.box}
        entry = {"file": row["file"], "kind": kind, "width": verdict.face.w / image.shape[1]}
        for box_name, box in boxes.items():
            whole = tuple(float(int(v)) for v in box)   # as models.liveness.PassiveLiveness.score
            for crop_name, crop in (("clamp", crop_input), ("pad", crop_padded)):
                if box_name == "640" and crop_name == "pad":
                    continue
                v2 = passive._v2.run(None, {"input": crop(image, whole, V2_SCALE)})[0][0][1]
                v1 = passive._v1se.run(None, {"input": crop(image, whole, V1SE_SCALE)})[0][0][1]
                entry[f"{crop_name}{box_name}"] = (float(v2), float(v1))
        scored.append(entry)
    return scored, gated


def report(scored: list[dict], gated: Counter, threshold: float) -> list[str]:
    kinds = sorted({e["kind"] for e in scored if e["kind"] != "genuine"} | {k for k in gated if k != "genuine"})
    genuine = [e for e in scored if e["kind"] == "genuine"]
    lines = [f"{len(genuine)} genuine frames and {sum(e['kind'] != 'genuine' for e in scored)} attack frames passed "
             f"the gate (refused by the gate first, not counted: "
             f"{', '.join(f'{k} {n}' for k, n in sorted(gated.items()))}).", "",
             f"At the shipped threshold {threshold} (fused P(real) >= threshold is live):", "",
             "| crop, detector box, fusion | BPCER (genuine refused) | "
             + " | ".join(f"APCER {k}" for k in kinds) + " |",
             "|---|---|" + "---|" * len(kinds)]
    for key, label in (("clamp320", "runtime crop, 320 px box"), ("clamp640", "runtime crop, 640 px box"),
                       ("pad320", "full context (padded), 320 px box")):
        for fusion in ("mean", "V2", "V1SE", "min"):
            f = FUSIONS[fusion]
            g = np.array([f(*e[key]) for e in genuine])
            cells = []
            for k in kinds:
                a = np.array([f(*e[key]) for e in scored if e["kind"] == k])
                cells.append(rate(int((a >= threshold).sum()), len(a)))
            shipped = " (shipped)" if key == "clamp320" and fusion == "mean" else ""
            lines.append(f"| {label}, {fusion}{shipped} | {rate(int((g < threshold).sum()), len(g))} | "
                         + " | ".join(cells) + " |")
    lines += ["", "Shipped crop and fusion, per face width: the threshold each APCER target (all attack kinds "
              "together) needs, and the BPCER it costs:", "",
              "| face width | genuine / attacks | APCER 0 | APCER <= 1% | APCER <= 5% | BPCER <= 1% needs |",
              "|---|---|---|---|---|---|"]
    for name, lo, hi in BANDS:
        g = np.array([FUSIONS["mean"](*e["clamp320"]) for e in genuine if lo < e["width"] <= hi])
        a = np.sort([FUSIONS["mean"](*e["clamp320"]) for e in scored
                     if e["kind"] != "genuine" and lo < e["width"] <= hi])[::-1]
        cells = []
        for target in (0.0, 0.01, 0.05):
            k = int(np.floor(target * len(a)))
            t = float(a[k]) + 1e-4 if k < len(a) else 0.0
            cells.append(f"t {t:.3f}: BPCER {rate(int((g < t).sum()), len(g))}")
        t1 = float(np.quantile(g, 0.01)) if len(g) else 0.0
        cells.append(f"t {t1:.3f}: APCER {rate(int((a >= t1).sum()), len(a))}")
        lines.append(f"| {name} | {len(g)} / {len(a)} | " + " | ".join(cells) + " |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", type=Path, default=ROOT / "var" / "face_set")
    parser.add_argument("--models", type=Path, default=ROOT / "var" / "models")
    parser.add_argument("--liveness-threshold", type=float, default=SHIPPED_LIVENESS_THRESHOLD)
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args(argv)
    scored, gated = score_set(args.set, args.models)
    table = report(scored, gated, args.liveness_threshold)
    print("\n".join(table))
    if args.write_docs:
        replace_block(BEGIN, END, table)
        print("wrote the table into docs/face.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
