"""The shapes every device shares, after XFS4IoT: status, completions, events, one worker thread.

A device is a *service*: it has a :class:`DeviceStatus`, runs *commands* one at a time on its own
worker thread (never the UI thread), sends *events* while a command runs (a key was pressed, a
face is needed), and finishes each command with exactly one :class:`Completion` carrying a code
from the fixed list :class:`CompletionCode`. Devices also send *unsolicited* events (card removed,
status changed) to their subscribers.

Subscribers are plain callables called on the device's worker thread: the UI adapts them to Qt
signals (queued across threads); the core must not block inside them.
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Generic, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


class DeviceStatus(StrEnum):
    ONLINE = "online"
    OFFLINE = "offline"                 # device not reachable (unplugged, port gone)
    NO_DEVICE = "noDevice"              # not configured / not found at all
    NO_MEDIA = "noMedia"                # e.g. reader present, no card
    SERVICE_DOWN = "serviceDown"        # the middleware (pcscd) is not running
    HARDWARE_ERROR = "hardwareError"
    USER_ERROR = "userError"
    BUSY = "busy"
    FRAUD_ATTEMPT = "fraudAttempt"


class CompletionCode(StrEnum):
    SUCCESS = "success"
    CANCELED = "canceled"
    TIMEOUT = "timeOut"
    HARDWARE_ERROR = "hardwareError"
    USER_ERROR = "userError"
    FRAUD_ATTEMPT = "fraudAttempt"
    INVALID_DATA = "invalidData"
    NO_MEDIA = "noMedia"
    UNSUPPORTED = "unsupportedCommand"
    COMMAND_ERROR = "commandErrorCode"  # a device-specific error: see Completion.error_code


@dataclass(frozen=True)
class Completion(Generic[T]):
    """The one and only end of a command."""

    command: str
    code: CompletionCode
    result: T | None = None
    error_code: str = ""                # device-specific, typed, e.g. "pinBlocked"
    detail: str = ""                    # technical, for logs; must never contain secrets

    @property
    def ok(self) -> bool:
        return self.code is CompletionCode.SUCCESS


@dataclass(frozen=True)
class DeviceEvent:
    """Base of all events; ``device`` names the sender (``"smartcard.citizen"``, ``"pinpad"``)."""

    device: str


@dataclass(frozen=True)
class StatusChanged(DeviceEvent):
    old: DeviceStatus
    new: DeviceStatus
    detail: str = ""


@dataclass(frozen=True)
class MediaInserted(DeviceEvent):
    pass


@dataclass(frozen=True)
class MediaRemoved(DeviceEvent):
    pass


class DeviceError(Exception):
    """Raised inside a command to end it with a given completion code.

    ``message`` must be safe to log: never put a PIN, key, PIN block or personal field in it.
    """

    def __init__(self, code: CompletionCode, message: str = "", error_code: str = "") -> None:
        super().__init__(message or code.value)
        self.code = code
        self.error_code = error_code
        self.message = message


class CommandCanceled(DeviceError):
    def __init__(self, message: str = "canceled") -> None:
        super().__init__(CompletionCode.CANCELED, message)


class CommandTimedOut(DeviceError):
    def __init__(self, message: str = "timed out") -> None:
        super().__init__(CompletionCode.TIMEOUT, message)


EventListener = Callable[[DeviceEvent], None]


class CommandContext:
    """Given to a command body running on the worker thread: deadline, cancel, events."""

    def __init__(self, handle: CommandHandle[Any], emit: Callable[[DeviceEvent], None]) -> None:
        self._handle = handle
        self._emit = emit

    @property
    def cancelled(self) -> bool:
        return self._handle._cancel_requested.is_set() or self.remaining() <= 0

    def remaining(self) -> float:
        if self._handle.deadline is None:
            return float("inf")
        return self._handle.deadline - time.monotonic()

    def check(self) -> None:
        """Raise if the command was canceled or ran past its deadline; call it in every loop."""
        if self._handle._cancel_requested.is_set():
            raise CommandCanceled()
        if self.remaining() <= 0:
            raise CommandTimedOut()

    def wait(self, seconds: float) -> None:
        """Sleep that wakes early on cancel; raises like :meth:`check`."""
        end = min(time.monotonic() + seconds, self._handle.deadline or float("inf"))
        self._handle._cancel_requested.wait(max(0.0, end - time.monotonic()))
        self.check()

    def emit(self, event: DeviceEvent) -> None:
        """Send an event for this command (and to the device's subscribers)."""
        if not self._handle.done:
            self._emit(event)
            for listener in self._handle._event_listeners:
                _call_safely(listener, event)


class CommandHandle(Generic[T]):
    """A queued or running command. Resolves exactly once, whichever comes first:
    the body returns/raises, the deadline passes, or cancel() on a command still queued."""

    _ids = itertools.count(1)

    def __init__(self, name: str, timeout: float | None) -> None:
        self.id = next(self._ids)
        self.name = name
        self.timeout = timeout
        self.deadline: float | None = None
        self._cancel_requested = threading.Event()
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._completion: Completion[T] | None = None
        self._callbacks: list[Callable[[Completion[T]], None]] = []
        self._event_listeners: list[EventListener] = []

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def cancel(self) -> None:
        """Ask the command to stop; it ends with CANCELED as soon as its body notices."""
        self._cancel_requested.set()

    def on_event(self, listener: EventListener) -> CommandHandle[T]:
        self._event_listeners.append(listener)
        return self

    def add_done_callback(self, callback: Callable[[Completion[T]], None]) -> None:
        with self._lock:
            if self._completion is None:
                self._callbacks.append(callback)
                return
            completion = self._completion
        _call_safely(callback, completion)

    def wait(self, timeout: float | None = None) -> Completion[T]:
        """Block until the completion (never call this from the UI thread)."""
        if not self._done.wait(timeout):
            raise TimeoutError(f"command {self.name} still running after {timeout}s")
        assert self._completion is not None
        return self._completion

    def _resolve(self, completion: Completion[T]) -> bool:
        with self._lock:
            if self._completion is not None:
                return False
            self._completion = completion
            callbacks, self._callbacks = self._callbacks, []
            self._done.set()
        for callback in callbacks:
            _call_safely(callback, completion)
        return True


# Started, not yet stopped workers; weak so that a dropped service never lingers here.
_LIVE_WORKERS: weakref.WeakSet[DeviceWorker] = weakref.WeakSet()


def live_workers() -> list[DeviceWorker]:
    """Every device worker started in this process and not stopped (for the watchdog)."""
    return list(_LIVE_WORKERS)


def _call_safely(fn: Callable[[Any], None], arg: Any) -> None:
    try:
        fn(arg)
    except Exception:
        log.exception("device listener failed")


class DeviceWorker:
    """One thread per device: runs commands in order, plus periodic housekeeping (``idle``).

    All I/O to the device happens on this thread (pyscard contexts and serial ports are not
    thread-safe); :meth:`assert_on_worker` lets drivers check that.
    """

    def __init__(self, name: str, idle: Callable[[], None] | None = None, idle_interval: float = 0.5) -> None:
        self.name = name
        self._queue: queue.Queue[tuple[CommandHandle[Any], Callable[[CommandContext], Any]] | None] = queue.Queue()
        self._idle = idle
        self._idle_interval = idle_interval
        self._listeners: list[EventListener] = []
        self._status = DeviceStatus.OFFLINE
        self._status_detail = ""
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._current: CommandHandle[Any] | None = None
        self._timer_lock = threading.Lock()
        self.alive_at = time.monotonic()    # last time the thread came round its loop (watchdog)

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=f"device-{self.name}", daemon=True)
            self.alive_at = time.monotonic()
            _LIVE_WORKERS.add(self)
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        _LIVE_WORKERS.discard(self)
        if self._current is not None:
            self._current.cancel()
        self._queue.put(None)
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)
        # Whatever is still queued ends as canceled: exactly one completion each.
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is not None:
                item[0]._resolve(Completion(item[0].name, CompletionCode.CANCELED, detail="device stopped"))

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def overdue_s(self, now: float | None = None) -> float:
        """How long the thread is late coming back round its loop: 0.0 while it makes progress.

        A running command is allowed until its own deadline (one without a deadline, forever);
        between commands the idle task must return within the idle interval. The appliance's
        watchdog (kiosk/appliance/watchdog.py) withholds its ping when a worker is overdue.
        """
        now = time.monotonic() if now is None else now
        current = self._current
        if current is not None:
            return 0.0 if current.deadline is None else max(0.0, now - current.deadline)
        return max(0.0, now - self.alive_at - self._idle_interval)

    def assert_on_worker(self) -> None:
        if threading.current_thread() is not self._thread:
            raise RuntimeError(f"{self.name}: device I/O outside its worker thread")

    # -- status and events -----------------------------------------------------------------
    @property
    def status(self) -> DeviceStatus:
        return self._status

    @property
    def status_detail(self) -> str:
        return self._status_detail

    def subscribe(self, listener: EventListener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def publish(self, event: DeviceEvent) -> None:
        for listener in list(self._listeners):
            _call_safely(listener, event)

    def set_status(self, status: DeviceStatus, detail: str = "") -> None:
        old = self._status
        self._status, self._status_detail = status, detail
        if old != status:
            log.info("device status", extra={"device": self.name, "old": old.value, "new": status.value,
                                             "detail": detail})
            self.publish(StatusChanged(self.name, old, status, detail))

    # -- commands --------------------------------------------------------------------------
    def submit(self, name: str, body: Callable[[CommandContext], T], timeout: float | None = None) -> CommandHandle[T]:
        """Queue ``body(ctx)`` to run on the worker thread; returns at once."""
        handle: CommandHandle[T] = CommandHandle(name, timeout)
        if self._stopping.is_set():
            handle._resolve(Completion(name, CompletionCode.CANCELED, detail="device stopped"))
            return handle
        self._queue.put((handle, body))
        return handle

    def call(self, name: str, body: Callable[[CommandContext], T], timeout: float | None = None) -> Completion[T]:
        """Submit and wait (for worker-side code and tests; never from the UI thread)."""
        if threading.current_thread() is self._thread:
            raise RuntimeError("call() from the worker thread would deadlock; run the body directly")
        wait_for = None if timeout is None else timeout + 5.0
        return self.submit(name, body, timeout).wait(wait_for)

    def _run(self) -> None:
        while not self._stopping.is_set():
            self.alive_at = time.monotonic()
            try:
                item = self._queue.get(timeout=self._idle_interval)
            except queue.Empty:
                if self._idle is not None:
                    try:
                        self._idle()
                    except Exception:
                        log.exception("device idle task failed", extra={"device": self.name})
                continue
            if item is None:
                break
            handle, body = item
            self._execute(handle, body)

    def _execute(self, handle: CommandHandle[Any], body: Callable[[CommandContext], Any]) -> None:
        if handle._cancel_requested.is_set():
            handle._resolve(Completion(handle.name, CompletionCode.CANCELED))
            return
        timer = None
        if handle.timeout is not None:
            handle.deadline = time.monotonic() + handle.timeout
            # The watchdog resolves a command whose body is stuck in blocking I/O; the body's
            # own later return is then ignored (exactly one completion).
            timer = threading.Timer(handle.timeout, self._expire, args=(handle,))
            timer.daemon = True
            timer.start()
        self._current = handle
        started = self.alive_at = time.monotonic()
        try:
            result = body(CommandContext(handle, self.publish))
            completion = Completion(handle.name, CompletionCode.SUCCESS, result)
        except DeviceError as exc:
            completion = Completion(handle.name, exc.code, error_code=exc.error_code, detail=exc.message)
        except Exception as exc:  # a driver bug must not kill the device thread
            log.exception("command failed unexpectedly", extra={"device": self.name, "command": handle.name})
            completion = Completion(handle.name, CompletionCode.HARDWARE_ERROR, detail=type(exc).__name__)
        finally:
            self._current = None
            if timer is not None:
                timer.cancel()
        if not handle._resolve(completion):
            log.warning("command body returned after its completion", extra={
                "device": self.name, "command": handle.name, "elapsed_s": round(time.monotonic() - started, 3)})

    def _expire(self, handle: CommandHandle[Any]) -> None:
        handle.cancel()
        handle._resolve(Completion(handle.name, CompletionCode.TIMEOUT, detail=f"no answer in {handle.timeout}s"))
