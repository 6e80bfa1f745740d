"""Card hand-back on the shell: "please take your card" after a visit, and a left-behind card never
used by the next person (see :mod:`kiosk.card_custody` for the rules).

:class:`CardHandback` adds the ``take_card`` page to the window, follows the citizen reader through
the device bridge (insertions, removals, ``noMedia`` status) and is asked by the window:
``inserted()`` (may this insertion start or join a visit?), ``blocks_visit`` (a touch must not start
a visit), ``visit_ended()`` and ``page_after_wipe()``. The window's clock ticks it.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from drivers.api import DeviceStatus
from kiosk import i18n
from kiosk.card_custody import CardCustody, CardState
from ui.bridge import CITIZEN_CARD_READER
from ui.screens.take_card import RETAINED, TAKE_CARD, TakeCardScreen

if TYPE_CHECKING:
    from ui.window import KioskWindow

log = logging.getLogger(__name__)

REPEAT_PROMPT_S = 10        # the spoken "please take your card" again every 10 s while it is in


class CardHandback:
    def __init__(self, window: KioskWindow, custody: CardCustody) -> None:
        self.window = window
        self.custody = custody
        self.screen = TakeCardScreen(window.hotline)
        window.pages["take_card"] = self.screen
        window.stack.addWidget(self.screen)
        self._last_spoken: int | None = None
        bridge = window.bridge
        assert bridge is not None
        bridge.status_changed.connect(self._status_changed)
        device: Any = bridge.device(CITIZEN_CARD_READER)
        status = getattr(device, "status", None)
        if status is DeviceStatus.NO_MEDIA:
            custody.reader_empty()
        elif status is DeviceStatus.ONLINE:     # a card is in, and nobody saw it go in (start-up)
            log.warning("card in the reader at start-up: not used until it is taken out")
            custody.inserted()                  # UNKNOWN -> LEFT

    # -- reader --------------------------------------------------------------------------------------
    def _status_changed(self, device: str, _old: str, new: str) -> None:
        if device == CITIZEN_CARD_READER and new == DeviceStatus.NO_MEDIA.value \
                and self.custody.state is CardState.UNKNOWN:
            self.custody.reader_empty()

    def inserted(self) -> bool:
        """A card went in: True when a visit may use it. A card the kiosk did not see go in (it was
        there at start-up) is refused on screen instead."""
        if self.custody.inserted():
            return True
        log.warning("card in the reader that the kiosk did not see inserted: not used")
        self._show_left()
        return False

    def removed(self) -> None:
        was = self.custody.state
        self.custody.removed()
        if was in (CardState.TO_TAKE, CardState.LEFT, CardState.UNKNOWN) and self.window.current_page == "take_card":
            log.info("card taken back", extra={"was": was.value})
            self.window.show_page("attract", remember=False)

    # -- the visit ------------------------------------------------------------------------------------
    @property
    def blocks_visit(self) -> bool:
        return self.custody.blocks_visit

    def visit_ended(self) -> None:
        if self.custody.visit_ended():
            self._last_spoken = None

    def page_after_wipe(self) -> str:
        if self.custody.state is CardState.TO_TAKE:
            self.screen.show_countdown(self.custody.seconds_left() or 0)
            return "take_card"
        if self.custody.blocks_visit:
            self.screen.show_left()
            return "take_card"
        return "attract"

    def refuse_touch(self) -> bool:
        """A touch on the attract screen: True (and the reason on screen) while a card blocks visits."""
        if not self.custody.blocks_visit:
            return False
        if self.custody.state is CardState.TO_TAKE:
            self.screen.show_countdown(self.custody.seconds_left() or 0)
        else:
            self.screen.show_left()
        self.window.show_page("take_card", remember=False)
        return True

    def _show_left(self) -> None:
        self.screen.show_left()
        if self.window.core.visit is None:
            self.window.show_page("take_card", remember=False)

    # -- clock (the window's timer) -------------------------------------------------------------------
    def tick(self) -> None:
        if self.custody.tick():
            log.warning("card not taken back in time: left in the reader, not used")
            self._retain_or_keep()
            return
        left = self.custody.seconds_left()
        if left is None or self.window.current_page != "take_card" or self.screen.showing_left:
            return
        self.screen.show_countdown(left)
        if self._last_spoken is None or self._last_spoken - left >= REPEAT_PROMPT_S:
            if self._last_spoken is not None:       # the first time, show_page already spoke
                self.window.prompter.say(i18n._(TAKE_CARD), i18n.language())
            self._last_spoken = left

    def _retain_or_keep(self) -> None:
        device: Any = self.window.bridge.device(CITIZEN_CARD_READER) if self.window.bridge else None
        capture = getattr(device, "capture", None)
        if self.custody.retain and callable(capture):
            try:
                capture()
                self.custody.retained()
                log.warning("left-behind card retained by the reader")
            except Exception:
                log.exception("the reader could not retain the card")
        if self.custody.state is CardState.LEFT and self.window.current_page == "take_card":
            self.screen.show_left()
            self.window.speak_current()
        elif self.custody.state is CardState.RETAINED and self.window.current_page == "take_card":
            self.window.attract.set_notice(RETAINED)
            self.window.show_page("attract", remember=False)
