"""The ID card on the reader, on screen: placing it starts (or identifies) the visit.

The reader's "card presented" event reaches the UI thread through the DeviceBridge; this desk
then asks the reader for the card's data (on the reader's worker thread) and hands the result to
the session core, which decides the visit's identity (kiosk/session.py, kiosk/identity.py). A
card that cannot identify anyone (expired, foreign permanent-resident card, moved too early...)
is told on the error screen with what to do. Nothing personal is shown but the masked name.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date
from typing import Any

from PySide6.QtCore import QObject, Slot

from drivers.api import Completion
from drivers.idcard.api import DEVICE_NAME, IdCardErrorCode
from kiosk.i18n import N_, _
from kiosk.identity import IdCardRefused, VisitIdentity, identity_from_id_card
from kiosk.messages import idcard as M
from kiosk.privacy import mask_name
from kiosk.session import VisitState
from ui import theme
from ui.widgets.error_panel import GO_HOME, ErrorAction

log = logging.getLogger(__name__)

ID_CARD_READ = N_("ID card read: {name}. Choose a service; retiree certification needs no other card.")


class IdCardDesk(QObject):
    def __init__(self, window: Any, reader: Any, today: Callable[[], date] = date.today) -> None:
        super().__init__(window)
        self.window = window
        self.reader = reader
        self.today = today
        self._pending: Any = None
        window.bridge.media_inserted.connect(self._placed)
        window.bridge.completed.connect(self._completed)

    @Slot(str)
    def _placed(self, device: str) -> None:
        if device != DEVICE_NAME or self._pending is not None:
            return
        if self.window.core.state in (VisitState.SERVICE_CHOSEN, VisitState.STEP):
            return                      # a service is running: the card is not needed now
        self.window.core.hold()
        self._pending = self.window.bridge.watch(self.reader.read_card(), token=self)

    @Slot(object, object)
    def _completed(self, token: object, completion: Completion[Any]) -> None:
        if token is not self:
            return
        self._pending = None
        outcome = identity_from_id_card(completion, self.today())
        if isinstance(outcome, VisitIdentity):
            refusal = self.window.core.identify(outcome)
            if refusal == "other_person":
                self._tell(IdCardRefused("other_person"))
            elif refusal is None and self.window.current_page == "home":
                name = mask_name(outcome.name)
                self.window.home.hint_label.setText(f"{theme.ICON_INFO} {_(ID_CARD_READ).format(name=name)}")
            return
        if outcome.reason == IdCardErrorCode.NO_CARD.value:
            return                      # lifted again before the read: nothing happened
        log.info("ID card refused", extra={"reason": outcome.reason})
        if self.window.core.visit is None:
            self.window.core.start_visit("id_card")
        self._tell(outcome)

    def _tell(self, refused: IdCardRefused) -> None:
        what, todo = M.reason_text(refused.reason)
        until = refused.until.isoformat() if refused.until else ""
        self.window.show_error(lambda: _(what).format(until=until), lambda: _(todo),
                               [ErrorAction(GO_HOME, self.window.go_home)])


def attach_idcard(window: Any, services: Any) -> IdCardDesk | None:
    """Wire the ID-card reader into the window (needs the window's bridge to carry "idcard")."""
    reader = getattr(services, "idcard", None)
    bridge = getattr(window, "bridge", None)
    if reader is None or bridge is None or not bridge.has(DEVICE_NAME):
        return None
    window.idcard_desk = IdCardDesk(window, reader)
    return window.idcard_desk
