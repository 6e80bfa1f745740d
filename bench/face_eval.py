"""Error rates with confidence intervals on any labelled folder, or on the shared test images.

    .venv/bin/python bench/face_eval.py DIR [--match-threshold 0.363] [--liveness-threshold 0.8]
    .venv/bin/python bench/face_eval.py [--set var/face_set]      # the shared images (see below)

With DIR: models.eval on it (layout in `python -m models.eval --help`: match/<person>/, pairs.csv,
live/, attack/<type>/). Without DIR, a folder is laid out in a temp dir from ../shared/testdata/faces:
the deepface photographs with their 300 same/different pairs (master.csv -> pairs.csv), the
face_recognition identities, silentface's live image and its print and replay attacks; ``--set``
adds the labelled set built by bench/face_set.py (genuine frames labelled ok as live, its
attack_print / attack_replay frames as those attack types). Every image's score is printed, then
the failing ones by name. The set has no 3D masks, deepfakes or OLED replays: APCER here says
nothing about those.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from models.eval import main as eval_main  # noqa: E402

SHARED = Path(os.environ.get("KIOSK_SHARED_DIR", ROOT.parent / "shared")) / "testdata" / "faces"
LAYOUT = {
    "match/obama": ["face_recognition/obama.jpg", "face_recognition/obama2.jpg", "face_recognition/obama3.jpg",
                    "face_recognition/obama-480p.jpg", "face_recognition/obama_small.jpg"],
    "match/biden": ["face_recognition/biden.jpg", "face_recognition/biden_biden2.jpg"],
    "match/silentface_person": ["silentface/image_T1.jpg"],
    "live": ["silentface/image_T1.jpg"],
    "attack/print": ["silentface/image_F1.jpg"],
    "attack/replay": ["silentface/image_F2.jpg"],
}


def lay_out(tmp: Path, face_set: Path | None) -> None:
    for folder, files in LAYOUT.items():
        (tmp / folder).mkdir(parents=True, exist_ok=True)
        for rel in files:
            (tmp / folder / Path(rel).name).symlink_to(SHARED / rel)
    deepface = SHARED / "deepface"
    for image in deepface.glob("*.jpg"):
        (tmp / image.name).symlink_to(image)
    (tmp / "pairs.csv").symlink_to(deepface / "master.csv")
    if face_set is not None:
        kinds = {"ok": "live", "attack_print": "attack/print", "attack_replay": "attack/replay"}
        for row in csv.DictReader(open(face_set / "manifest.csv", encoding="utf-8")):
            if row["file"] and row["label"] in kinds:
                (tmp / kinds[row["label"]] / row["file"]).symlink_to((face_set / row["file"]).resolve())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", nargs="?", type=Path)
    parser.add_argument("--set", type=Path, help="also use the labelled set built by bench/face_set.py")
    args, rest = parser.parse_known_args()
    if args.folder is not None:
        return eval_main([str(args.folder), *rest])
    with tempfile.TemporaryDirectory() as tmp:
        lay_out(Path(tmp), args.set)
        return eval_main([tmp, *rest])


if __name__ == "__main__":
    sys.exit(main())
