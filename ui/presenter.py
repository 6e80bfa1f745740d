"""QtPresenter: the Qt side of :class:`kiosk.flows.base.Presenter`.

Flows call it on their flow thread. Every call is marshalled to the UI thread through the
application-wide dispatcher (:mod:`ui.dispatch`; the presenter itself is no QObject, so no queued
call can ever target a presenter that is being deleted), and the flow thread waits on a ``threading.Event`` -- until the screen is shown
(step, bind_*, show_result) or until the citizen answers (ask, show_error). Each wait polls the
flow's CancelToken and this presenter's own ``closed`` flag, so a visit that ends meanwhile raises
:class:`FlowCanceled` in the flow instead of leaving it blocked. The UI thread never waits on the
flow thread (no deadlock when the shell cancels the flow and joins its thread).

Screens go through :class:`ui.host.FlowHost` (so the SessionCore hears ``enter_step`` and
``show_result``) and the common :class:`StepLayout`; the voice says what the screen says.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QWidget

from kiosk import i18n
from kiosk.flows.base import CancelToken, Choice, FlowCanceled, Guidance, NextStep, ResultLine, StepPicture
from kiosk.i18n import N_, _
from ui import dispatch
from ui.widgets.common import Text
from ui.widgets.error_panel import GO_HOME, OTHER_CARD, RETRY, ErrorAction
from ui.widgets.flow_bodies import ChoiceBody, FaceBody, entry_widget

if TYPE_CHECKING:
    from ui.host import FlowHost

log = logging.getLogger(__name__)

POLL_S = 0.05
COUNTER = N_("I will go to the counter")
CALL_HOTLINE = N_("I will call {hotline}")

ACTION_LABELS: dict[NextStep, str] = {
    NextStep.RETRY: RETRY, NextStep.ANOTHER_CARD: OTHER_CARD, NextStep.COUNTER: COUNTER,
    NextStep.CALL_HOTLINE: CALL_HOTLINE, NextStep.HOME: GO_HOME,
}


class _SafeDict(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def tr(msgid: str, fmt: Mapping[str, Any] | None = None) -> Text:
    """A Text for a msgid with its placeholders: re-rendered (translated) on every language switch."""
    if not fmt:
        return msgid
    values = dict(fmt)

    def render() -> str:
        # msgid values (a rule, a bank's note) are translated; personal or numeric ones pass as is
        filled = {k: (_(v) if isinstance(v, str) and v and k not in ("name", "hotline", "phone") else v)
                  for k, v in values.items()}
        return _(msgid).format_map(_SafeDict(filled))

    return render


class EventRelay:
    """A command's event listener registered on the flow thread at once (the pad may echo a key
    before the screen exists); events wait here until the widget is attached, then flow straight on.
    Never holds a PIN digit: PIN-mode KeyEvents carry only a count."""

    def __init__(self, closed: threading.Event) -> None:
        self._lock = threading.Lock()
        self._pending: list[Any] = []
        self._target: Callable[[Any], None] | None = None
        self._closed = closed

    def __call__(self, event: Any) -> None:
        with self._lock:
            if self._closed.is_set():
                return
            if self._target is None:
                self._pending.append(event)
                return
            try:
                self._target(event)     # thread-safe targets only (they queue to the UI thread)
            except RuntimeError:        # the widget is gone (the step moved on): nothing to show
                self._target = None

    def attach(self, target: Callable[[Any], None]) -> None:
        with self._lock:
            self._target = target
            pending, self._pending = self._pending, []
            for event in pending:
                target(event)


class QtPresenter:
    """One per running service; ``close()`` (the shell's stop) releases every wait in the flow.

    A plain Python object on purpose: the flow thread may hold the last reference to it, and a
    QObject freed on the flow thread while the UI thread delivers a queued call to it crashes Qt."""

    def __init__(self, host: FlowHost, *, camera: Any = None, keypad: Callable[[str], None] | None = None,
                 move_time_s: float = 0.0) -> None:
        self.host = host
        self.camera = camera
        self.move_time_s = move_time_s    # [face] challenge_step_timeout_s: the movement timer's start
        self.keypad = keypad            # demo: on-screen PIN-pad keys press the simulated pad
        self.token: CancelToken | None = None
        self._closed = threading.Event()
        self._cleanups: list[Callable[[], None]] = []
        self._step_key: str | None = None     # the step on screen (flow thread)
        self._step_fmt: dict[str, Any] = {}

    # -- plumbing ---------------------------------------------------------------------------------
    def close(self) -> None:
        """UI thread: the service is over (visit ended, cancel): stop feeding widgets, free the flow."""
        self._closed.set()
        self._cleanup()

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    def _check(self) -> None:
        if self.token is not None and self.token.canceled:
            raise FlowCanceled(self.token.reason)
        if self._closed.is_set():
            raise FlowCanceled("presenter closed")

    def _wait(self, event: threading.Event) -> None:
        while not event.wait(POLL_S):
            self._check()
        self._check()

    def _call(self, job: Callable[[], Any]) -> Any:
        """Run ``job`` on the UI thread; return its result once it ran (FlowCanceled if the visit ends)."""
        self._check()
        done = threading.Event()
        box: dict[str, Any] = {}

        def run() -> None:
            if self._closed.is_set() or not dispatch.alive(self.host._window):
                done.set()
                return
            try:
                box["value"] = job()
            except BaseException as exc:       # re-raised on the flow thread
                box["error"] = exc
            done.set()

        dispatch.post(run)
        self._wait(done)
        if "error" in box:
            raise box["error"]
        return box.get("value")

    def _ask_ui(self, build: Callable[[Callable[[Any], None]], None]) -> Any:
        """``build(answer)`` runs on the UI thread and arranges for ``answer(value)`` on a click."""
        self._check()
        answered = threading.Event()
        box: dict[str, Any] = {}

        def answer(value: Any) -> None:
            if "value" not in box:
                box["value"] = value
                answered.set()

        self._call(lambda: build(answer))
        self._wait(answered)
        return box["value"]

    def _cleanup(self) -> None:
        cleanups, self._cleanups = self._cleanups, []
        for cleanup in cleanups:
            try:
                cleanup()
            except Exception:
                log.exception("presenter cleanup failed")

    def _show_body(self, body: QWidget | None, *, speak: bool = False) -> None:
        window = self.host._window
        if not isinstance(body, ChoiceBody):
            self.host.step.restore_heading()    # an entry after a question: the step's own title again
        self.host.step.set_body(body)
        if window.current_page != "step":
            window.show_page("step")
        elif speak:
            window.speak_current()

    # -- the Presenter protocol -------------------------------------------------------------------
    def step(self, key: str, index: int, total: int, title: str, instruction: str, *,
             picture: StepPicture | None = None, **fmt: Any) -> None:
        self._step_key = key
        self._step_fmt = dict(fmt)

        def show() -> None:
            self._cleanup()
            self.host.step.set_body(_step_picture(picture))
            self.host.enter_step(key, tr(title, fmt), tr(instruction, fmt), index, total)
            self.host.step.set_navigation(back=False, cancel=True)

        self._call(show)

    def ask(self, key: str, question: str, options: Sequence[Choice], **fmt: Any) -> str:
        def build(answer: Callable[[Any], None]) -> None:
            # A question its step did not announce ("reading your card", then "change your PIN
            # now?") becomes the heading: no title from before stays above it.
            own_step = self._step_key == key
            body = ChoiceBody(key, tr(question, fmt), options, fmt, answer, show_question=own_step)
            if not own_step:
                self.host.step.set_heading(tr(question, fmt))
            self._show_body(body, speak=True)

        return str(self._ask_ui(build))

    def bind_pin_entry(self, handle: Any, tries_left: int | None = None, *, pin_title: str | None = None) -> None:
        relay = EventRelay(self._closed)
        handle.on_event(relay)
        self._call(lambda: self._bind_entry(relay, "pin", tries_left, pin_title=pin_title))

    def bind_plain_entry(self, handle: Any, kind: str) -> None:
        relay = EventRelay(self._closed)
        handle.on_event(relay)
        resend_s = self._step_fmt.get("resend_s") if kind == "sms_code" else None
        self._call(lambda: self._bind_entry(relay, kind, None, handle if resend_s is not None else None, resend_s))

    def _bind_entry(self, relay: EventRelay, kind: str, tries_left: int | None, handle: Any = None,
                    resend_s: int | None = None, pin_title: str | None = None) -> None:
        widget = entry_widget(kind, tries_left, demo_keys=self.keypad is not None, pin_title=pin_title)
        if handle is not None and resend_s is not None:
            # A visible "send a new code" (with its countdown): it ends this entry like the pad's
            # Cancel key, and the flow offers the resend.
            widget.add_resend(int(resend_s), handle.cancel)
        if self.keypad is not None:
            widget.key_requested.connect(self.keypad)
        relay.attach(widget.pin.listener())
        self._show_body(widget)
        if self.keypad is not None:
            widget.pin.setFocus()

    def bind_face(self, handle: Any) -> None:
        relay = EventRelay(self._closed)
        handle.on_event(relay)
        self._call(lambda: self._bind_face(relay))

    def _bind_face(self, relay: EventRelay) -> None:
        bridge = self.host.bridge
        body = FaceBody(self.camera, say=lambda text: self.host._window.prompter.say(text, i18n.language()),
                        move_time_s=self.move_time_s)
        self._show_body(body)
        relay.attach(body.post_event)
        if self.camera is not None and bridge is not None:
            device = getattr(self.camera, "name", "camera")
            def show_frame(name: str, image: Any) -> None:
                if dispatch.alive(body):        # the body goes with its step; a late frame is dropped
                    body.show_frame(name, image)

            bridge.frame.connect(show_frame)
            unsubscribe = self.camera.on_frame(body.frame_listener(bridge, device))

            def stop_preview() -> None:
                unsubscribe()
                try:
                    bridge.frame.disconnect(show_frame)
                except (RuntimeError, TypeError):
                    pass

            self._cleanups.append(stop_preview)

    def show_result(self, key: str, ok: bool, title: str, message: str, lines: Sequence[ResultLine] = (),
                    **fmt: Any) -> None:
        details: list[Text] = [
            (lambda label=line.label, value=line.value: f"{_(label)}：{_(value)}" if i18n.language() == "zh_CN"
             else f"{_(label)}: {_(value)}") for line in lines]   # a msgid value follows the language

        def show() -> None:
            self._cleanup()
            self.host.step.set_body(None)
            self.host.show_result(tr(title, fmt), tr(message, fmt), details, ok)

        self._call(show)

    def show_error(self, guidance: Guidance) -> NextStep:
        fmt = guidance.format_args

        def build(answer: Callable[[Any], None]) -> None:
            self._cleanup()
            actions = [ErrorAction(tr(ACTION_LABELS[a], fmt), lambda _checked=False, a=a: answer(a),
                                   primary=a in (NextStep.RETRY, NextStep.ANOTHER_CARD))
                       for a in guidance.actions]
            window = self.host._window
            if window.current_page != "step":
                window.show_page("step")
            self.host.step.show_error(tr(guidance.what_happened, fmt), tr(guidance.what_to_do, fmt), actions)

        return NextStep(self._ask_ui(build))


def _step_picture(picture: StepPicture | None) -> QWidget | None:
    """The picture a step names, under its instruction (the e-card sign-in: the phone)."""
    if picture is StepPicture.PHONE:
        from ui.widgets.phone_hint import PhoneHint

        return PhoneHint()
    return None
