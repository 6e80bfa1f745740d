"""FlowHost: the one object a service flow (issue 6) uses to drive the screens.

All calls on the UI thread. Texts are msgids or callables (see :mod:`ui.widgets.common`); the
voice says each step's title and instruction automatically (the same words as on screen).

    host.enter_step("pin_entry", N_("Enter your PIN"), N_("Type six digits on the PIN pad."), 2, 4,
                    body=widget)                     # -> the StepLayout, now on screen
    host.step.show_error(N_("Wrong PIN"), lambda: ..., [host.retry_action(fn), host.home_action()])
    host.show_result(N_("PIN changed"), N_("Please remember your new PIN."), details=[...])
    host.show_error(what_happened, what_to_do, actions)   # full-screen error outside a step
    host.go_home(); host.finish()                         # leave the service / end the visit
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from kiosk.i18n import _
from kiosk.session import EndReason, SessionCore
from ui.widgets.common import Text
from ui.widgets.error_panel import FINISH, GO_HOME, RETRY, ErrorAction
from ui.widgets.step_layout import StepLayout

if TYPE_CHECKING:
    from ui.bridge import DeviceBridge
    from ui.window import KioskWindow


class FlowHost:
    def __init__(self, window: KioskWindow) -> None:
        self._window = window

    @property
    def session(self) -> SessionCore:
        return self._window.core

    @property
    def bridge(self) -> DeviceBridge | None:
        return self._window.bridge

    @property
    def step(self) -> StepLayout:
        return self._window.step

    @property
    def hotline(self) -> str:
        return self._window.hotline

    def enter_step(self, key: str, title: Text, instruction: Text, index: int, total: int,
                   body: object = None) -> StepLayout:
        """Tell the core (idle timer, records) and show the step layout with this step."""
        self.session.enter_step(key, index, total)
        self.step.set_step(title, instruction, index, total)
        if body is not None:
            self.step.set_body(body)  # type: ignore[arg-type]
        self._window.show_page("step")
        return self.step

    def show_result(self, title: Text, message: Text, details: Sequence[Text] = (), ok: bool = True) -> None:
        self.session.show_result()
        self._window.result.set_result(title, message, details, ok)
        self._window.show_page("result")

    def show_error(self, what_happened: Text, what_to_do: Text, actions: Sequence[ErrorAction] = ()) -> None:
        self._window.show_error(what_happened, what_to_do, actions)

    def go_home(self) -> None:
        self._window.go_home()

    def finish(self) -> None:
        self.session.end_visit(EndReason.FINISHED)

    # -- standard actions: the same words for the same thing everywhere ---------------------------
    def retry_action(self, on_click: Callable[[], None]) -> ErrorAction:
        return ErrorAction(RETRY, on_click)

    def home_action(self) -> ErrorAction:
        return ErrorAction(GO_HOME, self.go_home, primary=False)

    def finish_action(self) -> ErrorAction:
        return ErrorAction(FINISH, self.finish, primary=False)

    def counter_text(self) -> Callable[[], str]:
        """"Go to the counter / call 12333" as a ready-made what_to_do."""
        from ui.window import COUNTER_OR_HOTLINE

        return lambda: _(COUNTER_OR_HOTLINE).format(hotline=self.hotline)
