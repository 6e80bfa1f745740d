"""One frame through the face pipeline: detect -> quality gate, and on demand liveness / embedding.

Pure computation, no threads: the verifier (models/verifier.py) calls it on its own worker.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from models.detector import FaceDetector
from models.embedding import FaceEmbedder
from models.liveness import LivenessScore, PassiveLiveness
from models.quality import QualityThresholds, QualityVerdict, assess
from models.template import FaceTemplate
from models.types import Face


class ReferenceImageError(ValueError):
    """The reference photo has no single usable face."""


@dataclass(frozen=True)
class FrameAnalysis:
    verdict: QualityVerdict
    faces: list[Face]
    timings_ms: dict[str, float] = field(default_factory=dict)


class FacePipeline:
    def __init__(self, detector: FaceDetector, liveness: PassiveLiveness, embedder: FaceEmbedder,
                 quality: QualityThresholds | None = None) -> None:
        self.detector = detector
        self.passive = liveness
        self.embedder = embedder
        self.quality = quality or QualityThresholds()

    def analyse(self, frame_bgr: np.ndarray) -> FrameAnalysis:
        t0 = time.perf_counter()
        faces = self.detector.detect(frame_bgr)
        t1 = time.perf_counter()
        verdict = assess(frame_bgr, faces, self.quality)
        t2 = time.perf_counter()
        return FrameAnalysis(verdict, faces, {"detect": (t1 - t0) * 1e3, "quality": (t2 - t1) * 1e3})

    def liveness(self, frame_bgr: np.ndarray, face: Face) -> LivenessScore:
        return self.passive.score(frame_bgr, face.box)

    def template(self, frame_bgr: np.ndarray, face: Face, source: str = "live") -> FaceTemplate:
        """SFace template; landmarks re-detected at full resolution first (alignment precision)."""
        return FaceTemplate(self.embedder.embed(frame_bgr, self.detector.refine(frame_bgr, face)), source)

    def template_from_image(self, image_bgr: np.ndarray, source: str = "photo") -> FaceTemplate:
        """A reference photo (ID photo, card photo): its largest clear face."""
        if image_bgr is None or image_bgr.ndim != 3 or image_bgr.shape[2] != 3:
            raise ReferenceImageError("reference photo is not a colour image")
        faces = [f for f in self.detector.detect(image_bgr) if f.score >= self.quality.count_score]
        if not faces:
            raise ReferenceImageError("no face found in the reference photo")
        return self.template(image_bgr, max(faces, key=lambda f: f.w * f.h), source)
