"""The two inference runtimes (models/runtime.py, issue 14): OpenVINO, shipped where it loads, gives
the same faces, liveness scores and match decisions as onnxruntime + cv2.FaceDetectorYN on real
photographs; the kiosk falls back to onnxruntime where OpenVINO is absent; running on two cores
changes no result."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from kiosk.config.schema import FaceSection
from models.embedding import cosine
from models.factory import make_pipeline
from models.policy import SHIPPED_MATCH_THRESHOLD
from models.runtime import resolve_runtime

ROOT = Path(__file__).resolve().parents[2]
PHOTOS = ("image_T1", "image_F1", "image_F2", "obama", "obama_small", "biden", "biden_biden2", "two_people")


@pytest.fixture(scope="module")
def reference(models_dir: Path):
    """The pre-issue-14 pipeline: onnxruntime float32, YuNet in cv2.FaceDetectorYN."""
    return make_pipeline(models_dir=models_dir, runtime="onnxruntime")


def test_the_shipped_pipeline_runs_openvino_with_bf16_sface_where_the_cpu_has_it(pipeline, reference) -> None:
    from models.openvino_runtime import cpu_has_bf16

    assert pipeline.detector.runtime == "openvino" and pipeline.embedder.runtime == "openvino"
    assert pipeline.embedder.precision == ("bf16" if cpu_has_bf16() else "f32")
    assert reference.detector.runtime == "opencv" and reference.embedder.runtime == "onnxruntime"


def test_same_faces_boxes_and_liveness_in_both_runtimes(pipeline, reference, images) -> None:
    for name in PHOTOS:
        ours, theirs = pipeline.detector.detect(images[name]), reference.detector.detect(images[name])
        assert len(ours) == len(theirs) and ours, name            # OpenCV's decoding and NMS, redone
        for a, b in zip(ours, theirs, strict=True):
            assert np.abs(np.array(a.box) - np.array(b.box)).max() < 0.01, name
            assert np.abs(a.landmarks - b.landmarks).max() < 0.01 and abs(a.score - b.score) < 1e-4, name
        # liveness stays float32: the calibrated thresholds see the same scores
        assert abs(pipeline.liveness(images[name], ours[0]).real
                   - reference.liveness(images[name], ours[0]).real) < 1e-4, name


def test_same_embeddings_and_match_decisions_in_both_runtimes(pipeline, reference, images) -> None:
    names = ["obama", "obama2", "obama3", "obama-480p", "biden", "biden_biden2"]
    ours = {n: pipeline.template_from_image(images[n]) for n in names}
    theirs = {n: reference.template_from_image(images[n]) for n in names}
    for n in names:
        # the same landmarks, SFace in bf16 vs float32: the precision alone
        face = reference.detector.refine(images[n], reference.detector.detect(images[n])[0])
        assert cosine(pipeline.embedder.embed(images[n], face), reference.embedder.embed(images[n], face)) > 0.999, n
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            same = a.startswith("obama") == b.startswith("obama")
            for t in (ours, theirs):
                assert (t[a].similarity(t[b]) >= SHIPPED_MATCH_THRESHOLD) == same, (a, b)


def test_two_cores_give_the_same_results_as_one(models_dir: Path, pipeline, images) -> None:
    parallel = make_pipeline(models_dir=models_dir, parallel=True)
    try:
        frames = [(images[n], pipeline.detector.detect(images[n])[0]) for n in ("image_T1", "image_F1", "image_F2")]
        scores, template = parallel.liveness_and_template(frames, *frames[0])
        alone, serial = pipeline.liveness_and_template(frames, *frames[0])
        assert [s.real for s in scores] == [s.real for s in alone]
        assert template.similarity(serial) > 0.99999
        assert parallel.liveness(*frames[1]) == pipeline.liveness(*frames[1])
    finally:
        parallel.close()


def test_onnxruntime_is_the_fallback_where_openvino_does_not_load(models_dir: Path, faces_dir: Path) -> None:
    # A real interpreter in which the openvino package cannot be imported (as on a machine without it).
    script = (
        "import sys; sys.modules['openvino'] = None\n"
        "import cv2\n"
        "from models.factory import make_pipeline\n"
        f"p = make_pipeline(models_dir={str(models_dir)!r}, runtime='auto')\n"
        f"image = cv2.imread({str(faces_dir / 'silentface' / 'image_T1.jpg')!r})\n"
        "face = p.detector.detect(image)[0]\n"
        "print(p.detector.runtime, p.embedder.runtime, round(p.liveness(image, face).real, 3))\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["opencv", "onnxruntime", "1.0"]
    assert resolve_runtime("onnxruntime") == "onnxruntime"
    with pytest.raises(ValueError, match="expected one of auto, openvino, onnxruntime"):
        resolve_runtime("cuda")


def test_the_runtime_setting_is_checked() -> None:
    assert FaceSection().validate() is None and FaceSection().runtime == "auto"
    assert FaceSection(runtime="gpu").validate() == ("runtime", "expected auto, openvino or onnxruntime")
