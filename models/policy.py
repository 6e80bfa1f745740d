"""The face decision policy (which checks, thresholds, tries) and the decision it produces."""

from __future__ import annotations

import bisect
import threading
from dataclasses import dataclass, field
from enum import StrEnum

from models.challenge import ChallengeConfig, ChallengeFailure, ChallengeStep
from models.quality import QualityReason, QualityThresholds
from models.reference import ReferenceProblem
from models.screen import (
    SHIPPED_MOVE_BACK_ABOVE,
    SHIPPED_SCREEN_BAND_EDGES,
    SHIPPED_SCREEN_THRESHOLDS,
    screen_problem,
)

SHIPPED_MATCH_THRESHOLD = 0.363       # SFace cosine (OpenCV model zoo's published operating point)
SHIPPED_LIVENESS_THRESHOLD = 0.8      # fused MiniFASNet P(real); test images: live 1.000, attacks <= 0.23


class FaceOutcome(StrEnum):
    MATCH = "match"                        # same person, live: accepted
    NO_MATCH = "no_match"                  # live, but not the reference person
    SPOOF = "spoof"                        # passive liveness says photo/screen
    CHALLENGE_FAILED = "challenge_failed"  # active challenge not done (or done too fast/slow)
    NO_USABLE_FRAME = "no_usable_frame"    # the quality gate never passed in time
    GO_TO_COUNTER = "go_to_counter"        # tries used up: no more attempts at the kiosk
    BAD_REFERENCE = "bad_reference"        # the reference photo has no usable face
    CAMERA_UNAVAILABLE = "camera_unavailable"


@dataclass(frozen=True)
class FacePolicy:
    match_threshold: float = SHIPPED_MATCH_THRESHOLD
    liveness_threshold: float = SHIPPED_LIVENESS_THRESHOLD
    require_match: bool = True
    require_passive_liveness: bool = True
    active_challenge: bool = True
    challenge_steps: int = 2
    challenge_step_timeout_s: float = 6.0
    # Moves drawn from (CSPRNG, fresh order per attempt): blink / open_mouth need the dense landmark
    # model and are left out, with a warning, where it is not installed.
    challenge_moves: tuple[str, ...] = ("turn_left", "turn_right", "nod", "look_up", "blink", "open_mouth")
    max_attempts: int = 3
    decision_timeout_s: float = 20.0       # per attempt, challenge included
    stable_frames: int = 3                 # consecutive good frames before deciding
    keep_capture_for_review: bool = False  # seal the decision frame for the backend's reviewers
    review_public_key: bytes | None = None # X25519 raw key; required when keep_capture_for_review
    mirrored_preview: bool = False         # frames reach the pipeline mirrored (affects left/right)
    quality: QualityThresholds = field(default_factory=QualityThresholds)
    # The passive screen used while the active challenge is on (see SHIPPED_SCREEN_*).
    screen_band_edges: tuple[float, ...] = SHIPPED_SCREEN_BAND_EDGES
    screen_thresholds: tuple[float, ...] = SHIPPED_SCREEN_THRESHOLDS
    # Faces wider than this share of the frame are asked to move back a little before liveness is
    # scored: the crops lack the models' context there (0 = never; docs/face.md, "Two-tier decision").
    move_back_above: float = SHIPPED_MOVE_BACK_ABOVE

    def __post_init__(self) -> None:
        if not 0 < self.match_threshold < 1 or not 0 < self.liveness_threshold < 1:
            raise ValueError("thresholds must lie between 0 and 1")
        problem = screen_problem(self.screen_band_edges, self.screen_thresholds, self.liveness_threshold)
        if problem:
            raise ValueError(problem[1])
        if not 0 <= self.move_back_above < 1:
            raise ValueError("move_back_above: expected a face-width fraction below 1 (0 = never ask)")
        if self.max_attempts < 1 or self.challenge_steps < 1 or self.stable_frames < 1:
            raise ValueError("max_attempts, challenge_steps and stable_frames must be at least 1")
        unknown = [m for m in self.challenge_moves if m not in {s.value for s in ChallengeStep}]
        if unknown or not self.challenge_moves:
            raise ValueError(f"challenge_moves: unknown or no moves {unknown}; expected some of "
                             f"{', '.join(s.value for s in ChallengeStep)}")
        if self.keep_capture_for_review and not self.review_public_key:
            raise ValueError("keep_capture_for_review needs review_public_key (backend.public_key_file)")

    def passive_threshold(self, face_width_fraction: float) -> float:
        """The passive-liveness threshold this decision uses: the strict one when the active challenge
        is off (passive liveness decides alone), else the screen of the face's size band."""
        if not self.active_challenge:
            return self.liveness_threshold
        return self.screen_thresholds[bisect.bisect_right(self.screen_band_edges, face_width_fraction)]

    def new_attempts(self) -> FaceAttempts:
        """The tries for one visit: create once per visit and pass to every verify()."""
        return FaceAttempts(self.max_attempts)

    def challenge_config(self) -> ChallengeConfig:
        return ChallengeConfig(steps=self.challenge_steps, step_timeout_s=self.challenge_step_timeout_s,
                               mirrored=self.mirrored_preview)


class FaceAttempts:
    """Tries left in one visit; the flow owns it and passes it to every verify() of the visit."""

    def __init__(self, max_attempts: int = 3) -> None:
        self.max_attempts = max_attempts
        self._used = 0
        self._lock = threading.Lock()

    @property
    def used(self) -> int:
        return self._used

    @property
    def left(self) -> int:
        return max(0, self.max_attempts - self._used)

    def take(self) -> int | None:
        """Start an attempt: its 1-based number, or None when none are left."""
        with self._lock:
            if self._used >= self.max_attempts:
                return None
            self._used += 1
            return self._used


@dataclass(frozen=True)
class FaceDecision:
    """What the flow records and shows. Scores are numbers only: no image, no template."""

    outcome: FaceOutcome
    attempt: int                       # 1-based; 0 when no attempt was left
    attempts_left: int
    match_score: float | None = None
    liveness_score: float | None = None
    challenge_failure: ChallengeFailure = ChallengeFailure.NONE
    last_quality: QualityReason | None = None
    elapsed_s: float = 0.0
    reference_problem: ReferenceProblem | None = None   # why, when the outcome is BAD_REFERENCE
    liveness_threshold: float | None = None  # the passive threshold applied (screen band or strict)
    sealed_capture: bytes | None = field(default=None, repr=False)  # only if policy sends it for review

    @property
    def accepted(self) -> bool:
        return self.outcome is FaceOutcome.MATCH

    @property
    def go_to_counter(self) -> bool:
        return self.outcome is FaceOutcome.GO_TO_COUNTER or (not self.accepted and self.attempts_left == 0)


def decide(policy: FacePolicy, match_score: float | None, liveness_score: float | None,
           face_width_fraction: float | None = None) -> FaceOutcome:
    """Combine the scores per policy (the challenge and quality are decided before this).
    ``face_width_fraction`` picks the screen band when the active challenge is on; without it the
    strict threshold applies."""
    threshold = policy.liveness_threshold if face_width_fraction is None else policy.passive_threshold(face_width_fraction)
    if policy.require_passive_liveness and (liveness_score is None or liveness_score < threshold):
        return FaceOutcome.SPOOF
    if policy.require_match and (match_score is None or match_score < policy.match_threshold):
        return FaceOutcome.NO_MATCH
    return FaceOutcome.MATCH
