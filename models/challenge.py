"""Active liveness: a random sequence of head movements, each within a time limit.

Why a replayed video fails: the sequence is drawn fresh for every attempt (``secrets``), each step
must *start* from a frontal pose after its prompt, reach the target pose within
``step_timeout_s`` and come back; a still photo never moves (timeout), a recording follows its own
script, not this one, and a splice that jumps to the target pose in one frame is refused as
implausibly fast. The face must stay the same face (its box may not jump) throughout.

Head moves (turn left/right, nod, look up) are measured on YuNet's 5 landmarks; blink and open
mouth on the 468-point dense landmarks (models/landmarks.py: eye aspect ratio and inner-lip gap,
relative to the person's own values on the frames that passed the gate). A replayed recording of
another attempt performs another order: a move that belongs to a different step (the mouth opened,
the head turned or nodded while a blink or a mouth step is asked) fails the step as ``wrong_move``.
Blinks are never "foreign" (people blink all the time) and are not timed (a blink is quick).
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from enum import StrEnum

from models.pose import Pose, pose_from_landmarks
from models.types import Face


class ChallengeStep(StrEnum):
    TURN_LEFT = "turn_left"        # the person's own left
    TURN_RIGHT = "turn_right"
    NOD = "nod"                    # chin down
    LOOK_UP = "look_up"
    BLINK = "blink"                # needs the dense landmark model
    OPEN_MOUTH = "open_mouth"      # needs the dense landmark model


# A face aspect within this share of rest is the mesh's own jitter, not a squeeze (models/landmarks.py:
# face_aspect; a synthesised blink or jaw moves it 0.93-1.05).
ASPECT_NOISE = 0.04

HEAD_MOVES = (ChallengeStep.TURN_LEFT, ChallengeStep.TURN_RIGHT, ChallengeStep.NOD, ChallengeStep.LOOK_UP)
FACE_MOVES = (ChallengeStep.BLINK, ChallengeStep.OPEN_MOUTH)


class ChallengeStatus(StrEnum):
    RUNNING = "running"
    PASSED = "passed"
    FAILED = "failed"


class ChallengeFailure(StrEnum):
    NONE = ""
    TOO_SLOW = "too_slow"              # the step was not done in time (a photo, a replay)
    NOT_NEUTRAL = "not_neutral"        # never faced the camera at the start of a step
    TOO_FAST = "too_fast"              # pose jumped: a cut or a swapped source
    FACE_LOST = "face_lost"            # the face left, or a different face appeared
    WRONG_MOVE = "wrong_move"          # moved the other way


@dataclass(frozen=True)
class ChallengeConfig:
    steps: int = 2
    step_timeout_s: float = 6.0
    neutral_max: float = 0.15       # |yaw| and |pitch| below this count as facing the camera
    yaw_target: float = 0.30        # a clear turn (about 28 degrees: nose depth ~0.55 eye distances)
    pitch_target: float = 0.18      # a clear nod / look up
    wrong_way: float = 0.30         # moving this far the other way fails the step
    min_move_s: float = 0.12        # neutral -> target faster than this is not a human head
    max_jump: float = 0.6           # face centre may move at most this many face widths per frame
    face_lost_s: float = 1.0        # no face for longer than this fails
    mirrored: bool = False          # True when frames are mirrored before they reach the pipeline
    # Read on MediaPipe's eye-region model where installed: a synthesised shut eye reads a median 0.42 of
    # its own open ratio (0.49 on eyes narrow at rest), a still photo under sensor noise never below 0.96;
    # the mesh's own lids (the fallback) read 0.64 and 0.92 (bench/face_moves_check.py, docs/face.md "Blink").
    blink_closed: float = 0.78      # eye aspect ratio below this share of the person's own: eyes closed
    blink_open: float = 0.9         # ... back above this share: eyes open again (step done)
    mouth_target: float = 0.18      # inner-lip gap / mouth width above the person's own: mouth open (closed ~0.01-0.05)
    mouth_closed: float = 0.08      # ... back below own + this: closed again (step done)
    max_face_squeeze: float = 0.10  # face aspect further than this from rest: a tilted or turned photo, not read
    min_turn_width: float = 0.72    # a turn counts only while the eye distance keeps this share of rest's


@dataclass(frozen=True)
class ChallengeState:
    status: ChallengeStatus
    step: ChallengeStep | None      # the step the person should do now
    index: int                      # 0-based position of that step
    total: int
    failure: ChallengeFailure = ChallengeFailure.NONE
    progress: float = 0.0           # 0..1 towards the current step's target


def random_sequence(count: int, rng: random.Random | None = None,
                    moves: tuple[ChallengeStep, ...] | list[ChallengeStep] = HEAD_MOVES) -> list[ChallengeStep]:
    """``count`` steps from ``moves``, no step twice in a row, drawn with a CSPRNG so a replay
    cannot predict them (the order differs from attempt to attempt)."""
    rng = rng or secrets.SystemRandom()
    options = list(dict.fromkeys(moves))
    if not options or (count > 1 and len(options) < 2):
        raise ValueError("a challenge of several steps needs at least two different moves")
    while True:
        steps: list[ChallengeStep] = []
        for _ in range(count):
            steps.append(rng.choice([s for s in options if not steps or s is not steps[-1]]))
        # A blink is never foreign (people blink all the time), so a looped recording holding
        # "blink, then X" passes a sequence asking "X, blink": the blink is never the last of
        # several steps (measured: bench/face_liveness_decision.py, docs/face.md "Two-tier decision").
        if count == 1 or steps[-1] is not ChallengeStep.BLINK:
            return steps


class ActiveChallenge:
    """Feed it (timestamp, face or None) for each analysed frame; it says where the person is."""

    def __init__(self, sequence: list[ChallengeStep], config: ChallengeConfig | None = None,
                 baseline: tuple[float, float] = (0.0, 0.0),
                 openness_baseline: tuple[float, ...] | None = None) -> None:
        """``baseline``: the person's own (yaw, pitch) when facing the screen, measured on the
        frames that passed the quality gate; a camera above the screen sees every face slightly
        from above, so moves are measured from there, not from an ideal frontal pose."""
        if not sequence:
            raise ValueError("a challenge needs at least one step")
        config = config or ChallengeConfig()
        self._baseline = baseline
        # (eye aspect ratio, mouth opening[, face aspect]) at rest; with the face aspect, a frame whose
        # face is squeezed along one axis is not read for a blink or an open mouth (_squeezed)
        self._open_base = openness_baseline[:2] if openness_baseline is not None else None
        self._aspect0 = openness_baseline[2] if openness_baseline is not None and len(openness_baseline) > 2 else 0.0
        self.sequence = list(sequence)
        self.config = config
        self._index = 0
        self._step_started: float | None = None
        self._neutral_at: float | None = None
        self._rest_at: float | None = None      # last moment the head was near rest for this step
        self._reached = False
        self._last_face: Face | None = None
        self._rest_eye_distance: float | None = None    # at the latest frontal moment
        self._last_seen: float | None = None
        self._state = ChallengeState(ChallengeStatus.RUNNING, self.sequence[0], 0, len(self.sequence))

    @property
    def state(self) -> ChallengeState:
        return self._state

    def _finish(self, status: ChallengeStatus, failure: ChallengeFailure = ChallengeFailure.NONE) -> ChallengeState:
        step = self.sequence[min(self._index, len(self.sequence) - 1)]
        self._state = ChallengeState(status, step, self._index, len(self.sequence), failure,
                                     1.0 if status is ChallengeStatus.PASSED else 0.0)
        return self._state

    def _progress(self, step: ChallengeStep, pose: Pose) -> float:
        c = self.config
        yaw = -pose.yaw if c.mirrored else pose.yaw
        # Unmirrored camera: the person's left is the image's right, so a left turn moves the
        # nose towards +x (positive yaw).
        if step is ChallengeStep.TURN_LEFT:
            return yaw / c.yaw_target
        if step is ChallengeStep.TURN_RIGHT:
            return -yaw / c.yaw_target
        if step is ChallengeStep.NOD:
            return pose.pitch / c.pitch_target
        return -pose.pitch / c.pitch_target

    def _flat_turn(self, pose: Pose) -> bool:
        """A flat photo turned in the hand: its nose moves off the eye midline only by perspective,
        so a turn's yaw needs the eyes squeezed to half their distance (2 of 56 turned deepface
        prints passed a turn step at 45-60 degrees); a real head reaches the target at about 28
        degrees, its eye distance still ~0.88 of rest."""
        rest = self._rest_eye_distance
        return rest is not None and pose.eye_distance < self.config.min_turn_width * rest

    def _squeezed(self, openness: object) -> bool:
        """The whole face squeezed along one axis since rest: a flat photo tilted back in the hand
        shrinks the lid gap with everything vertical (a fake blink: 13 of 38 tilted prints passed a
        blink step before this check), one turned shrinks the mouth's width (a fake open mouth). A
        real blink or jaw leaves the face's aspect within a few per cent, so such a frame is not read."""
        aspect = getattr(openness, "aspect", 0.0)
        if self._aspect0 <= 0 or aspect <= 0:
            return False
        return abs(aspect / self._aspect0 - 1.0) > self.config.max_face_squeeze

    def _eye(self, openness: object) -> float:
        """The eye ratio with the face's own vertical shrink divided out. The eye model reads the lid
        gap of a print tilted back in the hand lower than the face aspect shrinks (30 degrees: 0.77 of
        rest against an aspect of 0.91 on img12, within max_face_squeeze), so the shrink the rigid
        parts show is taken off. Only a shrink lowers the lid gap with the face, and one under
        ASPECT_NOISE is the mesh's own jitter: left alone, so a genuine blink is not inflated by it."""
        aspect = getattr(openness, "aspect", 0.0)
        eye = openness.eye  # type: ignore[attr-defined]
        if self._aspect0 <= 0 or aspect <= 0:
            return eye
        shrink = aspect / self._aspect0
        return eye / shrink if shrink < 1.0 - ASPECT_NOISE else eye

    def face_move_progress(self, step: ChallengeStep, openness: object | None) -> float | None:
        """How far one frame's openness is towards a blink or open-mouth step (>= 1: the move is
        made), None where the frame is not read (no openness, no rest values, a squeezed face)."""
        if openness is None or self._open_base is None or self._squeezed(openness):
            return None
        eye0, mouth0 = self._open_base
        eye, mouth = self._eye(openness), openness.mouth  # type: ignore[attr-defined]
        c = self.config
        if step is ChallengeStep.BLINK:
            return (eye0 - eye) / max(eye0 * (1 - c.blink_closed), 1e-6)
        return (mouth - mouth0) / c.mouth_target

    def _observe_face_move(self, t: float, step: ChallengeStep, pose: Pose, openness: object | None) -> ChallengeState:
        c = self.config
        if abs(pose.yaw) >= c.yaw_target or abs(pose.pitch) >= c.pitch_target:
            return self._finish(ChallengeStatus.FAILED, ChallengeFailure.WRONG_MOVE)   # another step's move
        progress = self.face_move_progress(step, openness)
        if progress is None:
            return self._timeout_check(t)
        if step is ChallengeStep.BLINK and self.face_move_progress(ChallengeStep.OPEN_MOUTH, openness) >= 1.0:
            return self._finish(ChallengeStatus.FAILED, ChallengeFailure.WRONG_MOVE)
        if not self._reached:
            self._reached = progress >= 1.0
        else:
            eye0, mouth0 = self._open_base  # type: ignore[misc]
            eye, mouth = self._eye(openness), openness.mouth  # type: ignore[attr-defined]
            back = eye >= eye0 * c.blink_open if step is ChallengeStep.BLINK else mouth <= mouth0 + c.mouth_closed
            if back:
                return self._next_step(t)
        shown = 1.0 if self._reached else max(0.0, min(progress, 1.0))
        self._state = ChallengeState(ChallengeStatus.RUNNING, step, self._index, len(self.sequence), progress=shown)
        return self._timeout_check(t)

    def _next_step(self, t: float) -> ChallengeState:
        self._index += 1
        if self._index == len(self.sequence):
            return self._finish(ChallengeStatus.PASSED)
        self._step_started, self._neutral_at, self._rest_at, self._reached = t, t, t, False
        self._state = ChallengeState(ChallengeStatus.RUNNING, self.sequence[self._index], self._index,
                                     len(self.sequence))
        return self._state

    def observe(self, t: float, face: Face | None, openness: object | None = None) -> ChallengeState:
        """``openness``: models.landmarks.Openness of this frame (needed by blink / open-mouth steps,
        and used in head steps to refuse an open mouth that belongs to another order)."""
        if self._state.status is not ChallengeStatus.RUNNING:
            return self._state
        c = self.config
        if self._step_started is None:
            self._step_started = t
        if face is None:
            if self._last_seen is not None and t - self._last_seen > c.face_lost_s:
                return self._finish(ChallengeStatus.FAILED, ChallengeFailure.FACE_LOST)
            return self._timeout_check(t)
        if self._last_face is not None:
            jump = abs(face.centre[0] - self._last_face.centre[0]) + abs(face.centre[1] - self._last_face.centre[1])
            if jump > c.max_jump * max(self._last_face.w, 1.0):
                return self._finish(ChallengeStatus.FAILED, ChallengeFailure.FACE_LOST)
        self._last_face, self._last_seen = face, t
        raw = pose_from_landmarks(face.landmarks)
        pose = Pose(raw.yaw - self._baseline[0], raw.pitch - self._baseline[1], raw.roll_deg, raw.eye_distance)
        step = self.sequence[self._index]
        if step in FACE_MOVES:
            return self._observe_face_move(t, step, pose, openness)
        mouth = self.face_move_progress(ChallengeStep.OPEN_MOUTH, openness)
        if mouth is not None and mouth >= 1.0:
            return self._finish(ChallengeStatus.FAILED, ChallengeFailure.WRONG_MOVE)   # another step's move
        progress = self._progress(step, pose)
        neutral = abs(pose.yaw) < c.neutral_max and abs(pose.pitch) < c.neutral_max
        if not self._reached:
            if neutral:
                self._neutral_at = t          # the latest frontal moment before the move
                self._rest_eye_distance = pose.eye_distance
            if step in (ChallengeStep.TURN_LEFT, ChallengeStep.TURN_RIGHT) and self._flat_turn(pose):
                progress = min(progress, 0.99)
            if progress <= 0.2:
                self._rest_at = t             # the move starts after this
            elif self._neutral_at is None:
                return self._timeout_check(t, ChallengeFailure.NOT_NEUTRAL)
            target = c.yaw_target if step in (ChallengeStep.TURN_LEFT, ChallengeStep.TURN_RIGHT) else c.pitch_target
            if progress <= -c.wrong_way / target and self._neutral_at is not None:
                return self._finish(ChallengeStatus.FAILED, ChallengeFailure.WRONG_MOVE)
            if progress >= 1.0 and self._neutral_at is not None:
                if t - (self._rest_at if self._rest_at is not None else self._neutral_at) < c.min_move_s:
                    return self._finish(ChallengeStatus.FAILED, ChallengeFailure.TOO_FAST)
                self._reached = True
        elif neutral:                         # back to the camera: step done
            return self._next_step(t)
        shown = 1.0 if self._reached else max(0.0, min(progress, 1.0))
        self._state = ChallengeState(ChallengeStatus.RUNNING, step, self._index, len(self.sequence), progress=shown)
        return self._timeout_check(t)

    def _timeout_check(self, t: float, failure: ChallengeFailure = ChallengeFailure.TOO_SLOW) -> ChallengeState:
        if self._step_started is not None and t - self._step_started > self.config.step_timeout_s:
            return self._finish(ChallengeStatus.FAILED, failure)
        return self._state
