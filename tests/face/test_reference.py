"""A registered reference photo with no face, two faces, a tiny face or a damaged file is refused as a
bad reference, named, with what the person and the counter should do; a good one is used."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from drivers.api import CompletionCode
from drivers.camera.api import CameraConsent
from drivers.camera.capture import CameraCapture
from drivers.camera.sources import StillImageSource
from kiosk.messages import face as messages
from models.policy import FaceAttempts, FaceOutcome, FacePolicy
from models.reference import ReferenceImageError, ReferenceProblem
from models.verifier import FaceVerificationService

CONSENT = CameraConsent("face-consent-v1", accepted=True)


@pytest.fixture(scope="module")
def raw(faces_dir):
    return lambda rel: (faces_dir / rel).read_bytes()


def _problem(pipeline, reference) -> ReferenceProblem:
    with pytest.raises(ReferenceImageError) as info:
        pipeline.template_from_image(reference)
    return info.value.problem


def test_good_reference_from_pixels_and_from_the_encoded_file(pipeline, images, raw) -> None:
    a = pipeline.template_from_image(images["obama"])
    b = pipeline.template_from_image(raw("face_recognition/obama.jpg"))
    assert a.similarity(b) > 0.999
    png = cv2.imencode(".png", images["obama"])[1].tobytes()
    assert pipeline.template_from_image(png).similarity(a) > 0.999


def test_reference_problems_are_named(pipeline, images, raw) -> None:
    jpeg = raw("face_recognition/obama.jpg")
    png = cv2.imencode(".png", images["obama"])[1].tobytes()
    assert _problem(pipeline, jpeg[: len(jpeg) // 2]) is ReferenceProblem.DAMAGED      # cut download
    assert _problem(pipeline, png[:-30]) is ReferenceProblem.DAMAGED
    assert _problem(pipeline, b"") is ReferenceProblem.DAMAGED
    assert _problem(pipeline, b"GIF89a" + bytes(200)) is ReferenceProblem.NOT_AN_IMAGE
    assert _problem(pipeline, None) is ReferenceProblem.NOT_AN_IMAGE                    # cv2.imread failed
    assert _problem(pipeline, np.zeros((480, 640), np.float64) - 1) is ReferenceProblem.NOT_AN_IMAGE
    assert _problem(pipeline, np.full((480, 640, 3), 128, np.uint8)) is ReferenceProblem.NO_FACE
    assert _problem(pipeline, images["two_people"]) is ReferenceProblem.MULTIPLE_FACES
    small = cv2.resize(images["obama"], None, fx=0.08, fy=0.08, interpolation=cv2.INTER_AREA)
    canvas = np.full((300, 300, 3), 200, np.uint8)
    canvas[100:100 + small.shape[0], 100:100 + small.shape[1]] = small
    assert _problem(pipeline, canvas) in (ReferenceProblem.FACE_TOO_SMALL, ReferenceProblem.NO_FACE)


def test_every_reference_problem_has_a_counter_message() -> None:
    for problem in ReferenceProblem:
        sentence = messages.REFERENCE[problem]
        assert "counter" in sentence and "new photo" in sentence


def test_verify_with_a_bad_reference_ends_as_bad_reference_with_its_cause(pipeline, images, raw) -> None:
    camera = CameraCapture(StillImageSource(images["image_T1"], fps=15))
    camera.start(CONSENT)
    service = FaceVerificationService(camera, pipeline)
    service.start()
    try:
        for reference, problem in ((images["two_people"], ReferenceProblem.MULTIPLE_FACES),
                                   (raw("silentface/image_F2.jpg")[:5000], ReferenceProblem.DAMAGED)):
            attempts = FaceAttempts(3)
            completion = service.verify(reference, FacePolicy(active_challenge=False), consent=CONSENT,
                                        attempts=attempts).wait(20)
            assert completion.code is CompletionCode.SUCCESS, completion
            decision = completion.result
            assert decision.outcome is FaceOutcome.BAD_REFERENCE and decision.reference_problem is problem
            assert attempts.used == 0              # the person's tries are not spent on our photo
            assert messages.outcome_msgid(decision) == messages.REFERENCE[problem]
    finally:
        service.stop()
        camera.stop()
