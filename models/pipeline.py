"""One frame through the face pipeline: detect -> quality gate, and on demand liveness / embedding.

Pure computation: the verifier (models/verifier.py) calls it on its own worker; with ``parallel`` one
helper thread of its own takes part of a decision's work to the second core.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from drivers.camera.frames import to_bgr8
from models.detector import FaceDetector
from models.embedding import FaceEmbedder
from models.landmarks import DenseLandmarks, Openness
from models.liveness import LivenessScore, PassiveLiveness
from models.quality import QualityThresholds, QualityVerdict, assess
from models.reference import (
    MIN_REFERENCE_FACE_PX,
    ReferenceImageError,
    ReferenceProblem,
    reference_pixels,
)
from models.template import FaceTemplate
from models.types import Face


@dataclass(frozen=True)
class FrameAnalysis:
    verdict: QualityVerdict
    faces: list[Face]
    timings_ms: dict[str, float] = field(default_factory=dict)


class FacePipeline:
    def __init__(self, detector: FaceDetector, liveness: PassiveLiveness, embedder: FaceEmbedder,
                 quality: QualityThresholds | None = None, refine_landmarks: bool = True,
                 landmarks: DenseLandmarks | None = None, parallel: bool = False) -> None:
        self.detector = detector
        self.landmarks = landmarks          # None: blink / open-mouth challenges unavailable
        # On: re-detecting the face in a full-resolution crop once per template measurably helps
        # matching (deepface pairs at 640 px: d' 7.35 -> 8.39, genuine median 0.746 -> 0.797;
        # docs/face.md, "Second detection pass"). It runs once per decision, not per frame.
        self.refine_landmarks = refine_landmarks
        self.passive = liveness
        self.embedder = embedder
        self.quality = quality or QualityThresholds()
        # parallel: use the kiosk's second core during a face check (the check is all the kiosk does
        # then; the camera preview keeps its rate, bench/face_pipeline.py prints it): the two
        # MiniFASNets at once, and the embedding beside the decision frames' liveness. One helper
        # thread, started on first use; results are the same as one after the other.
        self._helper = ThreadPoolExecutor(1, thread_name_prefix="face-helper") if parallel else None

    def analyse(self, frame_bgr: np.ndarray) -> FrameAnalysis:
        """Raises drivers.camera.frames.FrameFormatError for a frame no camera should give."""
        t0 = time.perf_counter()
        frame_bgr = to_bgr8(frame_bgr)
        faces = self.detector.detect(frame_bgr)
        t1 = time.perf_counter()
        verdict = assess(frame_bgr, faces, self.quality)
        t2 = time.perf_counter()
        return FrameAnalysis(verdict, faces, {"detect": (t1 - t0) * 1e3, "quality": (t2 - t1) * 1e3})

    def openness(self, frame_bgr: np.ndarray, face: Face) -> Openness | None:
        """Eye aspect ratio and mouth opening from the dense landmarks (None without the model)."""
        return self.landmarks.openness(frame_bgr, face) if self.landmarks is not None else None

    def liveness(self, frame_bgr: np.ndarray, face: Face) -> LivenessScore:
        return self.passive.score(frame_bgr, face.box, self._helper)

    def liveness_and_template(self, frames: Sequence[tuple[np.ndarray, Face]], frame_bgr: np.ndarray,
                              face: Face) -> tuple[list[LivenessScore], FaceTemplate]:
        """Passive liveness of each of ``frames`` and the template of one frame: what a decision
        needs. With ``parallel`` the template is computed on the helper thread meanwhile."""
        if self._helper is None:
            return [self.liveness(f, fc) for f, fc in frames], self.template(frame_bgr, face)
        pending = self._helper.submit(self.template, frame_bgr, face)
        try:
            scores = [self.passive.score(f, fc.box) for f, fc in frames]     # the helper is busy
        except BaseException:
            with contextlib.suppress(Exception):
                pending.result().wipe()         # no template outlives a failed decision
            raise
        return scores, pending.result()

    def close(self) -> None:
        """Stop the helper thread (it also ends when the pipeline is garbage-collected)."""
        if self._helper is not None:
            self._helper.shutdown(wait=False)

    def template(self, frame_bgr: np.ndarray, face: Face, source: str = "live") -> FaceTemplate:
        """SFace template; landmarks re-detected at full resolution first (alignment precision)."""
        if self.refine_landmarks:
            face = self.detector.refine(frame_bgr, face)
        return FaceTemplate(self.embedder.embed(frame_bgr, face), source)

    def template_from_image(self, image_bgr: object, source: str = "photo") -> FaceTemplate:
        """A reference photo (ID photo, card photo; an array or the encoded file's bytes): exactly one
        clear face, or :class:`ReferenceImageError` naming the problem (models/reference.py)."""
        image = reference_pixels(image_bgr)
        faces = [f for f in self.detector.detect(image) if f.score >= self.quality.count_score]
        if not faces:
            raise ReferenceImageError(ReferenceProblem.NO_FACE)
        if len(faces) > 1:
            raise ReferenceImageError(ReferenceProblem.MULTIPLE_FACES, f"{len(faces)} faces")
        if faces[0].w < MIN_REFERENCE_FACE_PX:
            raise ReferenceImageError(ReferenceProblem.FACE_TOO_SMALL,
                                      f"face {faces[0].w:.0f} px wide, at least {MIN_REFERENCE_FACE_PX} needed")
        return self.template(image, faces[0], source)
