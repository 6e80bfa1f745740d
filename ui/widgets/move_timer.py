"""The movement timer of the face step: "N s left for this movement", counting down for each move
of the active challenge, with one spoken warning shortly before the move times out.

The verifier gives every move ``challenge_step_timeout_s`` ([face] in the configuration) from the
frame on which it is first asked; its first prompt for a move arrives here within a frame, so the
countdown starts on that prompt. Built and driven on the UI thread only (FaceBody feeds it).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QWidget

from kiosk.i18n import N_, _
from ui import theme
from ui.widgets.common import label

MOVE_TIME_LEFT = N_("{n} s left for this movement")
MOVE_HURRY = N_("Only {n} seconds left. Please do the movement now.")
WARN_AT_S = 2                  # the spoken warning, once per move, with this many seconds left
TICK_MS = 200


class MoveTimer:
    """A label and a QTimer; ``start(index)`` for each new move, ``stop()`` when the moves are over."""

    def __init__(self, parent: QWidget, seconds: float, say: Callable[[str], None],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._say = say
        self._clock = clock
        self.label = label("title", align=Qt.AlignmentFlag.AlignLeft)
        self.label.setObjectName("moveTimer")
        self.label.hide()
        self._timer = QTimer(parent)          # parented: it dies with the face step's body
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)
        self.index: int | None = None
        self._deadline = 0.0
        self._warned = False
        self._done = False                    # the person reached this move's target
        self.warnings = 0

    @property
    def left(self) -> int:
        """Whole seconds left for the current move (rounded up: "1 s" until it is over)."""
        return max(0, math.ceil(self._deadline - self._clock()))

    @property
    def running(self) -> bool:
        return self._timer.isActive()

    def start(self, index: int) -> None:
        if self.seconds <= 0:
            return
        self.index, self._deadline, self._warned, self._done = index, self._clock() + self.seconds, False, False
        self._render()
        self.label.show()
        self._timer.start()

    def reached(self) -> None:
        """The move's target is reached (only the way back is left): no warning for it any more."""
        self._done = True

    def stop(self) -> None:
        self._timer.stop()
        self.label.hide()
        self.index = None

    def retranslate(self) -> None:
        if self.index is not None:
            self._render()

    def _tick(self) -> None:
        left = self.left
        self._render(left)
        if 0 < left <= WARN_AT_S and not self._warned and not self._done:
            self._warned = True
            self.warnings += 1
            self._say(_(MOVE_HURRY).format(n=left))
        if left == 0:
            self._timer.stop()          # the verifier ends the move now; its outcome follows

    def _render(self, left: int | None = None) -> None:
        left = self.left if left is None else left
        style = f"color: {theme.ERROR if left <= WARN_AT_S else theme.PRIMARY};"
        if self.label.styleSheet() != style:       # restyling re-polishes the label: only on a change
            self.label.setStyleSheet(style)
        icon = f"{theme.ICON_WARNING} " if left <= WARN_AT_S else ""
        self.label.setText(icon + _(MOVE_TIME_LEFT).format(n=left))
