"""Error rates at the shipped thresholds for a labelled folder, so a bureau can calibrate on its own
cameras and people:

    .venv/bin/python -m models.eval DIR [--models var/models] [--match-threshold 0.363] [--liveness-threshold 0.8]

Folder layout (any subset):

    DIR/match/<person>/*.jpg   one folder per person: same-folder pairs are genuine, cross-folder impostor
    DIR/pairs.csv              optional, deepface format ``file_x,file_y,Decision`` (Yes/No), files in DIR
    DIR/live/*.jpg             real people in front of the kiosk camera (bona fide presentations)
    DIR/attack/*.jpg           attacks of an unnamed type, or
    DIR/attack/<type>/*.jpg    per attack type (print, replay, ...): APCER is given per type

Prints every image's and pair's score with PASS/FAIL, the failing ones again by name, FMR / FNMR
(match) and APCER per attack type / BPCER (ISO/IEC 30107-3 terms, liveness) at the thresholds with
95% Wilson confidence intervals, the score ranges, and the thresholds that would give FMR <= 0.1% and
APCER <= 5% on this data. Images without exactly one clear face are listed and left out.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from models.factory import make_pipeline
from models.pipeline import FacePipeline
from models.policy import SHIPPED_LIVENESS_THRESHOLD, SHIPPED_MATCH_THRESHOLD

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval of a proportion k/n (sound at 0 and n, unlike p +- 1.96 sd)."""
    if n == 0:
        return 0.0, 1.0
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass
class EvalReport:
    genuine: list[float] = field(default_factory=list)
    impostor: list[float] = field(default_factory=list)
    live: list[float] = field(default_factory=list)
    attack: list[float] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    # per item, for the per-image listing: (name, score)
    genuine_pairs: list[tuple[str, float]] = field(default_factory=list)
    impostor_pairs: list[tuple[str, float]] = field(default_factory=list)
    live_images: list[tuple[str, float]] = field(default_factory=list)
    attack_images: dict[str, list[tuple[str, float]]] = field(default_factory=dict)   # type -> images

    def rates(self, match_threshold: float, liveness_threshold: float) -> dict[str, float | None]:
        def frac(values: list[float], pred) -> float | None:
            return sum(1 for v in values if pred(v)) / len(values) if values else None

        return {
            "FMR": frac(self.impostor, lambda s: s >= match_threshold),
            "FNMR": frac(self.genuine, lambda s: s < match_threshold),
            "APCER": frac(self.attack, lambda s: s >= liveness_threshold),
            "BPCER": frac(self.live, lambda s: s < liveness_threshold),
        }


def _images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES) if folder.is_dir() else []


def _single_face(pipeline: FacePipeline, path: Path, report: EvalReport):
    image = cv2.imread(str(path))
    if image is None:
        report.skipped.append(f"{path}: unreadable")
        return None, None
    faces = [f for f in pipeline.detector.detect(image) if f.score >= pipeline.quality.count_score]
    if len(faces) != 1:
        report.skipped.append(f"{path}: {len(faces)} faces")
        return None, None
    return image, faces[0]


def _template_vector(pipeline: FacePipeline, path: Path, report: EvalReport) -> np.ndarray | None:
    image, face = _single_face(pipeline, path, report)
    if image is None:
        return None
    template = pipeline.template(image, face)
    try:
        return template.vector()
    finally:
        template.wipe()


def evaluate(pipeline: FacePipeline, folder: Path) -> EvalReport:
    report = EvalReport()
    people: dict[str, list[tuple[str, np.ndarray]]] = {}
    for person in sorted(p for p in (folder / "match").glob("*") if p.is_dir()):
        for path in _images(person):
            vector = _template_vector(pipeline, path, report)
            if vector is not None:
                people.setdefault(person.name, []).append((f"{person.name}/{path.name}", vector))
    for vectors in people.values():
        for (na, a), (nb, b) in itertools.combinations(vectors, 2):
            report.genuine_pairs.append((f"{na} ~ {nb}", float(a @ b)))
    for (_, va), (_, vb) in itertools.combinations(people.items(), 2):
        for na, a in va:
            for nb, b in vb:
                report.impostor_pairs.append((f"{na} ~ {nb}", float(a @ b)))
    pairs_file = folder / "pairs.csv"
    if pairs_file.is_file():
        cache: dict[str, np.ndarray | None] = {}
        for row in csv.DictReader(open(pairs_file, encoding="utf-8")):
            for name in (row["file_x"], row["file_y"]):
                if name not in cache:
                    cache[name] = _template_vector(pipeline, folder / name, report)
            a, b = cache[row["file_x"]], cache[row["file_y"]]
            if a is None or b is None:
                continue
            target = report.genuine_pairs if row["Decision"].strip().lower() == "yes" else report.impostor_pairs
            target.append((f"{row['file_x']} ~ {row['file_y']}", float(a @ b)))
    report.genuine = [s for _, s in report.genuine_pairs]
    report.impostor = [s for _, s in report.impostor_pairs]
    for path in _images(folder / "live"):
        image, face = _single_face(pipeline, path, report)
        if image is not None:
            report.live_images.append((f"live/{path.name}", pipeline.liveness(image, face).real))
    attack_dir = folder / "attack"
    groups = [("attack", attack_dir)] + [(p.name, p) for p in sorted(attack_dir.glob("*")) if p.is_dir()]
    for kind, directory in groups:
        for path in _images(directory):
            image, face = _single_face(pipeline, path, report)
            if image is not None:
                rel = path.relative_to(folder)
                report.attack_images.setdefault(kind, []).append((str(rel), pipeline.liveness(image, face).real))
    report.live = [s for _, s in report.live_images]
    report.attack = [s for items in report.attack_images.values() for _, s in items]
    return report


def _fmt(value: float | None) -> str:
    return "n/a (no samples)" if value is None else f"{value * 100:.2f}%"


def _range(values: list[float]) -> str:
    return f"n={len(values)}" + (f", min {min(values):.3f}, median {np.median(values):.3f}, max {max(values):.3f}"
                                 if values else "")


def _rate_ci(values: list[float], fails) -> str:
    k, n = sum(1 for v in values if fails(v)), len(values)
    if not n:
        return "n/a (no samples)"
    lo, hi = wilson(k, n)
    return f"{100 * k / n:.2f}% ({k}/{n}; 95% CI {100 * lo:.1f}-{100 * hi:.1f}%)"


def print_report(report: EvalReport, match_threshold: float, liveness_threshold: float) -> None:
    def verdict(ok: bool) -> str:
        return "PASS" if ok else "FAIL"

    failing: list[str] = []
    print("per image / pair:")
    for name, score in report.genuine_pairs:
        ok = score >= match_threshold
        print(f"  genuine  {score:7.3f} {verdict(ok)}  {name}")
        failing += [] if ok else [f"genuine pair refused ({score:.3f}): {name}"]
    for name, score in report.impostor_pairs:
        ok = score < match_threshold
        print(f"  impostor {score:7.3f} {verdict(ok)}  {name}")
        failing += [] if ok else [f"impostor pair accepted ({score:.3f}): {name}"]
    for name, score in report.live_images:
        ok = score >= liveness_threshold
        print(f"  live     {score:7.3f} {verdict(ok)}  {name}")
        failing += [] if ok else [f"live image refused ({score:.3f}): {name}"]
    for kind, items in report.attack_images.items():
        for name, score in items:
            ok = score < liveness_threshold
            print(f"  {kind:<8} {score:7.3f} {verdict(ok)}  {name}")
            failing += [] if ok else [f"{kind} attack accepted ({score:.3f}): {name}"]
    rates = report.rates(match_threshold, liveness_threshold)
    print(f"match (SFace cosine, threshold {match_threshold}):")
    print(f"  genuine pairs  {_range(report.genuine)}\n  impostor pairs {_range(report.impostor)}")
    print(f"  FMR  {_fmt(rates['FMR'])}   (impostor pairs accepted) {_rate_ci(report.impostor, lambda s: s >= match_threshold)}")
    print(f"  FNMR {_fmt(rates['FNMR'])}   (genuine pairs refused) {_rate_ci(report.genuine, lambda s: s < match_threshold)}")
    if report.impostor:
        strict = float(np.quantile(report.impostor, 0.999))
        print(f"  FMR <= 0.1% on this data needs a threshold above {strict:.3f} "
              f"(with few impostor pairs this is a floor, not an estimate)")
    print(f"liveness (fused MiniFASNet P(real), threshold {liveness_threshold}; passive alone, no challenge):")
    print(f"  live    {_range(report.live)}\n  attacks {_range(report.attack)}")
    print(f"  APCER {_fmt(rates['APCER'])}   (attacks accepted) {_rate_ci(report.attack, lambda s: s >= liveness_threshold)}")
    for kind, items in report.attack_images.items():
        scores = [s for _, s in items]
        print(f"    APCER[{kind}] {_rate_ci(scores, lambda s: s >= liveness_threshold)}")
    print(f"  BPCER {_fmt(rates['BPCER'])}   (real people refused) {_rate_ci(report.live, lambda s: s < liveness_threshold)}")
    if report.attack:
        print(f"  APCER <= 5% on this data needs a threshold above {float(np.quantile(report.attack, 0.95)):.3f}")
    for line in report.skipped:
        print(f"  skipped {line}")
    print(f"failing: {len(failing)}")
    for line in failing:
        print(f"  {line}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m models.eval", description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--models", type=Path, default=Path(__file__).resolve().parents[1] / "var" / "models")
    parser.add_argument("--match-threshold", type=float, default=SHIPPED_MATCH_THRESHOLD)
    parser.add_argument("--liveness-threshold", type=float, default=SHIPPED_LIVENESS_THRESHOLD)
    args = parser.parse_args(argv)
    if not args.folder.is_dir():
        print(f"{args.folder} is not a folder (see the layout in `python -m models.eval --help`)", file=sys.stderr)
        return 2
    report = evaluate(make_pipeline(models_dir=args.models), args.folder)
    print_report(report, args.match_threshold, args.liveness_threshold)
    return 0


if __name__ == "__main__":
    sys.exit(main())
