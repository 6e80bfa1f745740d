"""A real Presenter that answers from a script and records everything it was shown.

Used by the flow tests and usable for an unattended demo: questions are answered from ``answers``,
PIN and plain entries are typed by a ``typist`` (e.g. on the PIN pad simulator, see
:func:`simulator_typist`), error screens choose from ``errors`` (default: Home when offered), and
``hooks`` run at named moments ("step:face", "ask:consent", "entry:sms_code", "result", "error")
so a test can pull the card or swap the camera picture exactly there.

Nothing personal is kept beyond what the flow itself put on screen (already masked).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kiosk.flows.base import CancelToken, Choice, FlowCanceled, Guidance, NextStep, ResultLine, StepPicture
from kiosk.i18n import _

EntryKeys = str | Sequence[str] | Callable[[], str | Sequence[str]]
Typist = Callable[[str, Sequence[str]], None]      # (entry kind, key names) -> presses them


class ScriptError(AssertionError):
    """The flow asked for something the script has no answer for."""


@dataclass(frozen=True)
class Shown:
    kind: str                 # step | ask | pin_entry | plain_entry | face | result | error
    key: str                  # step key, question key, entry kind, result service, error what_happened
    text: str = ""            # msgid: title, question, result message, error what_to_do
    data: Mapping[str, Any] = field(default_factory=dict)


def keys_for(entry: str | Sequence[str]) -> list[str]:
    """"123456" -> the digits then "enter"; a list of key names is pressed as given."""
    if isinstance(entry, str):
        return [*entry, "enter"]
    return list(entry)


def simulator_typist(simulator: Any, timeout_s: float = 10.0) -> Typist:
    """Types on drivers.pinpad.simulator.PinPadSimulator once the pad has opened the entry."""

    def typist(kind: str, keys: Sequence[str]) -> None:
        wanted = "pin" if kind == "pin" else "plain"
        deadline = time.monotonic() + timeout_s
        while simulator.entry_mode != wanted:
            if time.monotonic() > deadline:
                raise ScriptError(f"the PIN pad never opened a {wanted} entry for {kind!r}")
            time.sleep(0.01)
        for key in keys:
            simulator.press(key)

    return typist


class ScriptedPresenter:
    def __init__(self, *, answers: Mapping[str, str | Iterable[str]] | None = None,
                 entries: Iterable[tuple[str, EntryKeys]] = (), errors: Iterable[NextStep | str] = (),
                 typist: Typist | None = None, hooks: Mapping[str, Callable[[], Any] | Iterable[Callable[[], Any]]] | None = None,
                 token: CancelToken | None = None) -> None:
        self._answers: dict[str, deque[str] | str] = {}
        for key, value in (answers or {}).items():
            self._answers[key] = value if isinstance(value, str) else deque(value)
        self._entries: deque[tuple[str, EntryKeys]] = deque(entries)
        self._errors: deque[NextStep] = deque(NextStep(e) for e in errors)
        self._typist = typist
        self._hooks: dict[str, deque[Callable[[], Any]]] = {}
        for key, hook in (hooks or {}).items():
            self._hooks[key] = deque([hook] if callable(hook) else hook)
        self.token = token
        self.shown: list[Shown] = []
        self._lock = threading.Lock()

    # -- what the flow was shown ----------------------------------------------------------------
    def of_kind(self, kind: str) -> list[Shown]:
        with self._lock:
            return [s for s in self.shown if s.kind == kind]

    @property
    def step_keys(self) -> list[str]:
        return [s.key for s in self.of_kind("step")]

    @property
    def errors(self) -> list[Shown]:
        return self.of_kind("error")

    @property
    def result(self) -> Shown | None:
        results = self.of_kind("result")
        return results[-1] if results else None

    @property
    def unused_entries(self) -> int:
        return len(self._entries)

    # -- plumbing -------------------------------------------------------------------------------
    def _record(self, shown: Shown) -> None:
        with self._lock:
            self.shown.append(shown)

    def _hook(self, name: str) -> None:
        queue = self._hooks.get(name)
        if queue:
            queue.popleft()()

    def _check(self) -> None:
        if self.token is not None and self.token.canceled:
            raise FlowCanceled(self.token.reason)

    # -- the Presenter protocol -----------------------------------------------------------------
    def step(self, key: str, index: int, total: int, title: str, instruction: str, *,
             picture: StepPicture | None = None, **format_args: Any) -> None:
        # The same contract the Qt screen enforces: a step is "index of total", both from 1.
        if total < 1 or not 1 <= index <= total:
            raise ValueError(f"step {key!r}: {index} of {total}; expected 1 <= index <= total")
        extra = {"picture": picture.value} if picture is not None else {}
        self._record(Shown("step", key, title, {"index": index, "total": total, "instruction": instruction,
                                                **extra, **format_args}))
        self._hook(f"step:{key}")

    def ask(self, key: str, question: str, options: Sequence[Choice], **format_args: Any) -> str:
        self._record(Shown("ask", key, question, {"options": [(o.key, o.enabled, o.note) for o in options],
                                                  **format_args}))
        self._hook(f"ask:{key}")
        self._check()
        answer = self._answers.get(key)
        if answer is None or (isinstance(answer, deque) and not answer):
            raise ScriptError(f"no scripted answer for question {key!r}")
        choice = answer if isinstance(answer, str) else answer.popleft()
        if choice not in {o.key for o in options}:
            raise ScriptError(f"scripted answer {choice!r} is not an option of {key!r}")
        return choice

    def _type(self, kind: str) -> None:
        if not self._entries:
            raise ScriptError(f"no scripted entry for a {kind!r} entry")
        wanted, keys = self._entries.popleft()
        if wanted != kind:
            raise ScriptError(f"the flow opened a {kind!r} entry but the script has {wanted!r} next")
        if self._typist is None:
            raise ScriptError("the script has entries but no typist")
        resolved = keys() if callable(keys) else keys
        self._typist(kind, keys_for(resolved))

    def bind_pin_entry(self, handle: Any, tries_left: int | None = None, *, pin_title: str | None = None) -> None:
        extra = {"pin_title": pin_title} if pin_title is not None else {}
        self._record(Shown("pin_entry", "pin", data={"tries_left": tries_left, **extra}))
        self._hook("entry:pin")
        self._type("pin")

    def bind_plain_entry(self, handle: Any, kind: str) -> None:
        self._record(Shown("plain_entry", kind))
        self._hook(f"entry:{kind}")
        self._type(kind)

    def bind_face(self, handle: Any) -> None:
        self._record(Shown("face", "face"))
        self._hook("face")

    def show_result(self, key: str, ok: bool, title: str, message: str, lines: Sequence[ResultLine] = (),
                    **format_args: Any) -> None:
        self._record(Shown("result", key, message, {"ok": ok, "title": title,
                                                    "lines": {line.label: _(line.value) for line in lines},
                                                    **format_args}))
        self._hook("result")

    def show_error(self, guidance: Guidance) -> NextStep:
        self._record(Shown("error", guidance.what_happened, guidance.what_to_do,
                           {"actions": tuple(guidance.actions), **guidance.format_args}))
        self._hook("error")
        self._check()
        if self._errors:
            choice = self._errors.popleft()
            if choice not in guidance.actions:
                raise ScriptError(f"scripted action {choice.value!r} is not offered by {guidance.what_happened!r}")
            return choice
        return NextStep.HOME if NextStep.HOME in guidance.actions else guidance.actions[0]
