"""The face models loaded on first use and released when idle (models/lazy.py, issue 19's memory
work): real ONNX models in onnxruntime, the still-picture camera, the real verifier service."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import numpy as np
import pytest

from drivers.camera.factory import make_camera
from models.factory import make_face_verifier
from models.lazy import TRIM_AFTER_S, LazyPipeline
from models.manifest import MODEL_FILES, ModelIntegrityError


def _verifier(models_dir: Path, faces_dir: Path, release_after_s: float):
    camera = make_camera(backend="still", source=str(faces_dir / "silentface" / "image_T1.jpg"))
    face = make_face_verifier(camera=camera, models_dir=models_dir, lazy=True, release_after_s=release_after_s)
    face.start()
    return face


def test_models_load_on_first_use_and_go_after_idle(models_dir: Path, faces_dir: Path,
                                                    images: dict[str, np.ndarray]) -> None:
    face = _verifier(models_dir, faces_dir, release_after_s=0.6)
    try:
        pipeline = face.pipeline
        assert isinstance(pipeline, LazyPipeline) and not pipeline.loaded and pipeline.loads == 0
        first = face.template_from_image(images["obama"]).wait(30)
        assert first.ok and first.result is not None and pipeline.loaded and pipeline.loads == 1
        second = face.template_from_image(images["obama2"]).wait(30)      # loaded once, reused
        assert second.ok and pipeline.loads == 1
        assert first.result.similarity(second.result) > 0.363                # the same man: a real model
        deadline = time.monotonic() + 10
        while pipeline.loaded and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not pipeline.loaded, "the models were not released after being idle"
        again = face.template_from_image(images["obama"]).wait(30)          # loaded again on demand
        assert again.ok and pipeline.loads == 2
        assert abs(again.result.similarity(first.result) - 1.0) < 1e-4      # the same model, the same answer
    finally:
        face.stop()
        face.pipeline.close()


def test_a_tampered_model_is_still_reported_at_start(tmp_path: Path, models_dir: Path, faces_dir: Path) -> None:
    copy = tmp_path / "models"
    shutil.copytree(models_dir, copy)
    victim = copy / MODEL_FILES["sface"]
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0xFF
    victim.write_bytes(bytes(data))
    with pytest.raises(ModelIntegrityError, match="does not match the manifest"):
        _verifier(copy, faces_dir, release_after_s=0)


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _rest(pipeline: LazyPipeline, clock: _Clock, seconds: float) -> None:
    """``seconds`` pass with the models unused, and the idle timer's look comes (run here, not
    waited for; the real timer it replaces is cancelled)."""
    timer = pipeline._timer
    assert timer is not None
    timer.cancel()
    clock.now += seconds
    pipeline._idle_check(timer)


def test_a_kept_pipeline_stops_looking_once_trimmed_until_used_again() -> None:
    clock = _Clock()
    pipeline = LazyPipeline(lambda: object(), release_after_s=0, clock=clock)
    try:
        pipeline.get()
        _rest(pipeline, clock, 1.0)                     # too soon to trim: it looks again
        assert pipeline._timer is not None and not pipeline._trimmed
        _rest(pipeline, clock, TRIM_AFTER_S)            # trimmed, and no timer every 5 s after it
        assert pipeline._trimmed and pipeline._timer is None and pipeline.loaded
        pipeline.get()                                  # used again: watched again, trimmed again
        assert pipeline._timer is not None and not pipeline._trimmed
        _rest(pipeline, clock, TRIM_AFTER_S)
        assert pipeline._trimmed and pipeline._timer is None
    finally:
        pipeline.close()


def test_a_released_pipeline_waits_for_the_release_once_trimmed() -> None:
    clock = _Clock()
    pipeline = LazyPipeline(lambda: object(), release_after_s=60, clock=clock)
    try:
        pipeline.get()
        _rest(pipeline, clock, TRIM_AFTER_S)
        assert pipeline._trimmed and pipeline._timer is not None
        assert pipeline._timer.interval == pytest.approx(60 - TRIM_AFTER_S)    # not every 5 s
        _rest(pipeline, clock, 60 - TRIM_AFTER_S)
        assert not pipeline.loaded and pipeline._timer is None
    finally:
        pipeline.close()
