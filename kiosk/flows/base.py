"""The frame every citizen service runs in.

A flow is a short, linear Python function run on its own *flow thread*: it calls devices (whose
commands return :class:`drivers.api.CommandHandle`), asks the citizen through a :class:`Presenter`
(the UI, or a scripted presenter in tests), and ends with a result or a guided error. Linear code
is what the next engineer can read; the thread makes waiting on a device or the citizen simple,
and the visit's end (card pulled, timeout, cancel) reaches it as :class:`FlowCanceled` at its
next wait, so it never leaves anything half-done behind.

Flows never touch Qt or the session core directly: the presenter marshals to the UI thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol, TypeVar

from drivers.api import CommandHandle, Completion

log = logging.getLogger(__name__)

T = TypeVar("T")


class FlowCanceled(Exception):
    """The visit ended (card pulled, timeout, cancel): stop at once, leave nothing half-done."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class NextStep(StrEnum):
    """What an error screen offers; the flow decides which apply."""

    RETRY = "retry"
    ANOTHER_CARD = "another_card"
    COUNTER = "counter"
    CALL_HOTLINE = "call_hotline"
    HOME = "home"


class StepPicture(StrEnum):
    """A picture a step shows under its instruction, to show how (the flow names it; the UI draws it)."""

    PHONE = "phone"            # the e-card code on a phone, held up to the camera


@dataclass(frozen=True)
class Guidance:
    """An error as the citizen sees it: what happened and what to do next (msgids)."""

    what_happened: str
    what_to_do: str
    actions: Sequence[NextStep] = (NextStep.HOME,)
    format_args: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ResultLine:
    """One line of a result screen: a label (msgid) and a value already safe to show (masked)."""

    label: str
    value: str                 # already masked; a msgid (a state in words) is translated when shown


class Presenter(Protocol):
    """What a flow needs from the screen (the UI's Qt adapter, or a scripted presenter in tests).

    Called on the flow thread. ``step``, ``show_*`` and ``bind_*`` return once the screen shows
    it; ``ask`` and ``show_error`` block until the citizen answers (or raise FlowCanceled when
    the visit ends meanwhile). Texts are msgids; ``format_args`` fill their ``{placeholders}``.
    Every step's title and instruction are also spoken.
    """

    def step(self, key: str, index: int, total: int, title: str, instruction: str, *,
             picture: StepPicture | None = None, **format_args: Any) -> None:
        """Show step ``index`` of ``total`` (``key`` names it for the core, records and tests),
        with ``picture`` under the instruction where one is given."""

    def ask(self, key: str, question: str, options: Sequence[Choice], **format_args: Any) -> str:
        """A question with large buttons; returns the chosen ``Choice.key``.

        Used for consent (key "consent": options accept/decline, with the consent text), the bank
        list (disabled banks carry their reason), confirming a name, "change your PIN now?".
        """

    def bind_pin_entry(self, handle: CommandHandle[Any], tries_left: int | None = None, *,
                       pin_title: str | None = None) -> None:
        """Show the PIN entry widget fed by ``handle``'s KeyEvents (dots only, never digits);
        ``pin_title`` (a msgid) names the PIN over the dots where it is not the card's."""

    def bind_plain_entry(self, handle: CommandHandle[Any], kind: str) -> None:
        """Show typed digits as they come (``kind``: "phone", "sms_code", "bank_card", "id_number")."""

    def bind_face(self, handle: CommandHandle[Any]) -> None:
        """Show the camera preview with the quality and challenge prompts of ``handle``'s events."""

    def show_result(self, key: str, ok: bool, title: str, message: str,
                    lines: Sequence[ResultLine] = (), **format_args: Any) -> None:
        """The end of a service: what was done (or not), with details already masked."""

    def show_error(self, guidance: Guidance) -> NextStep:
        """What happened and what to do next; returns the action the citizen chose."""


@dataclass(frozen=True)
class Choice:
    key: str
    label: str                 # msgid
    enabled: bool = True
    note: str = ""             # msgid: why it is disabled, or a one-line explanation


class CancelToken:
    """Set when the visit ends; every wait in a flow checks it."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.reason = ""
        self._handles: list[CommandHandle[Any]] = []
        self._lock = threading.Lock()

    def cancel(self, reason: str) -> None:
        with self._lock:
            self.reason = reason
            self._event.set()
            handles, self._handles = self._handles, []
        for handle in handles:
            handle.cancel()

    @property
    def canceled(self) -> bool:
        return self._event.is_set()

    def check(self) -> None:
        if self._event.is_set():
            raise FlowCanceled(self.reason)

    def track(self, handle: CommandHandle[T]) -> CommandHandle[T]:
        with self._lock:
            if self._event.is_set():
                handle.cancel()
            else:
                self._handles.append(handle)
        return handle

    def untrack(self, handle: CommandHandle[Any]) -> None:
        with self._lock:
            if handle in self._handles:
                self._handles.remove(handle)

    def wait(self, seconds: float) -> None:
        if self._event.wait(seconds):
            raise FlowCanceled(self.reason)


def await_command(token: CancelToken, handle: CommandHandle[T], poll_s: float = 0.05) -> Completion[T]:
    """Wait for a device command; the visit ending cancels it and raises FlowCanceled."""
    token.track(handle)
    try:
        while True:
            token.check()
            try:
                completion = handle.wait(poll_s)
            except TimeoutError:
                continue
            # The visit may have ended while we waited: that, not the canceled completion, is
            # what the flow must see.
            token.check()
            return completion
    finally:
        token.untrack(handle)


class FailureCounter:
    """Counts failures per identity step; at the limit the flow sends the person to the counter."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._counts: dict[str, int] = {}

    def fail(self, step: str) -> bool:
        """Count one failure; True when the limit is reached."""
        self._counts[step] = self._counts.get(step, 0) + 1
        return self._counts[step] >= self.limit

    def count(self, step: str) -> int:
        return self._counts.get(step, 0)

    def left(self, step: str) -> int:
        return max(0, self.limit - self._counts.get(step, 0))


class FlowRunner:
    """Runs one flow at a time on a daemon thread and cancels it when the visit ends.

    Cancelling never has to block the caller (the UI thread calls it with ``join_s=0``): a flow
    inside a card write keeps running until the card answers, and records what the card did. A
    flow started meanwhile gets its own thread at once, but that thread first waits for the
    finishing one (telling the citizen to wait through ``on_wait``), so no two flows ever use the
    devices together and the previous card write is recorded before the next flow begins.
    """

    def __init__(self) -> None:
        self._thread: threading.Thread | None = None
        self._token: CancelToken | None = None
        self._lock = threading.Lock()

    @property
    def busy(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, name: str, body: Callable[[CancelToken], None],
              on_done: Callable[[BaseException | None], None] | None = None,
              on_wait: Callable[[], None] | None = None) -> CancelToken:
        """Start ``body`` on a new flow thread; returns at once.

        Refused while the current flow runs un-cancelled. When the current flow was cancelled but
        is still finishing (a card write), the new thread waits for it first, calling ``on_wait``
        once before waiting so the screen can say "please wait"."""
        with self._lock:
            previous = self._thread if self.busy else None
            if previous is not None and (self._token is None or not self._token.canceled):
                raise RuntimeError("a flow is already running")
            token = CancelToken()

            def run() -> None:
                error: BaseException | None = None
                try:
                    if previous is not None:
                        _wait_for_previous(previous, token, on_wait)
                    body(token)
                except FlowCanceled as exc:
                    log.info("flow stopped", extra={"flow": name, "reason": exc.reason})
                except Exception as exc:
                    log.exception("flow failed", extra={"flow": name})
                    error = exc
                if on_done is not None:
                    on_done(error)

            self._token = token
            self._thread = threading.Thread(target=run, name=f"flow-{name}", daemon=True)
            self._thread.start()
        return token

    def cancel(self, reason: str, join_s: float = 5.0) -> None:
        """End the current flow: its next wait raises FlowCanceled (a card write first finishes).
        Waits up to ``join_s`` for it; ``join_s=0`` returns at once (the UI thread must not block)."""
        with self._lock:
            token, thread = self._token, self._thread
        if token is not None:
            token.cancel(reason)
        if thread is not None and thread is not threading.current_thread() and join_s > 0:
            thread.join(join_s)
        with self._lock:
            # A flow still finishing stays the current one (busy) until its thread ends, so the
            # next start waits for it instead of running beside it.
            if self._thread is thread and (thread is None or not thread.is_alive()):
                self._thread, self._token = None, None


def _wait_for_previous(previous: threading.Thread, token: CancelToken,
                       on_wait: Callable[[], None] | None) -> None:
    """Block this (new) flow thread until the cancelled previous flow has ended."""
    if not previous.is_alive():
        return
    log.info("waiting for the previous flow to finish", extra={"flow": previous.name})
    if on_wait is not None:
        on_wait()
    while previous.is_alive():
        token.check()           # this visit may end too while it waits
        previous.join(0.05)
    token.check()
