"""Does the synthesis make the move, by the challenge's own measure? For every genuine frame of the
labelled set that passes the gate: the dense-landmark openness (models.landmarks.Openness) at rest,
on bench/face_moves_synth.closed_eyes() and on open_jaw(), and how many synthesised frames cross the
challenge's thresholds (eye aspect ratio below ``blink_closed`` x own, mouth opening above own +
``mouth_target``) while keeping the head-pose cues (|yaw| < yaw_target, |pitch| < pitch_target from
rest) and, for the blink, the mouth still (a blink frame reading "mouth open" fails as wrong_move).

    .venv/bin/python bench/face_moves_check.py [--set var/face_set] [--every 4] [--list] [--still N] [--mesh-eyes] [--mesh-lips]

Counts per face-width band and per variant, and the frames that fail by name with ``--list``.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections import Counter, defaultdict
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from face_moves_synth import closed_eyes, open_jaw  # noqa: E402

from models.challenge import ActiveChallenge, ChallengeStep  # noqa: E402
from models.factory import make_pipeline  # noqa: E402
from models.landmarks import eye_aspect_ratio  # noqa: E402
from models.policy import FacePolicy  # noqa: E402
from models.pose import pose_from_landmarks  # noqa: E402


def single(pipeline, image):
    v = pipeline.analyse(image).verdict
    face = v.face if v.faces == 1 else None
    return face, (pipeline.openness(image, face) if face is not None else None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", type=Path, default=ROOT / "var" / "face_set")
    parser.add_argument("--models", type=Path, default=ROOT / "var" / "models")
    parser.add_argument("--every", type=int, default=4)
    parser.add_argument("--list", action="store_true", help="print every frame whose synthesis misses")
    parser.add_argument("--still", type=int, default=0, metavar="N",
                        help="also read N copies of each frame with fresh sensor noise (a still photo in front of "
                             "a camera): how low its eye ratio dips, against the closed eyes, at several thresholds")
    parser.add_argument("--mesh-lips", action="store_true",
                        help="read the mouth on the mesh's own lips, as a kiosk without the attention model does")
    parser.add_argument("--mesh-eyes", action="store_true",
                        help="read the lids on the mesh alone, as a kiosk without the eye model does")
    args = parser.parse_args(argv)
    pipeline = make_pipeline(models_dir=args.models)
    if args.mesh_eyes:
        pipeline.landmarks.eyes = None
    if args.mesh_lips:
        pipeline.landmarks.lips = None
    c = FacePolicy().challenge_config()
    rows = [r for r in csv.DictReader(open(args.set / "manifest.csv", encoding="utf-8"))
            if r["file"] and r["label"] == "ok"]
    total: Counter = Counter()
    by_variant: dict[str, Counter] = defaultdict(Counter)
    seen = 0
    eyes: list[tuple[float, float, bool, float]] = []   # (own eye ratio at rest, closed, blink made, the mesh's own)
    still_dips: list[float] = []                     # lowest eye ratio / own over the noisy copies of a still
    still_mouths: list[float] = []                   # highest mouth opening - own over the same copies
    noise = np.random.default_rng(14)
    for row in rows:
        image = cv2.imread(str(args.set / row["file"]))
        if image is None:
            raise SystemExit(f"{args.set / row['file']} missing: run bench/face_set.py first")
        face, rest = single(pipeline, image)
        if face is None or not pipeline.analyse(image).verdict.ok:
            continue
        seen += 1
        if (seen - 1) % args.every:
            continue
        points, _ = pipeline.landmarks.points(image, face)
        if args.still:
            dips, mouths = [], []
            for _ in range(args.still):
                noisy = np.clip(image.astype(np.float32) + noise.normal(0, 2.0, image.shape), 0, 255).astype(np.uint8)
                f, o = single(pipeline, noisy)
                if o is not None:
                    dips.append(o.eye / rest.eye)
                    mouths.append(o.mouth - rest.mouth)
            still_dips.append(min(dips, default=1.0))
            still_mouths.append(max(mouths, default=0.0))
        pose0 = pose_from_landmarks(face.landmarks)
        res = {}
        for move, synth in (("blink", closed_eyes(image, points)), ("mouth", open_jaw(image, points, face))):
            f, o = single(pipeline, synth)
            if f is None or o is None:
                res[move] = ("lost", None)
                continue
            p = pose_from_landmarks(f.landmarks)
            pose_ok = abs(p.yaw - pose0.yaw) < c.yaw_target and abs(p.pitch - pose0.pitch) < c.pitch_target
            # the challenge's own reading: the squeeze check and the eye ratio's shrink correction
            judge = ActiveChallenge([ChallengeStep.BLINK], c, openness_baseline=(rest.eye, rest.mouth, rest.aspect))
            step = ChallengeStep.BLINK if move == "blink" else ChallengeStep.OPEN_MOUTH
            progress = judge.face_move_progress(step, o)
            if progress is None:
                res[move] = ("squeezed", None)
                continue
            if move == "blink":
                made = progress >= 1.0
                mouth_still = (judge.face_move_progress(ChallengeStep.OPEN_MOUTH, o) or 0.0) < 1.0
                ok = made and pose_ok and mouth_still
                why = "ok" if ok else ("not closed" if not made else "pose" if not pose_ok else "mouth moved")
                res[move] = (why, o.eye / rest.eye)
                eyes.append((rest.eye, o.eye, ok, eye_aspect_ratio(points)))
            else:
                made = progress >= 1.0
                ok = made and pose_ok
                why = "ok" if ok else ("not open" if not made else "pose")
                res[move] = (why, o.mouth - rest.mouth)
        variant = row["variant"]
        width = face.w / image.shape[1]
        smile = rest.mouth >= 0.1
        total["frames"] += 1
        total["smile at rest"] += smile
        for move, (why, _) in res.items():
            total[f"{move}: {why}"] += 1
            by_variant[variant][f"{move} ok"] += why == "ok"
        by_variant[variant]["n"] += 1
        if args.list and any(why != "ok" for why, _ in res.values()):
            b, m = res["blink"], res["mouth"]
            print(f"{row['file']:45s} w={width:.2f} eye0={rest.eye:.3f} mouth0={rest.mouth:.3f} "
                  f"blink={b[0]}({b[1] if b[1] is None else round(b[1], 2)}) "
                  f"mouth={m[0]}({m[1] if m[1] is None else round(m[1], 3)})")
    print(f"thresholds: eye < {c.blink_closed} x own, mouth > own + {c.mouth_target}; "
          f"pose within yaw {c.yaw_target}, pitch {c.pitch_target}")
    for k, v in sorted(total.items()):
        print(f"  {k}: {v}")
    eye_source = "the eye model" if pipeline.landmarks.eyes is not None else "the mesh's lids"
    print(f"closed eyes read by {eye_source}, by the eye's openness at rest on the mesh (n, blink read, "
          "median closed ratio, median closed / own):")
    for lo, hi in ((0.0, 0.20), (0.20, 0.25), (0.25, 1.0)):
        sel = [(e0, e1, ok) for e0, e1, ok, mesh0 in eyes if lo <= mesh0 < hi]
        if sel:
            print(f"  mesh own {lo:.2f}-{hi:.2f}: {len(sel):3d} {sum(ok for *_, ok in sel):3d} "
                  f"{np.median([e1 for _, e1, _ in sel]):.3f} {np.median([e1 / e0 for e0, e1, _ in sel]):.2f}")
    if still_dips:
        shut = np.array([e1 / e0 for e0, e1, *_ in eyes])
        dips = np.array(still_dips)
        print(f"a still photo, {args.still} noisy frames each ({len(dips)} photos): lowest eye ratio / own "
              f"min {dips.min():.3f}, median {np.median(dips):.3f}")
        rises = np.array(still_mouths)
        print(f"  and its mouth opening above own: max {rises.max():.3f}, median {np.median(rises):.3f} "
              f"(open is own + {c.mouth_target})")
        for t in (0.6, 0.7, c.blink_closed, 0.82, 0.85, 0.88):
            print(f"  'closed' below {t:.2f} x own: stills {int((dips < t).sum())}, "
                  f"synthesised closed eyes {int((shut < t).sum())} of {len(shut)}")
    print("per variant (n, blink ok, mouth ok):")
    for variant, cnt in sorted(by_variant.items()):
        print(f"  {variant:12s} {cnt['n']:3d} {cnt['blink ok']:3d} {cnt['mouth ok']:3d}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
