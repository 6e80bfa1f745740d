"""Blink and open-mouth challenges on frame sequences synthesised from real faces: the eyelids closed
by a warp driven by the dense landmarks (upper lid pulled down onto the lower), the jaw opened by
moving the chin and lower lip down (the mouth gap filled dark); a replayed recording of another
attempt's order is refused."""

from __future__ import annotations

import importlib.util
import itertools
from pathlib import Path

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

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("face_moves_synth", ROOT / "bench" / "face_moves_synth.py")
_synth = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_synth)
closed_eyes, open_jaw = _synth.closed_eyes, _synth.open_jaw

FPS = 15.0


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
    config = ChallengeConfig()
    for name, frame, face, points in faces:
        rest = pipeline.openness(frame, face)
        shut = pipeline.openness(closed_eyes(frame, points), face)
        jaw = pipeline.openness(open_jaw(frame, points, face), face)
        assert rest.eye > 0.15 and shut.eye < config.blink_closed * rest.eye, (name, rest, shut)
        # the jaw opens from the rest opening, a smile's open mouth included (obama smiles with teeth)
        assert jaw.mouth > rest.mouth + config.mouth_target, (name, rest, jaw)
    assert any(pipeline.openness(frame, face).mouth >= 0.1 for _, frame, face, _ in faces)   # a smile is covered


def test_synthesised_moves_keep_the_head_still(pipeline, faces) -> None:
    """The warps move lids and jaw only: the face is still found and the 5-point head pose stays far
    from the challenge's turn / nod targets (a move there would fail the step as wrong_move)."""
    from models.pose import pose_from_landmarks

    config = ChallengeConfig()
    for name, frame, face, points in faces:
        rest = pose_from_landmarks(face.landmarks)
        for move in (closed_eyes(frame, points), open_jaw(frame, points, face)):
            found = pipeline.analyse(move).faces
            assert len(found) == 1, name
            pose = pose_from_landmarks(found[0].landmarks)
            assert abs(pose.yaw - rest.yaw) < config.yaw_target / 3, (name, pose, rest)
            assert abs(pose.pitch - rest.pitch) < config.pitch_target / 3, (name, pose, rest)


def test_eye_model_lids_sit_on_the_mesh_eyes(pipeline, faces) -> None:
    """The eye model (crop placed by the mesh's corners, the subject's left eye mirrored, the
    conversion from TFLite): its lid contour lies on the mesh's (MediaPipe's own mapping of the 16
    points; the two models place the outer corner 10-20% of the eye's width apart, a mirrored or
    misplaced crop would put it a whole width away) and its upper lid lies above the lower."""
    from models.landmarks import EYE_MODEL_LIDS, LEFT_EYE, RIGHT_EYE

    in_mesh = {False: [33, 7, 163, 144, 145, 153, 154, 155, 133, 246, 161, 160, 159, 158, 157, 173],
               True: [263, 249, 390, 373, 374, 380, 381, 382, 362, 466, 388, 387, 386, 385, 384, 398]}
    eyes = pipeline.landmarks.eyes
    assert eyes is not None, "the eye model is installed with the mesh from the mediapipe wheel"
    for name, frame, _, points in faces:
        for (outer, inner, *_), mirror in ((RIGHT_EYE, False), (LEFT_EYE, True)):
            lids = eyes.lids(frame, points[outer, :2], points[inner, :2], mirror)
            width = np.hypot(*(points[outer, :2] - points[inner, :2]))
            apart = np.hypot(*(lids - points[in_mesh[mirror], :2]).T) / width
            assert apart.max() < 0.3 and apart.mean() < 0.2, (name, mirror, apart.round(2))
            assert all(lids[upper][1] < lids[lower][1] for upper, lower in EYE_MODEL_LIDS), (name, mirror)


@pytest.mark.parametrize("photo", ["biden", "obama-480p"])
def test_eye_model_reads_a_shut_lid_the_mesh_misses(pipeline, images, photo) -> None:
    """Eyes narrow at rest: the mesh's own lids read the shut eye at 81-91% of open, above the
    challenge's 78%, so the blink was never seen; the eye model reads it at 32-59%. A still photo
    under sensor noise stays near its own ratio on the eye model too (it must not blink)."""
    from models.landmarks import eye_aspect_ratio

    config = ChallengeConfig()
    frame = _kiosk_framed(pipeline, images[photo])
    face = pipeline.analyse(frame).verdict.face
    points, _ = pipeline.landmarks.points(frame, face)
    shut_frame = closed_eyes(frame, points)
    shut_face = pipeline.analyse(shut_frame).verdict.face
    shut_points, _ = pipeline.landmarks.points(shut_frame, shut_face)
    assert eye_aspect_ratio(shut_points) >= config.blink_closed * eye_aspect_ratio(points), photo
    rest, shut = pipeline.openness(frame, face), pipeline.openness(shut_frame, shut_face)
    assert shut.eye < config.blink_closed * rest.eye, (photo, rest, shut)
    noise = np.random.default_rng(7)
    for _ in range(4):
        noisy = np.clip(frame + noise.normal(0, 2.0, frame.shape), 0, 255).astype(np.uint8)
        assert pipeline.openness(noisy, pipeline.analyse(noisy).verdict.face).eye > config.blink_open * rest.eye, photo


def test_refined_lips_sit_on_the_mesh_lips(pipeline, faces) -> None:
    """The attention mesh's lips (two installed graphs, its custom operators in numpy): on the mesh's
    own lip points to within 15% of the mouth's width (the two models differ by 2-10%; a wrong crop
    matrix or sampling puts them a mouth width away), the upper inner lip above the lower."""
    from models.lips import INNER, LIPS

    assert pipeline.landmarks.lips is not None, "the attention model is installed with the mesh"
    for name, frame, face, points in faces:
        lips = pipeline.landmarks.lip_points(frame, face)
        width = np.hypot(*(points[61, :2] - points[291, :2]))
        apart = np.hypot(*(lips - points[list(LIPS), :2]).T) / width
        assert np.median(apart) < 0.15 and apart.max() < 0.4, (name, np.median(apart), apart.max())
        upper, lower = lips[INNER[0]], lips[INNER[1]]
        assert upper[1] <= lower[1], name


@pytest.mark.parametrize("photo", ["deepface/img24.jpg", "deepface/img28.jpg"])
def test_refined_lips_read_a_jaw_the_mesh_misses(pipeline, faces_dir, photo) -> None:
    """Smiles whose teeth show: the mesh's inner lips rose 0.15 with the jaw dropped below the teeth,
    short of the challenge's 0.18; the refined lips rise 0.5. A still photo under sensor noise does
    not open its mouth on them."""
    import cv2

    from models.landmarks import mouth_opening

    config = ChallengeConfig()
    frame = _kiosk_framed(pipeline, cv2.imread(str(faces_dir / photo)))
    face = pipeline.analyse(frame).verdict.face
    points, _ = pipeline.landmarks.points(frame, face)
    jaw_frame = open_jaw(frame, points, face)
    jaw_face = pipeline.analyse(jaw_frame).verdict.face
    jaw_points, _ = pipeline.landmarks.points(jaw_frame, jaw_face)
    assert mouth_opening(jaw_points) < mouth_opening(points) + config.mouth_target, photo
    rest, jaw = pipeline.openness(frame, face), pipeline.openness(jaw_frame, jaw_face)
    assert jaw.mouth >= rest.mouth + config.mouth_target, (photo, rest, jaw)
    noise = np.random.default_rng(7)
    for _ in range(4):
        noisy = np.clip(frame + noise.normal(0, 2.0, frame.shape), 0, 255).astype(np.uint8)
        still = pipeline.openness(noisy, pipeline.analyse(noisy).verdict.face)
        assert still.mouth < rest.mouth + config.mouth_closed, photo


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
    challenge = ActiveChallenge(sequence_asked, baseline=(0.0, 0.0), openness_baseline=(base.eye, base.mouth, base.aspect))
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


def _kiosk_framed(pipeline, image: np.ndarray) -> np.ndarray:
    """The photograph as a 640x480 kiosk camera would see it held up: the face ~35% of the width."""
    import cv2

    face = max(pipeline.analyse(image).faces, key=lambda f: f.w)
    scale = 0.35 * 640 / face.w
    small = cv2.resize(image, None, fx=scale, fy=scale)
    cx, cy = (face.x + face.w / 2) * scale, (face.y + face.h / 2) * scale
    return cv2.warpAffine(small, np.float32([[1, 0, 320 - cx], [0, 1, 240 - cy]]), (640, 480),
                          borderMode=cv2.BORDER_REPLICATE)


def _held_at_an_angle(frame: np.ndarray, degrees: float, axis: str, focal: float = 600.0) -> np.ndarray:
    """A flat print rotated in the hand (perspective projection): about the horizontal axis (top leaning
    back, every vertical distance shrinks) or the vertical one (every horizontal distance shrinks)."""
    import math

    import cv2

    h, w = frame.shape[:2]
    corners = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    t = math.radians(degrees)
    moved = []
    for x, y in corners - [w / 2, h / 2]:
        depth = -(y if axis == "x" else x) * math.sin(t)
        x2, y2 = (x, y * math.cos(t)) if axis == "x" else (x * math.cos(t), y)
        moved.append([w / 2 + x2 * focal / (focal + depth), h / 2 + y2 * focal / (focal + depth)])
    m = cv2.getPerspectiveTransform(corners, np.float32(moved))
    return cv2.warpPerspective(frame, m, (w, h), borderMode=cv2.BORDER_REPLICATE)


@pytest.mark.parametrize(("photo", "step", "axis", "degrees"), [
    ("deepface/img12.jpg", ChallengeStep.BLINK, "x", 50),       # tilted back: the lids' gap shrinks with the face
    ("deepface/img5.jpg", ChallengeStep.BLINK, "x", 40),
    ("deepface/img19.jpg", ChallengeStep.OPEN_MOUTH, "y", 60),  # turned: the mouth's width shrinks, its gap not
    ("deepface/img18.jpg", ChallengeStep.TURN_RIGHT, "y", 60),  # turned far: perspective moves the nose off the eyes
])
def test_a_printed_photo_tilted_or_turned_in_the_hand_fakes_no_move(pipeline, faces_dir, photo, step, axis,
                                                                     degrees) -> None:
    """Each of these passes its step without the checks (measured on the 56 deepface prints: tilted
    back 40 / 50 degrees, 25 / 51 passed a blink step on the eye model, 13 of 38 on the mesh's lids;
    turned 45 / 60 degrees, 1 / 15 an open-mouth step on the refined lips, 6 of 110 on the mesh's;
    2 of 56 turned a turn step; 0 of each with
    them): the face-aspect check and the squeeze taken off the eye ratio for blink / open mouth, the
    eye-distance check for turns."""
    import cv2

    from models.pose import pose_from_landmarks

    rest_frame = _kiosk_framed(pipeline, cv2.imread(str(faces_dir / photo)))
    rest_face = pipeline.analyse(rest_frame).faces[0]
    rest = pipeline.openness(rest_frame, rest_face)
    ramp = [15, 25, 30, 33, 36, degrees, degrees, degrees, 33, 30, 15]   # 30-36: just inside the squeeze check
    frames = [rest_frame] * 4 + [_held_at_an_angle(rest_frame, d, axis) for d in ramp] + [rest_frame] * 5
    pose = pose_from_landmarks(rest_face.landmarks)

    def first_step_done(base: tuple[float, ...], config: ChallengeConfig) -> bool:
        challenge = ActiveChallenge([step, ChallengeStep.NOD], config, baseline=(pose.yaw, pose.pitch),
                                    openness_baseline=base)
        for i, frame in enumerate(frames):
            found = pipeline.analyse(frame).faces
            face = found[0] if len(found) == 1 else None
            state = challenge.observe(i / FPS, face, pipeline.openness(frame, face) if face is not None else None)
            if state.status is not ChallengeStatus.RUNNING:
                break
        return state.index >= 1

    unchecked = ChallengeConfig(min_turn_width=0.0)
    assert first_step_done((rest.eye, rest.mouth), unchecked), "the attack no longer works without the checks"
    assert not first_step_done((rest.eye, rest.mouth, rest.aspect), ChallengeConfig())
