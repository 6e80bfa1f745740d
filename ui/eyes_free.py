"""Private audio mode and the eyes-free visit (docs/voice.md, "Private audio and the eyes-free visit").

Headphones in (a :class:`drivers.headphone.api.HeadphonesChanged` through the device bridge): the
voice turns private (personal values may be said, :mod:`kiosk.voice.private`), the key map is said,
and the PIN pad's keys drive every screen that waits for a choice:

    2 / 8   previous / next choice (said as "choice 2 of 3: <its label>")
    Enter   choose it                      0   say the screen again
    5       say the key map again          Cancel   back (a step: cancel it; home: finish the visit)

While the pad takes digits (a PIN or a number), its keys go to the entry as always; in private mode
each key is answered with the count typed so far, and Clear with nothing typed says the step again.
Headphones out: anything being said stops at once, the voice says so publicly, the pad's keys no
longer move anything. The pad is only held for navigation while a screen waits for the citizen
(home, a question, a result, an error); a step that is working leaves it free for the flow's entry.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QPushButton

from drivers.api import CompletionCode
from drivers.headphone.api import HeadphonesChanged
from drivers.pinpad.api import EntryMode, KeyEvent, KeyKind
from kiosk.i18n import _
from kiosk.messages import eyes_free as M
from ui import dispatch
from ui.qt_compat import emit
from ui.widgets.flow_bodies import ChoiceBody, EntryBody

if TYPE_CHECKING:
    from ui.window import KioskWindow

log = logging.getLogger(__name__)

PAD = "pinpad"
JACK = "headphones"
KEY_MAP = {"2": "previous", "8": "next", "0": "repeat", "5": "keys"}


class EyesFreeNavigator:
    """One per window; all methods on the UI thread (pad events arrive through the DeviceBridge)."""

    def __init__(self, window: KioskWindow, *, private_audio: bool = True, eyes_free: bool = True) -> None:
        self.window = window
        self.private_audio = private_audio      # ui.private_audio: false = headphones change nothing
        self.eyes_free = eyes_free              # ui.eyes_free: false = private audio without pad navigation
        self.items: list[QPushButton] = []
        self.index = 0
        self._handle: Any = None
        self._outstanding: list[Any] = []       # navigation commands started, completion not yet here
        self._page = ""
        self._prefix = ""
        self._entry: EntryBody | None = None
        self._entry_count = 0
        window.step.body_changed.connect(self.refresh)

    # -- private mode ---------------------------------------------------------------------------------
    @property
    def active(self) -> bool:
        return self.eyes_free and self.window.prompter.private

    def attach(self, bridge: Any) -> None:
        """Listen to the headphone socket; a plug already in at start counts at once."""
        bridge.device_event.connect(self.device_event)
        bridge.completed.connect(self._pad_done)
        if bridge.has(JACK) and getattr(bridge.device(JACK), "plugged", False):
            self.set_private(True)

    def device_event(self, event: object) -> None:
        if isinstance(event, HeadphonesChanged):
            self.set_private(event.plugged)
        elif isinstance(event, KeyEvent) and event.device == PAD:
            self._pad_key(event)

    def set_private(self, plugged: bool) -> None:
        prompter = self.window.prompter
        private = plugged and self.private_audio
        if private == prompter.private:
            return
        prompter.set_private(private)           # out: stops anything private first
        if private:
            self._prefix = f"{_(M.PRIVATE_ON)} {_(M.KEY_MAP)}" if self.eyes_free else _(M.PRIVATE_ON)
        else:
            self._stop_pad()
            self._prefix = _(M.PRIVATE_OFF)
        self.window.speak_current()

    # -- what the screen offers ---------------------------------------------------------------------
    def spoken_text(self, screen_text: str) -> str:
        """The shell's prompt for the current screen, with the key map or the focused choice added
        (called by KioskWindow.speak_current on every screen change and repeat)."""
        self.refresh()
        prefix, self._prefix = self._prefix, ""
        parts = [prefix, screen_text]
        if self.active and self.items:
            parts.append(self._announce())
        return " ".join(p for p in parts if p)

    def refresh(self) -> None:
        """Recompute the choices on screen; hold the pad for navigation only where one is awaited."""
        window = self.window
        page = window.current_page
        if page == "home" and self._page == "attract" and self.active:
            self._prefix = self._prefix or _(M.KEY_MAP)         # a new visit: the keys again
        self._page = page
        items = self._choices(page)
        if [id(b) for b in items] != [id(b) for b in self.items]:
            self.items, self.index = items, 0
        self._watch_entry()
        waiting = page in ("attract", "home", "result", "error") or bool(items)
        if self.active and waiting and self._entry is None:
            self._hold_pad()
        else:
            self._stop_pad()

    def _choices(self, page: str) -> list[QPushButton]:
        window = self.window
        buttons: list[QPushButton] = []
        if page == "home":
            buttons = [*window.home.service_buttons.values(), window.home.finish_button]
        elif page == "result":
            buttons = [window.result.home_button, window.result.finish_button]
        elif page == "error":
            buttons = window.error.panel.buttons
        elif page == "step":
            body = window.step.body
            if window.step.showing_error:
                buttons = window.step.error_panel.buttons
            elif isinstance(body, ChoiceBody):
                buttons = list(body.buttons.values())
        return [b for b in buttons if b.isEnabled() and not b.isHidden()]

    def _label(self, button: QPushButton) -> str:
        return button.accessibleName() or button.text()

    def _announce(self) -> str:
        total = len(self.items)
        return f"{_(M.OPTION_OF).format(index=self.index + 1, total=total)}{self._label(self.items[self.index])}"

    # -- the pad --------------------------------------------------------------------------------------
    @property
    def listening(self) -> bool:
        """The pad's navigation command is running (started, not ended): a key now is heard."""
        handle = self._handle
        return handle is not None and not handle.done and handle.deadline is not None

    def _pad(self) -> Any:
        bridge = self.window.bridge
        if bridge is None or not bridge.has(PAD):
            return None
        pad = bridge.device(PAD)
        return pad if hasattr(pad, "start_navigation") else None

    def _hold_pad(self) -> None:
        if self._handle is not None and not self._handle.done:
            return
        pad = self._pad()
        if pad is None:
            return
        handle = pad.start_navigation()
        self._handle = handle
        self._outstanding.append(handle)
        # Its keys come through the bridge's device_event like every pad event (the pad is attached
        # there); only the completion is posted here. Not bridge.watch: that would post each key a
        # second time.
        bridge = self.window.bridge
        handle.add_done_callback(lambda completion: bridge.post_completion(handle, completion))

    def _stop_pad(self) -> None:
        handle, self._handle = self._handle, None
        if handle is not None:
            handle.cancel()

    def _pad_done(self, token: object, completion: Any) -> None:
        if token not in self._outstanding:
            return                              # another command's completion
        self._outstanding.remove(token)
        # The navigation command runs for a few minutes at a time; a timed-out one is renewed.
        if token is self._handle and completion.code is CompletionCode.TIMEOUT and dispatch.alive(self.window):
            self._handle = None
            self.refresh()

    def _pad_key(self, event: KeyEvent) -> None:
        # Every pad event comes here: a navigation key has its shape (plain, nothing kept) and comes
        # while the current navigation runs. The bridge delivers a command's keys before its
        # completion, so a key belongs to the oldest navigation not yet completed: a key of one the
        # screen has stopped (its screen is gone) is dropped.
        if event.mode is not EntryMode.PLAIN or event.count != 0 or not self.listening:
            return
        current = self._outstanding[0] if self._outstanding else None
        if current is not self._handle or not dispatch.alive(self.window):
            return
        if not self.active:
            return
        if event.kind is KeyKind.DIGIT:
            action = KEY_MAP.get(event.value)
        else:
            action = {KeyKind.ENTER: "choose", KeyKind.CANCEL: "back"}.get(event.kind)
        if action is not None:
            self.window.core.touch()            # a key is activity: the idle timer restarts
            self.act(action)

    def act(self, action: str) -> None:
        """One navigation action (what a pad key means)."""
        window = self.window
        if action in ("previous", "next") and self.items:
            step = 1 if action == "next" else -1
            self.index = (self.index + step) % len(self.items)
            window.prompter.say(self._announce(), _language())
        elif action == "repeat":
            window.speak_current()
        elif action == "keys":
            window.prompter.say(_(M.KEY_MAP), _language())
        elif action == "choose":
            self._choose()
        elif action == "back":
            self._back()

    def _choose(self) -> None:
        page = self.window.current_page
        if page == "attract":
            self._stop_pad()
            emit(self.window.attract.touched)
            return
        if not self.items:
            return
        button = self.items[self.index]
        self._stop_pad()                        # the pad is free before the flow may want it
        button.click()

    def _back(self) -> None:
        """Cancel does what the screen's own way back does: the same signal its button sends."""
        window = self.window
        signal = {"home": window.home.finish_requested, "step": window.step.cancel_requested,
                  "result": window.result.home_requested, "error": window.error.home_requested}.get(
                      window.current_page)
        self._stop_pad()
        if signal is not None:
            emit(signal)

    # -- entries (the pad is the flow's): count typed, Clear with nothing typed repeats -------------------
    def _watch_entry(self) -> None:
        body = self.window.step.body if self.window.current_page == "step" else None
        entry = body if isinstance(body, EntryBody) and not self.window.step.showing_error else None
        if entry is self._entry:
            return
        self._entry, self._entry_count = entry, 0
        if entry is not None:
            entry.pin.add_echo_listener(_guarded(entry, self._entry_key))

    def _entry_key(self, entry: EntryBody, count: int) -> None:
        if entry is not self._entry or not self.active:
            return
        kind = entry.pin.last_kind
        before, self._entry_count = self._entry_count, count
        if kind is KeyKind.CLEAR and before == 0:
            self.window.speak_current()
        elif kind in (KeyKind.DIGIT, KeyKind.DIGIT_HIDDEN, KeyKind.BACKSPACE, KeyKind.CLEAR):
            # Private mode only: how many digits are in (the dots the person cannot see).
            self.window.prompter.say(entry.pin.count_label.text(), _language())


def _guarded(entry: EntryBody, callback: Callable[[EntryBody, int], None]) -> Callable[[int], None]:
    def listener(count: int) -> None:
        if dispatch.alive(entry):
            callback(entry, count)
    return listener


def _language() -> str:
    from kiosk import i18n

    return i18n.language()
