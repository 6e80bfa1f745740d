"""The five services on the home screen (issue 6) and how the shell starts one.

A flow is registered per service key by the composition root; until then the shell shows an
honest "not available on this kiosk yet" screen instead of a pretend flow.

Flow contract (issue 6)::

    class MyFlow:                       # satisfies ServiceFlow
        def __init__(self, host: FlowHost) -> None: ...
        def start(self) -> None: ...    # called once, on the UI thread, after choose_service
        def stop(self) -> None: ...     # visit ended (any reason): cancel device commands, drop data

    window = create_shell(config, core, bridge, flows={"card_status": MyFlow})
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from kiosk.i18n import N_
from kiosk.messages import card_loss as card_loss_messages
from kiosk.messages import ecard as ecard_messages
from kiosk.messages import ecard_pin as ecard_pin_messages

if TYPE_CHECKING:
    from ui.host import FlowHost


@dataclass(frozen=True)
class ServiceSpec:
    key: str            # SessionCore.choose_service(key); also the record's service name
    title: str          # msgid
    subtitle: str       # msgid: one line saying what it is for
    needs_card: bool    # refuse with a clear message when the kiosk has no card reader


SERVICES: tuple[ServiceSpec, ...] = (
    ServiceSpec("card_status", N_("Card status"), N_("See your card's state and details"), True),
    ServiceSpec("pin_change", N_("Change PIN"), N_("Set a new six-digit PIN"), True),
    ServiceSpec("pin_reset", N_("PIN reset and unlock"), N_("Forgot your PIN, or the card is locked"), True),
    ServiceSpec("retiree_certification", N_("Retiree certification"),
                N_("Annual pension eligibility check by face"), False),
    ServiceSpec("real_name", N_("Real-name registration"), N_("Register for the online service platform"), True),
    ServiceSpec("card_loss", card_loss_messages.SERVICE_TITLE, card_loss_messages.SERVICE_SUBTITLE, False),
    ServiceSpec("ecard_pin", ecard_pin_messages.SERVICE_TITLE, ecard_pin_messages.SERVICE_SUBTITLE, False),
)


# Started from the attract screen beside "insert your card", not from the home grid: they identify
# the visit (kiosk/identity.py), after which the home grid offers what that identity allows.
SIGN_IN_SERVICES: tuple[ServiceSpec, ...] = (
    ServiceSpec("ecard_signin", ecard_messages.SERVICE_TITLE, ecard_messages.SERVICE_SUBTITLE, False),
)


def service(key: str) -> ServiceSpec:
    for spec in (*SERVICES, *SIGN_IN_SERVICES):
        if spec.key == key:
            return spec
    raise KeyError(f"unknown service {key!r}; expected one of {[s.key for s in SERVICES]}")


class ServiceFlow(Protocol):
    def start(self) -> None: ...
    def stop(self) -> None: ...


FlowFactory = Callable[["FlowHost"], ServiceFlow]
