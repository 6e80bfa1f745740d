"""Build the labelled face set: real shared photographs framed as the kiosk camera sees them, plus
synthesised variants (size, light, blur, tilt, glasses, sunglasses, mask, motion), each labelled with
the quality outcome a fair gate should give.

    .venv/bin/python bench/face_set.py [--out var/face_set] [--write-manifest]

Images are written to ``--out`` (ignored by git; regenerate at will: the output is deterministic).
``bench/face_set/manifest.csv`` (committed) lists every image: its source file, the source's sha256
and licence, the variant and its parameters, and the label (``ok`` or the expected QualityReason, or
``attack_print`` / ``attack_replay`` for presentation attacks). ``--write-manifest`` rewrites it.

What the set is: 68 real photographs of about 20 adults (public figures, several ages, some elderly,
glasses, varied skin tones and light) from ../shared/testdata/faces and their synthetic variants; 2 real
attack photographs (one print, one phone replay) reframed at several sizes. What it is not: kiosk
camera captures, a balanced demographic sample, or any 3D mask, deepfake or high-quality OLED replay.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from face_attacks import KINDS as ATTACK_KINDS  # noqa: E402
from face_attacks import LABELS as ATTACK_LABELS  # noqa: E402
from face_attacks import synthesise  # noqa: E402

from models.factory import make_pipeline  # noqa: E402
from models.types import LEFT_EYE, MOUTH_LEFT, MOUTH_RIGHT, NOSE, RIGHT_EYE, Face  # noqa: E402

SHARED = Path(os.environ.get("KIOSK_SHARED_DIR", ROOT.parent / "shared")) / "testdata" / "faces"
MANIFEST = ROOT / "bench" / "face_set" / "manifest.csv"
FRAME_W, FRAME_H = 640, 480

LICENCES = {
    "deepface": "MIT (serengil/deepface @ 243209f, tests/unit/dataset; press photographs)",
    "face_recognition": "MIT (ageitgey/face_recognition @ 2e2dcce; press photographs)",
    "silentface": "Apache-2.0 (minivision-ai/Silent-Face-Anti-Spoofing @ b6d5f04)",
}
ATTACKS = {"silentface/image_F1.jpg": "attack_print", "silentface/image_F2.jpg": "attack_replay"}
SKIP = {"deepface/couple.jpg", "deepface/selfie-many-people.jpg", "face_recognition/two_people.jpg"}


@dataclass(frozen=True)
class Variant:
    name: str
    label: str                   # "ok", a QualityReason value, or an attack label
    params: str
    width: float = 0.35          # face width / frame width
    offset: float = 0.0          # horizontal shift of the face centre, fraction of the frame width
    roll: float = 0.0            # degrees, counter-clockwise in the image
    effect: Callable[[np.ndarray, Face], np.ndarray] | None = None


def _gamma(target: float) -> Callable[[np.ndarray, Face], np.ndarray]:
    """Scale the light so the face's mean grey becomes ``target`` (a gamma curve, as an exposure
    change does, not a flat offset)."""
    def apply(img: np.ndarray, face: Face) -> np.ndarray:
        region = _face_region(img, face)
        mean = float(cv2.cvtColor(region, cv2.COLOR_BGR2GRAY).mean()) if region.size else 128.0
        g = np.log(target / 255.0) / np.log(max(mean, 1.0) / 255.0)
        lut = np.clip(255.0 * (np.arange(256) / 255.0) ** g, 0, 255).astype(np.uint8)
        return cv2.LUT(img, lut)
    return apply


def _gauss(sigma: float) -> Callable[[np.ndarray, Face], np.ndarray]:
    return lambda img, face: cv2.GaussianBlur(img, (0, 0), sigma)


def _motion(length: int) -> Callable[[np.ndarray, Face], np.ndarray]:
    kernel = np.zeros((length, length), np.float32)
    kernel[length // 2, :] = 1.0 / length
    return lambda img, face: cv2.filter2D(img, -1, kernel)


def _glasses(dark: bool) -> Callable[[np.ndarray, Face], np.ndarray]:
    """Spectacles drawn from the landmarks: two lens ellipses and a bridge. Clear lenses: a thin
    dark frame with a faint tint; sunglasses: filled near-black lenses."""
    def apply(img: np.ndarray, face: Face) -> np.ndarray:
        out = img.copy()
        lm = face.landmarks
        eye_d = float(np.hypot(*(lm[LEFT_EYE] - lm[RIGHT_EYE])))
        angle = float(np.degrees(np.arctan2(*(lm[LEFT_EYE] - lm[RIGHT_EYE])[::-1])))
        axes = (int(eye_d * 0.36), int(eye_d * 0.26))
        thick = max(2, int(eye_d * 0.05))
        for eye in (lm[RIGHT_EYE], lm[LEFT_EYE]):
            centre = (int(eye[0]), int(eye[1] + eye_d * 0.04))
            if dark:
                cv2.ellipse(out, centre, axes, angle, 0, 360, (18, 16, 14), -1, cv2.LINE_AA)
            else:
                tint = out.copy()
                cv2.ellipse(tint, centre, axes, angle, 0, 360, (235, 235, 235), -1, cv2.LINE_AA)
                out = cv2.addWeighted(out, 0.92, tint, 0.08, 0)
            cv2.ellipse(out, centre, axes, angle, 0, 360, (25, 25, 25), thick, cv2.LINE_AA)
        a = lm[RIGHT_EYE] + (lm[LEFT_EYE] - lm[RIGHT_EYE]) * 0.36
        b = lm[RIGHT_EYE] + (lm[LEFT_EYE] - lm[RIGHT_EYE]) * 0.64
        cv2.line(out, (int(a[0]), int(a[1])), (int(b[0]), int(b[1])), (25, 25, 25), thick, cv2.LINE_AA)
        return out
    return apply


def _mask(img: np.ndarray, face: Face) -> np.ndarray:
    """A plain surgical mask: a flat light-blue polygon from below the eyes over nose, mouth and chin."""
    out = img.copy()
    lm = face.landmarks
    eye_d = float(np.hypot(*(lm[LEFT_EYE] - lm[RIGHT_EYE])))
    top = min(lm[RIGHT_EYE][1], lm[LEFT_EYE][1]) + eye_d * 0.35
    chin = max(lm[MOUTH_RIGHT][1], lm[MOUTH_LEFT][1]) + eye_d * 0.55
    left, right = lm[RIGHT_EYE][0] - eye_d * 0.65, lm[LEFT_EYE][0] + eye_d * 0.65
    nose_x = lm[NOSE][0]
    pts = np.array([[left, top + eye_d * 0.1], [nose_x, top - eye_d * 0.05], [right, top + eye_d * 0.1],
                    [right - eye_d * 0.1, chin - eye_d * 0.2], [nose_x, chin], [left + eye_d * 0.1, chin - eye_d * 0.2]],
                   np.int32)
    cv2.fillPoly(out, [pts], (225, 205, 170), cv2.LINE_AA)
    return out


VARIANTS = [
    Variant("frame35", "ok", "face 35% of the frame width, centred"),
    Variant("size22", "ok", "face 22% (gate minimum 18%)", width=0.22),
    Variant("size50", "ok", "face 50%", width=0.50),
    Variant("size58", "ok", "face 58% (as close as a 4:3 frame shows a whole face)", width=0.58),
    Variant("offset12", "ok", "face centre 12% of the width off centre", offset=0.12),
    Variant("dark85", "ok", "poor light: face mean grey 85 (gamma)", effect=_gamma(85)),
    Variant("bright185", "ok", "bright light: face mean grey 185 (gamma)", effect=_gamma(185)),
    Variant("soft1.2", "ok", "soft focus: Gaussian sigma 1.2 px at 640x480", effect=_gauss(1.2)),
    Variant("tilt12", "ok", "head tilted 12 degrees", roll=12.0),
    Variant("tilt-12", "ok", "head tilted -12 degrees", roll=-12.0),
    Variant("glasses", "ok", "clear glasses drawn from the landmarks", effect=_glasses(dark=False)),
    Variant("tilt30", "head_tilted", "head tilted 30 degrees (plus its own tilt)", roll=30.0),
    Variant("far12", "too_far", "face 12% of the frame width", width=0.12),
    Variant("dark35", "too_dark", "face mean grey 35", effect=_gamma(35)),
    Variant("motion15", "blurred", "15 px horizontal motion blur", effect=_motion(15)),
    Variant("sunglasses", "eyes_covered", "dark lenses drawn from the landmarks", effect=_glasses(dark=True)),
    Variant("mask", "face_occluded", "flat mask drawn over nose, mouth and chin", effect=_mask),
]
# Synthesised attacks (bench/face_attacks.py) made from every genuine photograph at these framings.
SYNTH_ATTACK_FRAMINGS = [
    Variant("frame35", "", "face 35% of the frame width"),
    Variant("size22", "", "face 22%", width=0.22),
    Variant("size50", "", "face 50%", width=0.50),
]
ATTACK_VARIANTS = [
    Variant("frame35", "", "face 35% of the frame width"),
    Variant("size22", "", "face 22%", width=0.22),
    Variant("size50", "", "face 50%", width=0.50),
]


def _tilt_label(v: Variant, own_roll: float) -> str:
    """Photographs have their own head tilt (up to ~20 degrees here), measured by the dense landmarks
    (+-2.5 degrees on synthetic rotations, docs/face.md): a variant whose total roll is within 4
    degrees of the 20 degree limit is "borderline" (left out of the rates), beyond it "head_tilted"."""
    if v.label not in ("ok", "head_tilted"):
        return v.label
    total = abs(own_roll - v.roll)      # rotating the image by +a degrees (counter-clockwise) reads -a
    if total >= 24:
        return "head_tilted"
    return "ok" if total <= 16 else "borderline"


def _face_region(img: np.ndarray, face: Face) -> np.ndarray:
    x0, y0 = int(max(0, face.x)), int(max(0, face.y))
    return img[y0:int(face.y + face.h), x0:int(face.x + face.w)]


def _transform_face(face: Face, m: np.ndarray) -> Face:
    pts = np.c_[face.landmarks, np.ones(5)] @ m.T
    corners = np.array([[face.x, face.y, 1], [face.x + face.w, face.y + face.h, 1]]) @ m.T
    (x0, y0), (x1, y1) = corners.min(0), corners.max(0)
    return Face(float(x0), float(y0), float(x1 - x0), float(y1 - y0), face.score, pts.astype(np.float32))


def frame(image: np.ndarray, face: Face, v: Variant) -> tuple[np.ndarray, Face]:
    """``image`` scaled, rotated and shifted so the face sits as the variant says in a 640x480 frame."""
    scale = v.width * FRAME_W / face.w
    cx, cy = face.centre
    m = cv2.getRotationMatrix2D((cx, cy), v.roll, scale)
    m[0, 2] += FRAME_W / 2 + v.offset * FRAME_W - cx
    m[1, 2] += FRAME_H / 2 - cy
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    out = cv2.warpAffine(image, m, (FRAME_W, FRAME_H), flags=interp, borderMode=cv2.BORDER_REPLICATE)
    return out, _transform_face(face, m)


def sources() -> list[str]:
    names = []
    for folder in ("deepface", "face_recognition", "silentface"):
        for path in sorted((SHARED / folder).glob("*.jpg")):
            rel = f"{folder}/{path.name}"
            if rel not in SKIP:
                names.append(rel)
    return names


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build(out: Path, models: Path) -> list[dict[str, str]]:
    pipeline = make_pipeline(models_dir=models)
    out.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, str]] = []
    for rel in sources():
        path = SHARED / rel
        image = cv2.imread(str(path))
        faces = [f for f in pipeline.detector.detect(image, max(image.shape[:2])) if f.score >= 0.8]
        base = {"source": rel, "source_sha256": sha256(path), "licence": LICENCES[rel.split("/")[0]]}
        if len(faces) != 1:
            rows.append({"file": "", **base, "variant": "excluded", "params": f"{len(faces)} clear faces",
                         "label": ""})
            continue
        attack = ATTACKS.get(rel)
        own_roll = 0.0
        if pipeline.landmarks is not None and not attack:
            upright, moved = frame(image, faces[0], VARIANTS[0])
            own_roll = pipeline.landmarks.roll(upright, moved)
        for v in (ATTACK_VARIANTS if attack else VARIANTS):
            framed, moved = frame(image, faces[0], v)
            if v.effect is not None:
                framed = v.effect(framed, moved)
            label = attack or _tilt_label(v, own_roll)
            name = f"{rel.replace('/', '__').rsplit('.', 1)[0]}__{v.name}.jpg"
            cv2.imwrite(str(out / name), framed, [cv2.IMWRITE_JPEG_QUALITY, 95])
            params = v.params + (f"; own roll {own_roll:+.0f} deg" if not attack else "")
            rows.append({"file": name, **base, "variant": v.name, "params": params, "label": label})
        if attack:
            continue
        for v in SYNTH_ATTACK_FRAMINGS:
            framed, _ = frame(image, faces[0], v)
            for kind in ATTACK_KINDS:
                name = f"{rel.replace('/', '__').rsplit('.', 1)[0]}__{kind}_{v.name}.jpg"
                seed = int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "big")
                cv2.imwrite(str(out / name), synthesise(kind, framed, seed), [cv2.IMWRITE_JPEG_QUALITY, 95])
                rows.append({"file": name, **base, "variant": f"{kind}_{v.name}",
                             "params": f"synthesised {kind} (bench/face_attacks.py) of the {v.params}",
                             "label": ATTACK_LABELS[kind]})
    return rows


def write_manifest(rows: list[dict[str, str]], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, ["file", "source", "source_sha256", "licence", "variant", "params", "label"],
                                lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "face_set")
    parser.add_argument("--models", type=Path, default=ROOT / "var" / "models")
    parser.add_argument("--write-manifest", action="store_true", help=f"rewrite {MANIFEST.relative_to(ROOT)}")
    args = parser.parse_args(argv)
    rows = build(args.out, args.models)
    write_manifest(rows, args.out / "manifest.csv")
    if args.write_manifest:
        write_manifest(rows, MANIFEST)
    made = [r for r in rows if r["file"]]
    print(f"face set: {len(made)} images from {len({r['source'] for r in made})} photographs in {args.out} "
          f"({sum(r['label'] == 'ok' for r in made)} labelled ok); "
          f"excluded: {', '.join(r['source'] for r in rows if not r['file']) or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
