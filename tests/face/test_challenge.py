"""Active challenge on synthetic landmark sequences: a real head turn passes; replays fail."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from models.challenge import (
    ActiveChallenge,
    ChallengeConfig,
    ChallengeFailure,
    ChallengeStatus,
    ChallengeStep,
    random_sequence,
)
from models.pose import NEUTRAL_PITCH, pose_from_landmarks
from models.types import Face

FPS = 30.0


def face(yaw: float = 0.0, pitch: float = 0.0, x: float = 200.0) -> Face:
    """A 5-landmark face with the given yaw/pitch cues (eye distance 60 px)."""
    eye_y, mouth_y = 200.0, 265.0
    nose = (x + 30 + yaw * 60, eye_y + (NEUTRAL_PITCH + pitch) * (mouth_y - eye_y))
    lm = np.array([[x, eye_y], [x + 60, eye_y], nose, [x + 8, mouth_y], [x + 52, mouth_y]], np.float32)
    return Face(x - 30, eye_y - 60, 120, 150, 0.95, lm)


def movement(step: ChallengeStep, ramp_s: float = 0.5, hold_s: float = 0.2) -> list[tuple[float, float]]:
    """(yaw, pitch) per frame: a moment frontal, turn to 1.3x the target, hold, come back."""
    sign = {ChallengeStep.TURN_LEFT: (0.45, 0), ChallengeStep.TURN_RIGHT: (-0.45, 0),
            ChallengeStep.NOD: (0, 0.25), ChallengeStep.LOOK_UP: (0, -0.25)}[step]
    n_ramp, n_hold = max(1, int(ramp_s * FPS)), int(hold_s * FPS)
    ramp = [k / n_ramp for k in range(n_ramp + 1)]
    profile = [0.0] * 6 + ramp + [1.0] * n_hold + ramp[::-1] + [0.0] * 3
    return [(sign[0] * a, sign[1] * a) for a in profile]


def run(challenge: ActiveChallenge, poses: list[tuple[float, float]], t0: float = 0.0, fps: float = FPS):
    t, state = t0, challenge.state
    for yaw, pitch in poses:
        state = challenge.observe(t, face(yaw, pitch))
        t += 1 / fps
        if state.status is not ChallengeStatus.RUNNING:
            break
    return state, t


def test_pose_cues() -> None:
    assert abs(pose_from_landmarks(face().landmarks).yaw) < 1e-6
    assert pose_from_landmarks(face(yaw=0.4).landmarks).yaw == pytest.approx(0.4, abs=1e-3)
    assert pose_from_landmarks(face(pitch=0.2).landmarks).pitch == pytest.approx(0.2, abs=1e-3)


def test_head_turn_sequence_passes() -> None:
    sequence = [ChallengeStep.TURN_LEFT, ChallengeStep.TURN_RIGHT, ChallengeStep.NOD]
    challenge = ActiveChallenge(sequence)
    t = 0.0
    for step in sequence:
        assert challenge.state.step is step
        state, t = run(challenge, movement(step), t)
    assert state.status is ChallengeStatus.PASSED, state


def test_static_replay_times_out() -> None:
    challenge = ActiveChallenge([ChallengeStep.TURN_LEFT], ChallengeConfig(step_timeout_s=2.0))
    state, _ = run(challenge, [(0.0, 0.0)] * int(3 * FPS))
    assert state.status is ChallengeStatus.FAILED and state.failure is ChallengeFailure.TOO_SLOW


def test_too_slow_movement_fails() -> None:
    challenge = ActiveChallenge([ChallengeStep.TURN_LEFT], ChallengeConfig(step_timeout_s=2.0))
    state, _ = run(challenge, movement(ChallengeStep.TURN_LEFT, ramp_s=4.0))
    assert state.status is ChallengeStatus.FAILED and state.failure is ChallengeFailure.TOO_SLOW


def test_replayed_video_with_the_wrong_script_fails() -> None:
    # a recording of someone turning right, replayed when the kiosk asks for a left turn
    challenge = ActiveChallenge([ChallengeStep.TURN_LEFT])
    state, _ = run(challenge, movement(ChallengeStep.TURN_RIGHT))
    assert state.status is ChallengeStatus.FAILED and state.failure is ChallengeFailure.WRONG_MOVE


def test_cut_to_a_turned_face_is_too_fast() -> None:
    challenge = ActiveChallenge([ChallengeStep.TURN_LEFT])
    state, _ = run(challenge, [(0.0, 0.0)] * 5 + [(0.5, 0.0)] * 5)
    assert state.status is ChallengeStatus.FAILED and state.failure is ChallengeFailure.TOO_FAST


def test_face_swapped_mid_challenge_fails() -> None:
    challenge = ActiveChallenge([ChallengeStep.TURN_LEFT])
    challenge.observe(0.0, face())
    state = challenge.observe(0.03, face(x=420.0))
    assert state.status is ChallengeStatus.FAILED and state.failure is ChallengeFailure.FACE_LOST


def test_random_sequence_varies_and_never_repeats_a_step() -> None:
    seqs = {tuple(random_sequence(3)) for _ in range(50)}
    assert len(seqs) > 5
    assert all(a is not b for s in seqs for a, b in itertools.pairwise(s))
