"""Active liveness: a random sequence of head movements, each within a time limit.

Why a replayed video fails: the sequence is drawn fresh for every attempt (``secrets``), each step
must *start* from a frontal pose after its prompt, reach the target pose within
``step_timeout_s`` and come back; a still photo never moves (timeout), a recording follows its own
script, not this one, and a splice that jumps to the target pose in one frame is refused as
implausibly fast. The face must stay the same face (its box may not jump) throughout.

Only movements YuNet's 5 landmarks can see are used: turn left, turn right, nod (chin down) and
look up. Blink and open-mouth need eyelid and lip contours (see models/pose.py).
"""

from __future__ import annotations

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


@dataclass(frozen=True)
class ChallengeState:
    status: ChallengeStatus
    step: ChallengeStep | None      # the step the person should do now
    index: int                      # 0-based position of that step
    total: int
    failure: ChallengeFailure = ChallengeFailure.NONE
    progress: float = 0.0           # 0..1 towards the current step's target


def random_sequence(count: int, rng: secrets.SystemRandom | None = None) -> list[ChallengeStep]:
    """``count`` steps, no step twice in a row, drawn with a CSPRNG so a replay cannot predict them."""
    rng = rng or secrets.SystemRandom()
    steps: list[ChallengeStep] = []
    options = list(ChallengeStep)
    for _ in range(count):
        steps.append(rng.choice([s for s in options if not steps or s is not steps[-1]]))
    return steps


class ActiveChallenge:
    """Feed it (timestamp, face or None) for each analysed frame; it says where the person is."""

    def __init__(self, sequence: list[ChallengeStep], config: ChallengeConfig | None = None,
                 baseline: tuple[float, float] = (0.0, 0.0)) -> None:
        """``baseline``: the person's own (yaw, pitch) when facing the screen, measured on the
        frames that passed the quality gate; a camera above the screen sees every face slightly
        from above, so moves are measured from there, not from an ideal frontal pose."""
        if not sequence:
            raise ValueError("a challenge needs at least one step")
        config = config or ChallengeConfig()
        self._baseline = baseline
        self.sequence = list(sequence)
        self.config = config
        self._index = 0
        self._step_started: float | None = None
        self._neutral_at: float | None = None
        self._rest_at: float | None = None      # last moment the head was near rest for this step
        self._reached = False
        self._last_face: Face | None = None
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

    def observe(self, t: float, face: Face | None) -> ChallengeState:
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
        progress = self._progress(step, pose)
        neutral = abs(pose.yaw) < c.neutral_max and abs(pose.pitch) < c.neutral_max
        if not self._reached:
            if neutral:
                self._neutral_at = t          # the latest frontal moment before the move
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
            self._index += 1
            if self._index == len(self.sequence):
                return self._finish(ChallengeStatus.PASSED)
            self._step_started, self._neutral_at, self._rest_at, self._reached = t, t, t, False
            self._state = ChallengeState(ChallengeStatus.RUNNING, self.sequence[self._index], self._index,
                                         len(self.sequence))
            return self._state
        shown = 1.0 if self._reached else max(0.0, min(progress, 1.0))
        self._state = ChallengeState(ChallengeStatus.RUNNING, step, self._index, len(self.sequence), progress=shown)
        return self._timeout_check(t)

    def _timeout_check(self, t: float, failure: ChallengeFailure = ChallengeFailure.TOO_SLOW) -> ChallengeState:
        if self._step_started is not None and t - self._step_started > self.config.step_timeout_s:
            return self._finish(ChallengeStatus.FAILED, failure)
        return self._state
