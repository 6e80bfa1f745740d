"""One capture thread per camera: owns the source, keeps only the newest frame, reopens on failure.

* The thread alone opens, reads and releases the source (cv2.VideoCapture is not thread-safe);
  ``release()`` runs on every way out of the loop (stop, error, exception).
* "Latest frame wins": one slot holds the newest frame; readers (the preview, the face verifier)
  take it when they are ready, so a slow reader never delays capture or the other readers.
* A source that fails is released, the status goes ``offline``, and it is reopened after a
  backoff that doubles up to ``reopen_max_backoff_s``; the first good frame sets ``online`` again.
* The camera starts only with an accepted :class:`CameraConsent`.
* Every frame passes :func:`drivers.camera.frames.to_bgr8` before anyone sees it: grey, BGRA,
  16-bit and float frames become BGR uint8; unusable ones set ``hardware_error`` with the
  :class:`FrameFormatError` message as the status detail, and no frame is delivered.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import numpy as np

from drivers.api import DeviceEvent, DeviceStatus, EventListener, StatusChanged
from drivers.camera.api import (
    CameraConsent,
    Frame,
    FrameListener,
    FrameSource,
    SourceError,
    SourceKind,
    require_consent,
)
from drivers.camera.frames import FrameFormatError, to_bgr8

log = logging.getLogger(__name__)


class CameraCapture:
    def __init__(self, source: FrameSource, name: str = "camera", reopen_max_backoff_s: float = 10.0,
                 reopen_min_backoff_s: float = 0.1, stall_s: float = 3.0) -> None:
        self.name = name
        self._source = source
        self._max_backoff = max(reopen_min_backoff_s, reopen_max_backoff_s)
        self._min_backoff = reopen_min_backoff_s
        self._status = DeviceStatus.OFFLINE
        self._status_detail = ""
        self._cond = threading.Condition()
        self._latest: Frame | None = None
        self._seq = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._listeners: list[EventListener] = []
        self._frame_listeners: list[FrameListener] = []
        self.reopen_count = 0
        self._stall_s = stall_s

    # -- what the UI and the verifier see ------------------------------------------------------
    @property
    def status(self) -> DeviceStatus:
        return self._status

    @property
    def status_detail(self) -> str:
        return self._status_detail

    @property
    def kind(self) -> SourceKind:
        return self._source.kind

    @property
    def description(self) -> str:
        return self._source.description

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def latest(self) -> Frame | None:
        with self._cond:
            return self._latest

    def wait_frame(self, after_seq: int = 0, timeout: float = 1.0) -> Frame | None:
        """The newest frame with ``seq > after_seq``, waiting up to ``timeout`` s (None if none)."""
        end = time.monotonic() + timeout
        with self._cond:
            while self._latest is None or self._latest.seq <= after_seq:
                left = end - time.monotonic()
                if left <= 0 or self._stop.is_set():
                    break
                self._cond.wait(left)
            else:
                return self._latest
            stalled = self._latest is not None and time.monotonic() - self._latest.t > self._stall_s
        # A camera hung inside read() cannot report itself: whoever waits in vain does.
        if stalled and self._status is DeviceStatus.ONLINE and self.running:
            self._set_status(DeviceStatus.OFFLINE, f"no frame for {self._stall_s:.0f} s")
        return None

    def on_frame(self, listener: FrameListener) -> Callable[[], None]:
        """Called on the capture thread with each new frame; must return at once (post to Qt)."""
        self._frame_listeners.append(listener)
        return lambda: self._frame_listeners.remove(listener) if listener in self._frame_listeners else None

    def subscribe(self, listener: EventListener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self, consent: CameraConsent) -> None:
        require_consent(consent)
        if self.running:
            return
        self._stop.clear()
        with self._cond:
            self._latest, self._seq = None, 0
        self._thread = threading.Thread(target=self._run, name=f"capture-{self.name}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)
        self._thread = None
        with self._cond:
            self._latest = None          # no face image lingers after the camera stops
        self._set_status(DeviceStatus.OFFLINE, "stopped")

    # -- the capture thread -------------------------------------------------------------------
    def _publish(self, event: DeviceEvent) -> None:
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:
                log.exception("camera listener failed")

    def _set_status(self, status: DeviceStatus, detail: str = "") -> None:
        old = self._status
        self._status, self._status_detail = status, detail
        if old != status:
            log.info("device status", extra={"device": self.name, "old": old.value, "new": status.value,
                                             "detail": detail})
            self._publish(StatusChanged(self.name, old, status, detail))

    def _deliver(self, image: np.ndarray) -> None:
        image.setflags(write=False)
        with self._cond:
            self._seq += 1
            frame = Frame(image, self._seq, time.monotonic())
            self._latest = frame
            self._cond.notify_all()
        for listener in list(self._frame_listeners):
            try:
                listener(frame)
            except Exception:
                log.exception("frame listener failed")

    def _run(self) -> None:
        backoff = self._min_backoff
        first = True
        while not self._stop.is_set():
            try:
                if not first:
                    self.reopen_count += 1
                first = False
                self._source.open()
                backoff = self._min_backoff
                self._pump()
            except FrameFormatError as exc:
                # The device answers but its frames cannot be used: a fault with a name, not "offline".
                log.warning("camera frame refused", extra={"device": self.name, "problem": exc.problem.value})
                self._set_status(DeviceStatus.HARDWARE_ERROR, str(exc))
            except SourceError as exc:
                self._set_status(DeviceStatus.OFFLINE, str(exc))
            except Exception as exc:  # a driver bug must not kill the thread for good
                log.exception("camera capture failed", extra={"device": self.name})
                self._set_status(DeviceStatus.HARDWARE_ERROR, type(exc).__name__)
            finally:
                self._source.release()
            if self._stop.wait(backoff):
                break
            backoff = min(backoff * 2, self._max_backoff)

    def _pump(self) -> None:
        """Read until stopped or the source fails; paces recorded sources at their fps."""
        interval = 1.0 / self._source.fps if self._source.fps > 0 else 0.0
        next_due = time.monotonic()
        while not self._stop.is_set():
            image = to_bgr8(self._source.read())     # the boundary: BGR uint8 or a named error
            self._set_status(DeviceStatus.ONLINE, self._source.description)
            self._deliver(image)
            if not self._source.paced and interval:
                next_due += interval
                delay = next_due - time.monotonic()
                if delay < -interval:            # fell behind (busy machine): do not burst
                    next_due = time.monotonic()
                elif self._stop.wait(max(0.0, delay)):
                    return
