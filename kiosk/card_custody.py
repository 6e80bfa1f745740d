"""Whose card is in the citizen's reader. Plain Python: no Qt, no threads (the UI thread calls it).

A card may only be used by the visit that saw it go in. A visit that ends with the card still in the
reader (finish, cancel, idle timeout) hands it back: the kiosk says "please take your card" with a
countdown until the card is out. A card left behind after that, or found in the reader at start-up
(the kiosk never saw the reader empty, so it never saw this card inserted), is never used: no visit
starts while it is there, and the screen says why. Where the reader can capture a card
(``capture()`` on the card device; motorised readers) and ``ui.retain_left_card`` is set, a
left-behind card is captured after the countdown.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import StrEnum


class CardState(StrEnum):
    UNKNOWN = "unknown"        # start-up: not yet seen the reader empty
    EMPTY = "empty"
    IN_VISIT = "in_visit"      # seen inserted: the current (or next) visit may use it
    TO_TAKE = "to_take"        # its visit ended: "please take your card", countdown running
    LEFT = "left"              # not taken in time (or present at start-up): never used
    RETAINED = "retained"      # captured by the reader


class CardCustody:
    def __init__(self, take_timeout_s: float, *, retain: bool = False,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.take_timeout_s = take_timeout_s
        self.retain = retain
        self._clock = clock
        self.state = CardState.UNKNOWN
        self._deadline: float | None = None

    # -- reader events ------------------------------------------------------------------------------
    def reader_empty(self) -> None:
        """The reader reported no card (status noMedia, or a removal)."""
        self.state = CardState.EMPTY
        self._deadline = None

    def inserted(self) -> bool:
        """A card went in. True when this kiosk saw it go in (the reader was empty before), so a
        visit may use it; False for a card already there at start-up."""
        if self.state in (CardState.EMPTY, CardState.IN_VISIT, CardState.RETAINED):
            self.state = CardState.IN_VISIT
            self._deadline = None
            return True
        self.state = CardState.LEFT
        return False

    def removed(self) -> None:
        self.reader_empty()

    # -- the visit ----------------------------------------------------------------------------------
    def visit_ended(self) -> bool:
        """The visit is over; True when its card is still in and must now be taken."""
        if self.state is CardState.IN_VISIT:
            self.state = CardState.TO_TAKE
            self._deadline = self._clock() + self.take_timeout_s
            return True
        return False

    @property
    def blocks_visit(self) -> bool:
        """A card nobody may use is in the reader: no visit may start until it is out."""
        # UNKNOWN does not block: a reader that never reports (pcscd down, no reader) holds no card a
        # visit could read; a card it then reports without having been seen empty becomes LEFT.
        return self.state in (CardState.TO_TAKE, CardState.LEFT)

    @property
    def card_usable(self) -> bool:
        return self.state is CardState.IN_VISIT

    def seconds_left(self) -> int | None:
        """While the card is to be taken: whole seconds left on the countdown."""
        if self.state is not CardState.TO_TAKE or self._deadline is None:
            return None
        return max(0, int(self._deadline - self._clock() + 0.999))

    def tick(self) -> bool:
        """Advance the countdown; True exactly once, when it runs out (the card is now left behind)."""
        left = self.seconds_left()
        if left is None or left > 0:
            return False
        self.state = CardState.LEFT
        self._deadline = None
        return True

    def retained(self) -> None:
        self.state = CardState.RETAINED
