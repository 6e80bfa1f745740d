"""Error rates at the shipped thresholds for a labelled folder, so a bureau can calibrate on its own
cameras and people:

    .venv/bin/python -m models.eval DIR [--models var/models] [--match-threshold 0.363] [--liveness-threshold 0.8]

Folder layout (any subset):

    DIR/match/<person>/*.jpg   one folder per person: same-folder pairs are genuine, cross-folder impostor
    DIR/live/*.jpg             real people in front of the kiosk camera (bona fide presentations)
    DIR/attack/*.jpg           printed photos, screens, replays held to the camera (attack presentations)

Prints FMR / FNMR (match) and APCER / BPCER (ISO/IEC 30107-3 terms, liveness) at the thresholds, the
score ranges, and the thresholds that would give FMR <= 0.1% and APCER <= 5% on this data.
Images without exactly one clear face are listed and left out (the quality gate would refuse them).
"""

from __future__ import annotations

import argparse
import itertools
import sys
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from models.factory import make_pipeline
from models.pipeline import FacePipeline
from models.policy import SHIPPED_LIVENESS_THRESHOLD, SHIPPED_MATCH_THRESHOLD

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}


@dataclass
class EvalReport:
    genuine: list[float] = field(default_factory=list)
    impostor: list[float] = field(default_factory=list)
    live: list[float] = field(default_factory=list)
    attack: list[float] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

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


def evaluate(pipeline: FacePipeline, folder: Path) -> EvalReport:
    report = EvalReport()
    people: dict[str, list[np.ndarray]] = {}
    for person in sorted(p for p in (folder / "match").glob("*") if p.is_dir()):
        for path in _images(person):
            image, face = _single_face(pipeline, path, report)
            if image is not None:
                template = pipeline.template(image, face)
                people.setdefault(person.name, []).append(template.vector())
                template.wipe()
    for vectors in people.values():
        report.genuine += [float(a @ b) for a, b in itertools.combinations(vectors, 2)]
    for (_, va), (_, vb) in itertools.combinations(people.items(), 2):
        report.impostor += [float(a @ b) for a in va for b in vb]
    for label, target in (("live", report.live), ("attack", report.attack)):
        for path in _images(folder / label):
            image, face = _single_face(pipeline, path, report)
            if image is not None:
                target.append(pipeline.liveness(image, face).real)
    return report


def _fmt(value: float | None) -> str:
    return "n/a (no samples)" if value is None else f"{value * 100:.2f}%"


def _range(values: list[float]) -> str:
    return f"n={len(values)}" + (f", min {min(values):.3f}, median {np.median(values):.3f}, max {max(values):.3f}"
                                 if values else "")


def print_report(report: EvalReport, match_threshold: float, liveness_threshold: float) -> None:
    rates = report.rates(match_threshold, liveness_threshold)
    print(f"match (SFace cosine, threshold {match_threshold}):")
    print(f"  genuine pairs  {_range(report.genuine)}\n  impostor pairs {_range(report.impostor)}")
    print(f"  FMR  {_fmt(rates['FMR'])}   (impostor pairs accepted)")
    print(f"  FNMR {_fmt(rates['FNMR'])}   (genuine pairs refused)")
    if report.impostor:
        strict = float(np.quantile(report.impostor, 0.999))
        print(f"  FMR <= 0.1% on this data needs a threshold above {strict:.3f} "
              f"(with few impostor pairs this is a floor, not an estimate)")
    print(f"liveness (fused MiniFASNet P(real), threshold {liveness_threshold}):")
    print(f"  live    {_range(report.live)}\n  attacks {_range(report.attack)}")
    print(f"  APCER {_fmt(rates['APCER'])}   (attacks accepted)")
    print(f"  BPCER {_fmt(rates['BPCER'])}   (real people refused)")
    if report.attack:
        print(f"  APCER <= 5% on this data needs a threshold above {float(np.quantile(report.attack, 0.95)):.3f}")
    for line in report.skipped:
        print(f"  skipped {line}")


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
