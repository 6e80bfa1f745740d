"""The face pipeline loaded on first use and released when idle: where the face models' memory is
owned (docs/face.md, "Memory").

The five models in onnxruntime and OpenCV take ~110-140 MB once loaded; most visits (card status,
PIN change) never use them. :class:`LazyPipeline` stands in for a :class:`models.pipeline.FacePipeline`:
the first attribute asked for builds the real one (``make_pipeline``, ~0.5 s, every file checked
against the manifest as before), and after ``release_after_s`` without use it is dropped and the
freed heap handed back to the system (``malloc_trim``: onnxruntime's session building leaves a
model-sized hole that glibc otherwise keeps). The manifest is checked at start, so a missing or
altered model is still reported when the kiosk starts, not at the first face check.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)
TRIM_AFTER_S = 5.0      # a few seconds unused: the face check's freed working memory goes back to the system


@functools.cache
def _libc() -> Any:
    """The C library, looked up once (``find_library`` runs ``ldconfig -p`` in a subprocess)."""
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        return ctypes.CDLL(name)
    except OSError:
        return None


def trim_heap() -> None:
    """Give freed heap pages back to the system (glibc only; elsewhere nothing happens)."""
    libc = _libc()
    if libc is None:
        return
    try:
        libc.malloc_trim(0)
    except AttributeError:
        pass


class LazyPipeline:
    """A FacePipeline built by ``build`` on first use; thread-safe. ``release_after_s`` <= 0 keeps
    it once loaded; either way the heap is trimmed once the models have rested ``TRIM_AFTER_S``."""

    def __init__(self, build: Callable[[], Any], release_after_s: float = 0.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._build = build
        self._release_after_s = release_after_s
        self._clock = clock
        self._lock = threading.Lock()
        self._pipeline: Any = None
        self._last_used = 0.0
        self._timer: threading.Timer | None = None
        self._trimmed = False               # trimmed since the last use
        self._busy = 0                      # calls into the pipeline now running
        self.loads = 0                      # how many times the models were built (for benchmarks/tests)

    @property
    def loaded(self) -> bool:
        return self._pipeline is not None

    def get(self) -> Any:
        """The real pipeline, built now if it is not loaded."""
        pipeline = self._pipeline
        if pipeline is None:
            with self._lock:
                if self._pipeline is None:
                    started = time.perf_counter()
                    self._pipeline = self._build()
                    self.loads += 1
                    trim_heap()
                    log.info("face models loaded", extra={"ms": round((time.perf_counter() - started) * 1e3)})
                    self._arm()
                pipeline = self._pipeline
        self._last_used = self._clock()
        if self._trimmed or self._timer is None:     # the first use after a rest: watch it again
            with self._lock:
                self._trimmed = False
                if self._timer is None and self._pipeline is not None:
                    self._arm()
        return pipeline

    def release(self) -> None:
        """Drop the models now (a later use loads them again)."""
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            if self._pipeline is None:
                return
            pipeline, self._pipeline = self._pipeline, None
        getattr(pipeline, "close", lambda: None)()      # its helper thread, if any
        del pipeline
        trim_heap()
        log.info("face models released")

    def close(self) -> None:
        self.release()

    def _arm(self, delay: float | None = None) -> None:
        """Look again in ``delay`` seconds, by default a few (called with the lock held)."""
        if delay is None:
            delay = TRIM_AFTER_S if self._release_after_s <= 0 else min(TRIM_AFTER_S, self._release_after_s)
        timer = threading.Timer(delay, self._idle_check)
        timer.args = (timer,)               # a superseded timer's late call is ignored
        timer.daemon = True
        self._timer = timer
        timer.start()

    def _idle_check(self, timer: threading.Timer) -> None:
        trim = release = False
        with self._lock:
            if self._pipeline is None or self._timer is not timer:
                return
            idle = self._clock() - self._last_used
            if self._release_after_s > 0 and idle >= self._release_after_s and not self._busy:
                self._pipeline, self._timer, release = None, None, True
            else:
                trim = idle >= TRIM_AFTER_S and not self._trimmed
                self._trimmed = self._trimmed or trim
                if not self._trimmed:
                    self._arm()                 # not rested long enough yet: look again soon
                elif self._release_after_s > 0:
                    self._arm(self._release_after_s - idle)     # trimmed: next, the release
                else:
                    self._timer = None          # trimmed and kept: nothing to do until the next use
        # A call in progress keeps its own reference to the old pipeline until it returns.
        if trim or release:
            trim_heap()
        if release:
            log.info("face models released after idle", extra={"idle_s": round(idle)})

    def __getattr__(self, name: str) -> Any:
        # Only reached for names this class does not define: the pipeline's methods and attributes.
        if name.startswith("_"):
            raise AttributeError(name)
        value = getattr(self.get(), name)
        if not callable(value):
            return value

        @functools.wraps(value)
        def call(*args: Any, **kwargs: Any) -> Any:
            # Idle counts from the end of the last call, and never while one runs (a first call
            # that compiles a new input shape can take longer than a short release delay).
            with self._lock:
                self._busy += 1
            try:
                return value(*args, **kwargs)
            finally:
                with self._lock:
                    self._busy -= 1
                    self._last_used = self._clock()
        return call
