"""The face pipeline on the real test images: detection, 1:1 match, passive liveness."""

from __future__ import annotations

import numpy as np
import pytest

from models.embedding import align, cosine
from models.policy import SHIPPED_LIVENESS_THRESHOLD, SHIPPED_MATCH_THRESHOLD, FaceOutcome, FacePolicy, decide
from models.template import FaceTemplate


def _faces(pipeline, image, min_score=0.8):
    return [f for f in pipeline.detector.detect(image) if f.score >= min_score]


def test_detection_counts(pipeline, images) -> None:
    assert len(_faces(pipeline, images["two_people"])) == 2
    for name in ("image_T1", "image_F1", "image_F2", "obama", "obama_small", "obama-480p", "biden"):
        assert len(_faces(pipeline, images[name])) == 1, name
    # biden_biden2: at 640 px YuNet also fires (0.6-0.7) on a painting behind him; the 0.8
    # count threshold the quality gate uses keeps that from reading as "more than one face".
    full = pipeline.detector.detect(images["biden_biden2"], max_side=640)
    assert len([f for f in full if f.score >= 0.6]) > 1 and len([f for f in full if f.score >= 0.8]) == 1
    assert len(_faces(pipeline, images["biden_biden2"])) == 1
    assert _faces(pipeline, np.zeros((480, 640, 3), np.uint8)) == []


def _template(pipeline, image) -> FaceTemplate:
    return pipeline.template_from_image(image)


def test_same_and_different_person_scores(pipeline, images) -> None:
    obama = ["obama", "obama2", "obama3", "obama-480p", "obama_small"]
    t = {n: _template(pipeline, images[n]) for n in [*obama, "biden", "biden_biden2"]}
    same = [t[a].similarity(t[b]) for i, a in enumerate(obama) for b in obama[i + 1:]]
    same.append(t["biden"].similarity(t["biden_biden2"]))
    different = [t[o].similarity(t[b]) for o in obama for b in ("biden", "biden_biden2")]
    assert min(same) >= 0.54, same               # README: same person 0.54 and above
    assert max(different) <= 0.27, different     # different people 0.27 and below
    assert min(same) > SHIPPED_MATCH_THRESHOLD > max(different)
    assert decide(FacePolicy(require_passive_liveness=False), min(same), None) is FaceOutcome.MATCH
    assert decide(FacePolicy(require_passive_liveness=False), max(different), None) is FaceOutcome.NO_MATCH


def test_alignment_matches_opencv_aligncrop(pipeline, images, models_dir) -> None:
    import cv2

    from models.embedding import FaceEmbedder
    from models.manifest import MODEL_FILES

    recognizer = cv2.FaceRecognizerSF.create(str(models_dir / MODEL_FILES["sface"]), "")
    sface = (models_dir / MODEL_FILES["sface"]).read_bytes()
    float_embedders = [FaceEmbedder(sface, runtime="onnxruntime"), FaceEmbedder(sface, runtime="openvino")]
    for name in ("image_T1", "obama", "biden"):
        face = _faces(pipeline, images[name])[0]
        ours = align(images[name], face)
        theirs = recognizer.alignCrop(images[name], face.as_yunet_row())
        assert np.abs(ours.astype(int) - theirs.astype(int)).max() <= 1, name
        # and our float32 embedding (either runtime) equals OpenCV's FaceRecognizerSF on the same crop;
        # the shipped one (bfloat16 where the CPU has it) is within 1e-3 of it
        for embedder in float_embedders:
            assert cosine(embedder.embed_aligned(theirs), recognizer.feature(theirs)) > 0.9999, (name, embedder.runtime)
        assert cosine(pipeline.embedder.embed_aligned(theirs), recognizer.feature(theirs)) > 0.999, name


def test_live_capture_accepted_and_attacks_refused(pipeline, images) -> None:
    scores = {}
    for name in ("image_T1", "image_F1", "image_F2"):
        face = _faces(pipeline, images[name])[0]
        scores[name] = pipeline.liveness(images[name], face).real
    assert scores["image_T1"] >= SHIPPED_LIVENESS_THRESHOLD, scores
    assert scores["image_F1"] < SHIPPED_LIVENESS_THRESHOLD, scores
    assert scores["image_F2"] < SHIPPED_LIVENESS_THRESHOLD, scores
    policy = FacePolicy()
    assert decide(policy, 0.9, scores["image_T1"]) is FaceOutcome.MATCH
    assert decide(policy, 0.9, scores["image_F2"]) is FaceOutcome.SPOOF


def test_template_is_never_pickled_or_shown(pipeline, images) -> None:
    import pickle

    t = _template(pipeline, images["obama"])
    assert "0." not in repr(t)
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(t)
    t.wipe()
    with pytest.raises(ValueError, match="wiped"):
        t.vector()
