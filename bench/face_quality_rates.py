"""Each quality rule's false-refusal rate on the labelled face set, and passive liveness per condition.

    .venv/bin/python bench/face_set.py                       # once: builds var/face_set
    .venv/bin/python bench/face_quality_rates.py [--set var/face_set] [--write-docs]

For every image labelled ``ok`` (a genuine face a fair gate must accept), every rule is evaluated on
its own (``head_tilted`` also by the verifier's dense-landmark roll check on frames the gate passes) (models.quality.evaluate), so a rule's rate is what it refuses alone, not only when it is the
first to fail. For images labelled with a reason (motion blur, sunglasses, ...) it prints how often the
gate gives that reason first. For genuine images that pass the gate it prints the passive-liveness
refusal rate (BPCER) per variant, and for the attack images the acceptance rate (APCER).
``--write-docs`` replaces the table between the markers in docs/face.md.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import math
import sys
from collections import defaultdict
from pathlib import Path

import cv2

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from models.factory import make_pipeline  # noqa: E402
from models.policy import SHIPPED_LIVENESS_THRESHOLD  # noqa: E402
from models.quality import QualityReason, evaluate  # noqa: E402

DOCS = ROOT / "docs" / "face.md"
BEGIN, END = "<!-- face-quality-rates:begin -->", "<!-- face-quality-rates:end -->"
RULES = [r for r in QualityReason if r is not QualityReason.OK]


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval for k successes in n trials."""
    if n == 0:
        return 0.0, 1.0
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def rate(k: int, n: int) -> str:
    lo, hi = wilson(k, n)
    return f"{100 * k / n:5.1f}% ({k}/{n}; 95% CI {100 * lo:.1f}-{100 * hi:.1f}%)" if n else "n/a"


def measure(set_dir: Path, models: Path, liveness_threshold: float) -> list[str]:
    pipeline = make_pipeline(models_dir=models)
    rows = [r for r in csv.DictReader(open(set_dir / "manifest.csv", encoding="utf-8")) if r["file"]]
    refused: dict[QualityReason, list[str]] = defaultdict(list)
    genuine = 0
    expected_hits: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    live_by_variant: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    live_fail_names: list[str] = []
    attacks: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    attack_pass_names: list[str] = []
    for row in rows:
        image = cv2.imread(str(set_dir / row["file"]))
        if image is None:
            raise SystemExit(f"{set_dir / row['file']} missing: run bench/face_set.py first")
        faces = pipeline.detector.detect(image)
        verdict, failed = evaluate(image, faces, pipeline.quality)
        # the verifier's once-per-decision roll check on the dense landmarks (models/verifier.py)
        if verdict.ok and pipeline.landmarks is not None and \
                abs(pipeline.landmarks.roll(image, verdict.face)) > pipeline.quality.max_roll_deg:
            failed = [*failed, QualityReason.HEAD_TILTED]
            verdict = dataclasses.replace(verdict, reason=QualityReason.HEAD_TILTED)
        label = row["label"]
        if label == "borderline":
            continue
        if label == "ok":
            genuine += 1
            for reason in failed:
                refused[reason].append(row["file"])
            if verdict.ok:
                score = pipeline.liveness(image, verdict.face).real
                live_by_variant[row["variant"]][1] += 1
                if score < liveness_threshold:
                    live_by_variant[row["variant"]][0] += 1
                    live_fail_names.append(f"{row['file']} ({score:.3f})")
        elif label.startswith("attack"):
            face = verdict.face or (faces[0] if faces else None)
            synthesised = row["variant"].startswith(("print_", "replay_"))     # bench/face_attacks.py
            kind = f"{label} ({row['variant'].rsplit('_', 1)[0]}, synthesised)" if synthesised else f"{label} (real photo)"
            attacks[kind][1] += 1
            if face is not None and verdict.ok and pipeline.liveness(image, face).real >= liveness_threshold:
                attacks[kind][0] += 1
                attack_pass_names.append(row["file"])
        else:
            expected_hits[f"{row['variant']} -> {label}"][1] += 1
            if verdict.reason.value == label:
                expected_hits[f"{row['variant']} -> {label}"][0] += 1
    lines = [f"Labelled set: {len(rows)} images, {genuine} genuine frames labelled ok "
             f"(bench/face_set/manifest.csv). Liveness threshold {liveness_threshold}.", "",
             "| rule (refusal reason) | false refusals on genuine frames (alone) | verdict |",
             "|---|---|---|"]
    for reason in RULES:
        k = len(refused.get(reason, []))
        lines.append(f"| `{reason.value}` | {rate(k, genuine)} | {'**over 1%**' if k > genuine * 0.01 else 'ok'} |")
    lines += ["", "| synthesised problem -> expected reason | given first |", "|---|---|"]
    for key, (k, n) in sorted(expected_hits.items()):
        lines.append(f"| {key} | {rate(k, n)} |")
    lines += ["", "| genuine variant (passed the gate) | passive liveness refused (BPCER) |", "|---|---|"]
    for variant, (k, n) in sorted(live_by_variant.items()):
        lines.append(f"| {variant} | {rate(k, n)} |")
    lines += ["", "| attack (all sizes) | accepted by gate + passive liveness (APCER) |", "|---|---|"]
    for label, (k, n) in sorted(attacks.items()):
        lines.append(f"| {label} | {rate(k, n)} |")
    details = []
    for reason in RULES:
        if refused.get(reason):
            details.append(f"{reason.value}: {', '.join(refused[reason][:12])}"
                           + (" ..." if len(refused[reason]) > 12 else ""))
    if live_fail_names:
        details.append("liveness refused: " + ", ".join(live_fail_names[:20]))
    if attack_pass_names:
        details.append("attacks accepted: " + ", ".join(attack_pass_names))
    return [*lines, "", *details]


def replace_block(begin: str, end: str, lines: list[str]) -> None:
    """Replace the text between two markers in docs/face.md."""
    text = DOCS.read_text(encoding="utf-8")
    if begin not in text or end not in text:
        raise SystemExit(f"{DOCS} has no {begin} ... {end} markers")
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    DOCS.write_text(f"{head}{begin}\n{chr(10).join(lines).strip()}\n{end}{tail}", encoding="utf-8")


def write_docs(table: list[str]) -> None:
    replace_block(BEGIN, END, [line for line in table if not line.startswith(tuple(r.value + ":" for r in RULES))
                               and not line.startswith(("liveness refused:", "attacks accepted:"))])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", type=Path, default=ROOT / "var" / "face_set")
    parser.add_argument("--models", type=Path, default=ROOT / "var" / "models")
    parser.add_argument("--liveness-threshold", type=float, default=SHIPPED_LIVENESS_THRESHOLD)
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args(argv)
    table = measure(args.set, args.models, args.liveness_threshold)
    print("\n".join(table))
    if args.write_docs:
        write_docs(table)
        print(f"wrote the table into {DOCS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
