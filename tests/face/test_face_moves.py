"""Blink and open-mouth challenges on frame sequences synthesised from real faces: the eyelids closed
by a warp driven by the dense landmarks (upper lid pulled down onto the lower), the jaw opened by
moving the chin and lower lip down (the mouth gap filled dark); a replayed recording of another
attempt's order is refused."""

from __future__ import annotations

import itertools

import cv2
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
from models.landmarks import LEFT_EYE, RIGHT_EYE

FPS = 15.0


def _warp(image: np.ndarray, src: np.ndarray, dst: np.ndarray, anchors: np.ndarray, radius: float) -> np.ndarray:
    """Move the pixels at ``src`` points to ``dst`` smoothly (Gaussian-weighted displacement field),
    keeping ``anchors`` still: a landmark-driven local warp."""
    h, w = image.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    dx = np.zeros_like(xs)
    dy = np.zeros_like(ys)
    weight = np.full_like(xs, 1e-6)
    for (sx, sy), (tx, ty) in zip(np.vstack([dst, anchors]), np.vstack([src, anchors]), strict=True):
        g = np.exp(-((xs - sx) ** 2 + (ys - sy) ** 2) / (2 * radius ** 2))
        dx += g * (tx - sx)
        dy += g * (ty - sy)
        weight += g
    return cv2.remap(image, (xs + dx / np.maximum(weight, 1.0)).astype(np.float32),
                     (ys + dy / np.maximum(weight, 1.0)).astype(np.float32),
                     cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def closed_eyes(image: np.ndarray, points: np.ndarray) -> np.ndarray:
    """The upper lid slid down onto the lower one: inside each eye's band every pixel samples the
    image one lid-gap higher (lid skin replaces the iris), fading out above the brow line and at the
    eye corners; below the lower lid nothing moves."""
    h, w = image.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    shift = np.zeros_like(ys)
    for outer, inner, (u1, l1), (u2, l2) in (RIGHT_EYE, LEFT_EYE):
        cx = (points[outer, 0] + points[inner, 0]) / 2
        half = abs(points[outer, 0] - points[inner, 0]) * 0.65
        gap = float(np.mean([points[l1, 1] - points[u1, 1], points[l2, 1] - points[u2, 1]])) * 1.15
        lower = float(max(points[l1, 1], points[l2, 1]))
        wx = np.clip(1.5 - 1.5 * np.abs(xs - cx) / half, 0, 1)
        above = np.clip(1 - (lower - gap * 3.5 - ys) / (gap * 2), 0, 1) * (ys <= lower)
        below = np.clip(1 - (ys - lower) / (gap * 0.4), 0, 1) * (ys > lower)
        shift = np.maximum(shift, gap * wx * (above + below))
    return cv2.remap(image, xs, (ys - shift).astype(np.float32), cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def open_jaw(image: np.ndarray, points: np.ndarray, face) -> np.ndarray:
    drop = 0.22 * face.h
    lower = [14, 17, 87, 317, 152, 148, 377, 175]          # lower lip (inner/outer) and chin contour
    src = points[lower, :2]
    dst = src + np.array([0, drop])
    anchors = points[[13, 0, 1, 4, 78, 308, 61, 291], :2]     # upper lip, nose, mouth corners stay
    out = _warp(image, src, dst, anchors, radius=face.w * 0.12)
    gap = np.array([points[78, :2], points[13, :2], points[308, :2], points[14, :2] + [0, drop]], np.int32)
    cv2.fillPoly(out, [gap], (40, 25, 30), cv2.LINE_AA)       # the open mouth is dark inside
    return out


@pytest.fixture(scope="module")
def faces(pipeline, images):
    """Real faces with their detection and dense landmarks."""
    out = []
    for name in ("image_T1", "obama"):
        frame = images[name]
        face = max(pipeline.analyse(frame).faces, key=lambda f: f.w)
        assert face is not None, name
        points, flag = pipeline.landmarks.points(frame, face)
        assert flag > 0.9
        out.append((name, frame, face, points))
    return out


def test_dense_landmarks_sit_on_the_eyes_and_mouth(faces) -> None:
    for name, _, face, points in faces:
        # dense eye centres (corner midpoints) agree with YuNet's 5-point eyes within 15% of the eye distance
        eye_d = np.hypot(*(face.landmarks[0] - face.landmarks[1]))
        right = points[[33, 133], :2].mean(0)
        left = points[[263, 362], :2].mean(0)
        assert np.hypot(*(right - face.landmarks[0])) < 0.15 * eye_d, name
        assert np.hypot(*(left - face.landmarks[1])) < 0.15 * eye_d, name


def test_eye_and_mouth_measures_follow_the_synthesised_movements(pipeline, faces) -> None:
    jawed = []
    for name, frame, face, points in faces:
        rest = pipeline.openness(frame, face)
        shut = pipeline.openness(closed_eyes(frame, points), face)
        jaw = pipeline.openness(open_jaw(frame, points, face), face)
        assert rest.eye > 0.15 and shut.eye < ChallengeConfig().blink_closed * rest.eye, (name, rest, shut)
        if rest.mouth < 0.1:   # the jaw warp opens a closed mouth; a smile with teeth is already open
            jawed.append(name)
            assert jaw.mouth > rest.mouth + ChallengeConfig().mouth_target, (name, rest, jaw)
    assert jawed


def _sequence(pipeline, frame, face, points, moves: list[str]) -> list[tuple[float, object, object]]:
    """(t, face, openness) at 15 fps: rest, then each move held 0.4 s and released."""
    looks = {"rest": frame, "blink": closed_eyes(frame, points), "open_mouth": open_jaw(frame, points, face)}
    frames = ["rest"] * 4
    for move in moves:
        frames += [move] * 6 + ["rest"] * 5
    out = []
    for i, look in enumerate(frames):
        image = looks[look]
        found = pipeline.analyse(image).faces
        f = found[0] if found else None
        out.append((i / FPS, f, pipeline.openness(image, f) if f is not None else None))
    return out


def _run(pipeline, entry, sequence_asked, performed) -> object:
    _, frame, face, points = entry
    base = pipeline.openness(frame, face)
    challenge = ActiveChallenge(sequence_asked, baseline=(0.0, 0.0), openness_baseline=(base.eye, base.mouth))
    state = challenge.state
    for t, f, openness in _sequence(pipeline, frame, face, points, [m.value for m in performed]):
        state = challenge.observe(t, f, openness)
        if state.status is not ChallengeStatus.RUNNING:
            break
    return state


def test_blink_then_open_mouth_passes_and_a_replay_of_the_other_order_fails(pipeline, faces) -> None:
    entry = faces[0]          # image_T1: mouth closed at rest
    asked = [ChallengeStep.BLINK, ChallengeStep.OPEN_MOUTH]
    assert _run(pipeline, entry, asked, asked).status is ChallengeStatus.PASSED
    # a recording of another attempt (mouth first) replayed to this one
    replay = _run(pipeline, entry, asked, [ChallengeStep.OPEN_MOUTH, ChallengeStep.BLINK])
    assert replay.status is ChallengeStatus.FAILED and replay.failure is ChallengeFailure.WRONG_MOVE
    # a still photo never blinks
    still = _run(pipeline, entry, [ChallengeStep.BLINK], [])
    assert still.status is ChallengeStatus.RUNNING and still.progress < 0.5


def test_order_and_moves_are_random_and_configurable() -> None:
    orders = {tuple(random_sequence(3, moves=(ChallengeStep.BLINK, ChallengeStep.OPEN_MOUTH, ChallengeStep.NOD)))
              for _ in range(60)}
    assert len(orders) > 3
    assert all(set(o) <= {ChallengeStep.BLINK, ChallengeStep.OPEN_MOUTH, ChallengeStep.NOD} for o in orders)
    assert all(a is not b for o in orders for a, b in itertools.pairwise(o))
    with pytest.raises(ValueError):
        random_sequence(2, moves=(ChallengeStep.BLINK,))


def test_challenge_moves_are_validated_in_config_and_policy() -> None:
    from kiosk.config.schema import FaceSection
    from models.policy import FacePolicy

    assert FaceSection().validate() is None
    assert FaceSection().challenge_move_list() == ("turn_left", "turn_right", "nod", "look_up", "blink", "open_mouth")
    assert FaceSection(challenge_moves="blink").validate()[0] == "challenge_moves"       # one move, two steps
    assert FaceSection(challenge_moves="blink, wink").validate()[0] == "challenge_moves"
    assert FaceSection(challenge_moves="blink, open_mouth").validate() is None
    with pytest.raises(ValueError, match="challenge_moves"):
        FacePolicy(challenge_moves=("fly",))
