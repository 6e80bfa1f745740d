"""The face-verification service: quality gate -> passive liveness + 1:1 match -> active challenge.

It runs on its own worker thread (drivers.api.DeviceWorker "face") and takes frames from the
camera's latest-frame slot, so inference never slows the capture or the preview: when it is slower
than the camera, it simply skips to the newest frame. While a verify() runs it emits events the UI
turns into prompts (:class:`FaceQualityPrompt`, :class:`FaceChallengePrompt`, :class:`FaceStage`).

Privacy: frames and templates stay in this thread's locals and are dropped (templates wiped) when
the command ends; only a sealed (encrypted) capture leaves, and only when the policy asks for it.
"""

from __future__ import annotations

import logging
import random
import secrets
import time
from dataclasses import dataclass
from typing import Protocol

import cv2
import numpy as np

from drivers.api import CommandContext, CommandHandle, DeviceEvent, DeviceStatus, DeviceWorker, EventListener
from drivers.camera.api import Camera, CameraConsent, Frame, require_consent
from models.challenge import (
    FACE_MOVES,
    HEAD_MOVES,
    ActiveChallenge,
    ChallengeFailure,
    ChallengeStatus,
    ChallengeStep,
    random_sequence,
)
from models.pipeline import FacePipeline
from models.policy import FaceAttempts, FaceDecision, FaceOutcome, FacePolicy, decide
from models.pose import pose_from_landmarks
from models.quality import QualityReason
from models.reference import ReferenceImageError
from models.review import seal
from models.template import FaceTemplate
from models.types import Face

log = logging.getLogger(__name__)

CAMERA_STALL_S = 3.0        # no new frame this long: the camera is treated as unavailable
FINAL_MATCH_WAIT_S = 2.0    # after the challenge, wait this long for a frontal frame to re-match


@dataclass(frozen=True)
class FaceQualityPrompt(DeviceEvent):
    reason: QualityReason            # OK once the frame is good; else what the person should fix


@dataclass(frozen=True)
class FaceChallengePrompt(DeviceEvent):
    step: ChallengeStep
    index: int                       # 0-based
    total: int
    progress: float                  # 0..1 towards this step's target pose


@dataclass(frozen=True)
class FaceStage(DeviceEvent):
    stage: str                       # "looking", "checking", "challenge", "done"


Reference = FaceTemplate | np.ndarray | bytes   # a template, or the photo (pixels or encoded file)


class FaceVerifier(Protocol):
    """What the services layer uses (kiosk/): one verify per attempt, results as a CommandHandle."""

    @property
    def status(self) -> DeviceStatus: ...

    def start(self) -> None: ...
    def stop(self) -> None: ...
    def subscribe(self, listener: EventListener) -> object: ...

    def verify(self, reference: Reference, policy: FacePolicy, *, consent: CameraConsent,
               attempts: FaceAttempts) -> CommandHandle[FaceDecision]: ...

    def template_from_image(self, image_bgr: np.ndarray) -> CommandHandle[FaceTemplate]: ...


class FaceVerificationService:
    """The FaceVerifier over a Camera and a FacePipeline."""

    def __init__(self, camera: Camera, pipeline: FacePipeline, name: str = "face",
                 rng: random.Random | None = None) -> None:
        self.camera = camera
        # draws the challenge order; a CSPRNG unless a test asks for a known order
        self.rng = rng or secrets.SystemRandom()
        self.pipeline = pipeline
        self._worker = DeviceWorker(name)
        self.name = name
        self.last_timings_ms: dict[str, float] = {}

    @property
    def status(self) -> DeviceStatus:
        return self._worker.status

    def start(self) -> None:
        self._worker.start()
        self._worker.set_status(DeviceStatus.ONLINE, "face models loaded")

    def stop(self) -> None:
        self._worker.stop()

    def subscribe(self, listener: EventListener) -> object:
        return self._worker.subscribe(listener)

    def template_from_image(self, image_bgr: np.ndarray) -> CommandHandle[FaceTemplate]:
        return self._worker.submit("templateFromImage", lambda ctx: self.pipeline.template_from_image(image_bgr),
                                   timeout=10.0)

    def verify(self, reference: Reference, policy: FacePolicy, *, consent: CameraConsent,
               attempts: FaceAttempts) -> CommandHandle[FaceDecision]:
        require_consent(consent)       # refuse at once, on the caller's thread, without consent
        return self._worker.submit("verify", lambda ctx: _Run(self, reference, policy, attempts, ctx).run(),
                                   timeout=policy.decision_timeout_s + 10.0)


class _Run:
    """One verify() on the worker thread."""

    def __init__(self, service: FaceVerificationService, reference: Reference, policy: FacePolicy,
                 attempts: FaceAttempts, ctx: CommandContext) -> None:
        self.s, self.reference, self.policy, self.attempts, self.ctx = service, reference, policy, attempts, ctx
        self.name = service.name
        self.started = time.monotonic()
        self.deadline = self.started + policy.decision_timeout_s
        self.seq = 0
        self.last_reason: QualityReason | None = None
        self.tilted = False              # the dense roll check refused the last stable run
        self.too_close = False           # the last stable run was wider than policy.move_back_above
        self.attempt = 0

    def decision(self, outcome: FaceOutcome, **kw: object) -> FaceDecision:
        return FaceDecision(outcome, self.attempt, self.attempts.left, last_quality=self.last_reason,
                            elapsed_s=time.monotonic() - self.started, **kw)  # type: ignore[arg-type]

    def next_frame(self) -> Frame | None:
        """The newest unseen frame; None on a stall (the caller decides)."""
        waited = time.monotonic()
        while True:
            self.ctx.check()
            if time.monotonic() > self.deadline:
                return None
            frame = self.s.camera.wait_frame(self.seq, timeout=0.25)
            if frame is not None:
                self.seq = frame.seq
                return frame
            if time.monotonic() - waited > CAMERA_STALL_S:
                raise _CameraGone()

    def run(self) -> FaceDecision:
        ref = self.reference
        if not isinstance(ref, FaceTemplate):
            try:
                ref = self.s.pipeline.template_from_image(ref)
            except ReferenceImageError as exc:
                log.warning("bad reference photo", extra={"device": self.name, "problem": exc.problem.value})
                return self.decision(FaceOutcome.BAD_REFERENCE, reference_problem=exc.problem)
        taken = self.attempts.take()
        if taken is None:
            return self.decision(FaceOutcome.GO_TO_COUNTER)
        self.attempt = taken
        try:
            return self._attempt(ref)
        except _CameraGone:
            return self.decision(FaceOutcome.CAMERA_UNAVAILABLE)
        finally:
            if ref is not self.reference:
                ref.wipe()
            self.ctx.emit(FaceStage(self.name, "done"))

    def _analyse(self, frame: Frame) -> tuple[QualityReason, Face | None, int]:
        analysis = self.s.pipeline.analyse(frame.image)
        v = analysis.verdict
        # keep asking for an upright head (not "OK") until the dense check has passed
        shown = v.reason
        if v.reason is QualityReason.OK and self.too_close:
            shown = QualityReason.TOO_CLOSE
        elif v.reason is QualityReason.OK and self.tilted:
            shown = QualityReason.HEAD_TILTED
        if shown is not self.last_reason:
            self.last_reason = shown
            self.ctx.emit(FaceQualityPrompt(self.name, shown))
        self.s.last_timings_ms = dict(analysis.timings_ms)
        return v.reason, v.face, v.faces

    def _too_close(self, width: float) -> bool:
        """A face wider than the liveness models' context allows (policy.move_back_above): the person
        is asked to move back a little before any liveness score is taken (docs/face.md, "Two-tier
        decision"); the per-frame gate's own limit is wider."""
        limit = self.policy.move_back_above
        self.too_close = self._hold(QualityReason.TOO_CLOSE, 0 < limit < width)
        return self.too_close

    def _tilted(self, frame: Frame, face: Face) -> bool:
        """The head roll from the dense landmarks, once per decision: the 5 points the gate uses on
        every frame read a fraction of it at 320 px (docs/face.md, "Roll")."""
        landmarks = self.s.pipeline.landmarks
        tilted = landmarks is not None and abs(landmarks.roll(frame.image, face)) > self.policy.quality.max_roll_deg
        self.tilted = self._hold(QualityReason.HEAD_TILTED, tilted)
        return self.tilted

    def _hold(self, reason: QualityReason, active: bool) -> bool:
        """A once-per-decision check (too close, head tilted): its prompt is said once when it starts
        holding the attempt back, and OK once when it stops; returns ``active``."""
        if active and self.last_reason is not reason:
            self.last_reason = reason
            self.ctx.emit(FaceQualityPrompt(self.name, reason))
        elif not active and self.last_reason is reason:
            self.last_reason = QualityReason.OK
            self.ctx.emit(FaceQualityPrompt(self.name, QualityReason.OK))
        return active

    def _attempt(self, ref: FaceTemplate) -> FaceDecision:
        p = self.policy
        self.ctx.emit(FaceStage(self.name, "looking"))
        good: list[tuple[Frame, Face]] = []
        while len(good) < p.stable_frames:
            frame = self.next_frame()
            if frame is None:
                return self.decision(FaceOutcome.NO_USABLE_FRAME)
            reason, face, _ = self._analyse(frame)
            if reason is QualityReason.OK and face is not None:
                good.append((frame, face))
                if len(good) == p.stable_frames:
                    # face size picks the passive band: the crop's context shrinks as the face grows
                    width = float(np.mean([face.w / f.image.shape[1] for f, face in good]))
                    if self._too_close(width) or self._tilted(*good[-1]):
                        good.clear()
            else:
                good.clear()
        self.ctx.emit(FaceStage(self.name, "checking"))
        best_frame, best_face = max(good, key=lambda g: g[1].score)
        scores, live_tpl = self.s.pipeline.liveness_and_template([(f.image, face) for f, face in good],
                                                                 best_frame.image, best_face)
        live = float(np.mean([s.real for s in scores]))
        match = ref.similarity(live_tpl)
        live_tpl.wipe()
        threshold = p.passive_threshold(width)             # docs/face.md, "Two-tier decision"
        outcome = decide(p, match, live, width)
        if outcome is FaceOutcome.MATCH and p.active_challenge:
            poses = [pose_from_landmarks(face.landmarks) for _, face in good]
            baseline = (float(np.mean([q.yaw for q in poses])), float(np.mean([q.pitch for q in poses])))
            failure, final = self._challenge(ref, baseline, good)
            if failure is not ChallengeFailure.NONE:
                return self.decision(FaceOutcome.CHALLENGE_FAILED, match_score=match, liveness_score=live,
                                     challenge_failure=failure, liveness_threshold=threshold)
            if final is not None:
                match = min(match, final)
                outcome = decide(p, match, live, width)
        sealed = None
        if p.keep_capture_for_review and p.review_public_key:
            ok, jpeg = cv2.imencode(".jpg", best_frame.image, [cv2.IMWRITE_JPEG_QUALITY, 90])
            if ok:
                sealed = seal(jpeg.tobytes(), p.review_public_key, associated=b"face-review")
        log.info("face decision", extra={"device": self.name, "outcome": outcome.value, "attempt": self.attempt,
                                         "match_score": round(match, 3), "liveness_score": round(live, 3),
                                         "liveness_threshold": threshold})
        return self.decision(outcome, match_score=match, liveness_score=live, sealed_capture=sealed,
                             liveness_threshold=threshold)

    def _moves(self) -> list[ChallengeStep]:
        moves = [ChallengeStep(m) for m in self.policy.challenge_moves]
        if self.s.pipeline.landmarks is None and any(m in FACE_MOVES for m in moves):
            log.warning("blink/open-mouth challenge asked but the dense landmark model is not installed",
                        extra={"device": self.name})
            moves = [m for m in moves if m not in FACE_MOVES]
        if len(set(moves)) < min(2, self.policy.challenge_steps):
            moves = list(HEAD_MOVES)
        return moves

    def _challenge(self, ref: FaceTemplate, baseline: tuple[float, float],
                   good: list[tuple[Frame, Face]]) -> tuple[ChallengeFailure, float | None]:
        """Run a fresh random sequence of moves; then re-match a frontal frame (same person did it)."""
        self.ctx.emit(FaceStage(self.name, "challenge"))
        sequence = random_sequence(self.policy.challenge_steps, self.s.rng, moves=self._moves())
        open_base = None
        if self.s.pipeline.landmarks is not None:
            measured = [self.s.pipeline.openness(f.image, face) for f, face in good]
            open_base = (float(np.median([m.eye for m in measured])), float(np.median([m.mouth for m in measured])),
                         float(np.median([m.aspect for m in measured])))
        challenge = ActiveChallenge(sequence, self.policy.challenge_config(), baseline, open_base)
        shown: tuple[int, int] | None = None
        while True:
            frame = self.next_frame()
            if frame is None:
                return ChallengeFailure.TOO_SLOW, None
            reason, face, count = self._analyse(frame)
            one = face if count == 1 else None
            openness = self.s.pipeline.openness(frame.image, one) if one is not None and open_base else None
            state = challenge.observe(frame.t, one, openness)
            key = (state.index, int(state.progress * 4))
            if state.status is ChallengeStatus.RUNNING and key != shown and state.step is not None:
                shown = key
                self.ctx.emit(FaceChallengePrompt(self.name, state.step, state.index, state.total, state.progress))
            if state.status is ChallengeStatus.FAILED:
                return state.failure, None
            if state.status is ChallengeStatus.PASSED:
                break
        end = time.monotonic() + FINAL_MATCH_WAIT_S
        while time.monotonic() < end:
            frame = self.next_frame()
            if frame is None:
                break
            reason, face, _ = self._analyse(frame)
            if reason is QualityReason.OK and face is not None:
                tpl = self.s.pipeline.template(frame.image, face)
                try:
                    return ChallengeFailure.NONE, ref.similarity(tpl)
                finally:
                    tpl.wipe()
        return ChallengeFailure.NONE, None


class _CameraGone(Exception):
    pass
