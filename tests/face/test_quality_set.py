"""Every quality message on real faces: shared photographs framed as the kiosk camera sees them, and
the labelled set's synthesised variants (bench/face_set.py: poor light, soft focus, tilt, clear
glasses must pass; motion blur, dark lenses, a mask, distance, darkness must be named)."""

from __future__ import annotations

import csv
import importlib.util
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from models.quality import QualityReason, assess

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ["deepface/img1.jpg", "deepface/img17.jpg", "deepface/img30.jpg", "face_recognition/obama.jpg"]


def _face_set():
    spec = importlib.util.spec_from_file_location("face_set", ROOT / "bench" / "face_set.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["face_set"] = module          # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def framed(pipeline, faces_dir):
    """(source, variant) -> (frame, expected label) for the test sources."""
    fs = _face_set()
    out = {}
    for rel in SOURCES:
        image = cv2.imread(str(faces_dir / rel))
        face = max(pipeline.detector.detect(image, max(image.shape[:2])), key=lambda f: f.w)
        for v in fs.VARIANTS:
            if v.label == "head_tilted":     # the dense roll check is per decision: test_verifier.py
                continue
            frame, moved = fs.frame(image, face, v)
            out[rel, v.name] = (v.effect(frame, moved) if v.effect else frame, v.label)
    return out


def test_genuine_variants_pass_and_problems_are_named(pipeline, framed) -> None:
    """Every genuine variant passes on every source (no false refusal); each synthesised problem is
    named on at least 3 of the 4 sources (the whole set's detection rates are in docs/face.md: a
    drawn lens on a dark, bearded face is the known miss)."""
    refused, named = [], {}
    for (rel, variant), (frame, label) in framed.items():
        reason = assess(frame, pipeline.detector.detect(frame), pipeline.quality).reason
        if label == "ok" and reason is not QualityReason.OK:
            refused.append(f"{rel} {variant}: {reason.value}")
        elif label != "ok":
            named.setdefault(variant, []).append(reason.value == label)
    assert not refused, refused
    assert set(named) == {"far12", "dark35", "motion15", "sunglasses", "mask"}
    assert all(sum(hits) >= 3 for hits in named.values()), named


def test_motion_blur_is_hold_still_before_any_liveness(pipeline, framed) -> None:
    frame, _ = framed["deepface/img30.jpg", "frame35"]
    sharp = pipeline.analyse(frame).verdict
    kernel = np.zeros((15, 15), np.float32)
    kernel[7, :] = 1 / 15
    blurred = pipeline.analyse(cv2.filter2D(frame, -1, kernel)).verdict
    assert sharp.ok and blurred.reason is QualityReason.BLURRED
    assert blurred.metrics.detail_isotropy < pipeline.quality.min_detail_isotropy < sharp.metrics.detail_isotropy


def test_manifest_records_source_licence_and_label_for_every_image() -> None:
    rows = list(csv.DictReader(open(ROOT / "bench" / "face_set" / "manifest.csv", encoding="utf-8")))
    made = [r for r in rows if r["file"]]
    assert len(made) > 1000
    labels = {r["label"] for r in made}
    assert {"ok", "blurred", "eyes_covered", "face_occluded", "too_far", "too_dark", "attack_print",
            "attack_replay"} <= labels
    for r in made:
        assert len(r["source_sha256"]) == 64 and r["licence"].split(" ")[0] in ("MIT", "Apache-2.0"), r


def test_synthesised_attacks_are_listed_and_reproducible(framed) -> None:
    """bench/face_attacks.py: every genuine photograph as a print and a replay at three sizes, labelled
    by attack type in the manifest; the same seed gives the same image, an unknown kind a named error."""
    rows = list(csv.DictReader(open(ROOT / "bench" / "face_set" / "manifest.csv", encoding="utf-8")))
    synth = [r for r in rows if r["variant"].startswith(("print_", "replay_"))]
    assert len(synth) >= 700
    assert {r["label"] for r in synth} == {"attack_print", "attack_replay"}
    assert all(r["label"] == ("attack_print" if r["variant"].startswith("print_") else "attack_replay") for r in synth)
    attacks = sys.modules.get("face_attacks") or importlib.import_module("face_attacks")
    frame, _ = framed["deepface/img30.jpg", "frame35"]
    for kind in attacks.KINDS:
        a, b = attacks.synthesise(kind, frame, 5), attacks.synthesise(kind, frame, 5)
        assert a.shape == frame.shape and a.dtype == np.uint8 and np.array_equal(a, b)
        assert np.abs(a.astype(int) - frame.astype(int)).mean() > 3        # the medium changed the picture
    with pytest.raises(ValueError, match="unknown attack kind"):
        attacks.synthesise("mask3d", frame, 5)
