"""The face-verification service end to end: recorded camera -> worker -> decision and events."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from drivers.api import CompletionCode
from drivers.camera.api import CameraConsent, ConsentRequired
from drivers.camera.capture import CameraCapture
from drivers.camera.sources import StillImageSource
from models.challenge import ChallengeFailure
from models.policy import FaceAttempts, FaceOutcome, FacePolicy
from models.quality import QualityReason
from models.review import open_sealed
from models.verifier import FaceChallengePrompt, FaceQualityPrompt, FaceVerificationService

CONSENT = CameraConsent("face-consent-v1", accepted=True)
NO_CHALLENGE = FacePolicy(active_challenge=False, decision_timeout_s=8.0)


@pytest.fixture
def service_for(pipeline):
    started = []

    def make(image: np.ndarray) -> FaceVerificationService:
        camera = CameraCapture(StillImageSource(image, fps=15))
        camera.start(CONSENT)
        service = FaceVerificationService(camera, pipeline)
        service.start()
        started.append(service)
        return service

    yield make
    for service in started:
        service.stop()
        service.camera.stop()


def _verify(service, reference, policy, attempts=None):
    events = []
    handle = service.verify(reference, policy, consent=CONSENT, attempts=attempts or FaceAttempts(3))
    handle.on_event(events.append)
    completion = handle.wait(30)
    assert completion.code is CompletionCode.SUCCESS, completion
    return completion.result, events


def test_live_person_matching_the_reference_is_accepted(service_for, images) -> None:
    service = service_for(images["image_T1"])
    decision, events = _verify(service, images["image_F2"], NO_CHALLENGE)   # same person (0.59)
    assert decision.outcome is FaceOutcome.MATCH, decision
    assert decision.match_score > 0.54 and decision.liveness_score > 0.99
    assert decision.sealed_capture is None and decision.attempt == 1 and decision.attempts_left == 2
    assert any(isinstance(e, FaceQualityPrompt) and e.reason is QualityReason.OK for e in events)
    assert "image" not in repr(decision)


def test_screen_replay_is_refused_as_spoof(service_for, images, pipeline) -> None:
    service = service_for(images["image_F2"])
    reference = pipeline.template_from_image(images["image_T1"])
    # the replay photo's face fills 45.1% of its frame: measured here without the distance prompt
    decision, _ = _verify(service, reference, replace(NO_CHALLENGE, move_back_above=0.0))
    assert decision.outcome is FaceOutcome.SPOOF and decision.liveness_score < 0.8
    assert decision.liveness_threshold == NO_CHALLENGE.liveness_threshold       # challenge off: strict


def test_a_face_too_wide_for_the_liveness_crop_is_asked_to_move_back(service_for, images) -> None:
    """A face wider than policy.move_back_above (image_F2: 45.1%) passes the per-frame gate, but the
    models' crop would lack its context: "move back a little", and no liveness score is taken."""
    service = service_for(images["image_F2"])
    policy = replace(NO_CHALLENGE, decision_timeout_s=2.0)
    assert policy.move_back_above < 0.451
    decision, events = _verify(service, images["image_T1"], policy)
    assert decision.outcome is FaceOutcome.NO_USABLE_FRAME and decision.last_quality is QualityReason.TOO_CLOSE
    assert decision.liveness_score is None
    prompts = [e.reason for e in events if isinstance(e, FaceQualityPrompt)]
    assert QualityReason.TOO_CLOSE in prompts and prompts[-1] is QualityReason.TOO_CLOSE, prompts


def test_different_person_is_no_match(service_for, images) -> None:
    service = service_for(images["image_T1"])
    decision, _ = _verify(service, images["obama"], NO_CHALLENGE)
    assert decision.outcome is FaceOutcome.NO_MATCH and decision.match_score < 0.363


def test_a_still_picture_fails_the_active_challenge(service_for, images) -> None:
    service = service_for(images["image_T1"])
    policy = FacePolicy(active_challenge=True, challenge_steps=1, challenge_step_timeout_s=1.0, decision_timeout_s=8.0)
    decision, events = _verify(service, images["image_F2"], policy)
    assert decision.outcome is FaceOutcome.CHALLENGE_FAILED, decision
    assert decision.challenge_failure is ChallengeFailure.TOO_SLOW      # a photo never moves
    assert any(isinstance(e, FaceChallengePrompt) for e in events)


def test_dark_frames_prompt_and_end_without_a_decision(service_for, images) -> None:
    service = service_for((images["image_T1"] * 0.2).astype(np.uint8))
    policy = FacePolicy(active_challenge=False, decision_timeout_s=1.5)
    decision, events = _verify(service, images["image_F2"], policy)
    assert decision.outcome is FaceOutcome.NO_USABLE_FRAME and decision.last_quality is QualityReason.TOO_DARK
    assert [e.reason for e in events if isinstance(e, FaceQualityPrompt)] == [QualityReason.TOO_DARK]


def test_three_failed_attempts_send_the_person_to_the_counter(service_for, images) -> None:
    service = service_for(images["image_T1"])
    attempts = NO_CHALLENGE.new_attempts()
    assert attempts.left == 3
    outcomes = [_verify(service, images["obama"], NO_CHALLENGE, attempts)[0] for _ in range(4)]
    assert [d.outcome for d in outcomes] == [FaceOutcome.NO_MATCH] * 3 + [FaceOutcome.GO_TO_COUNTER]
    assert outcomes[2].go_to_counter and outcomes[3].attempt == 0


def test_consent_and_bad_reference(service_for, images) -> None:
    service = service_for(images["image_T1"])
    with pytest.raises(ConsentRequired):
        service.verify(images["image_F2"], NO_CHALLENGE, consent=CameraConsent("", accepted=False),
                       attempts=FaceAttempts(3))
    attempts = FaceAttempts(3)
    decision, _ = _verify(service, np.full((200, 200, 3), 128, np.uint8), NO_CHALLENGE, attempts)
    assert decision.outcome is FaceOutcome.BAD_REFERENCE and attempts.used == 0


def test_capture_sent_for_review_only_sealed(service_for, images) -> None:
    key = X25519PrivateKey.generate()
    public = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    service = service_for(images["image_T1"])
    policy = FacePolicy(active_challenge=False, keep_capture_for_review=True, review_public_key=public)
    decision, _ = _verify(service, images["image_F2"], policy)
    assert decision.sealed_capture is not None and b"JFIF" not in decision.sealed_capture
    jpeg = open_sealed(decision.sealed_capture, key, associated=b"face-review")
    assert jpeg[:2] == b"\xff\xd8"
    with pytest.raises(ValueError):
        FacePolicy(keep_capture_for_review=True)


def test_a_tilted_head_is_asked_to_straighten_by_the_dense_roll(service_for, images) -> None:
    """image_T1's head is already tilted ~14 degrees (the 5 points at 320 px read ~1): turned 20
    degrees further it is refused with "hold your head upright" although the per-frame gate passes;
    turned back upright it is accepted."""
    import cv2

    frame = images["image_T1"]
    h, w = frame.shape[:2]

    def rotated(angle: float) -> np.ndarray:
        return cv2.warpAffine(frame, cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0), (w, h),
                              borderMode=cv2.BORDER_REPLICATE)

    tilted = service_for(rotated(-20))
    decision, events = _verify(tilted, images["image_F2"], FacePolicy(active_challenge=False, decision_timeout_s=3.0))
    assert decision.outcome is FaceOutcome.NO_USABLE_FRAME and decision.last_quality is QualityReason.HEAD_TILTED
    assert any(isinstance(e, FaceQualityPrompt) and e.reason is QualityReason.HEAD_TILTED for e in events)
    upright = service_for(rotated(14))
    decision, _ = _verify(upright, images["image_F2"], NO_CHALLENGE)
    assert decision.outcome is FaceOutcome.MATCH, decision
