"""The five citizen services by key: ``SERVICES[key](deps, presenter, token) -> FlowOutcome``.

The keys are the ones ui/services.py shows on the home screen. :func:`start_service` runs one on
the kiosk's :class:`kiosk.flows.base.FlowRunner` (its own thread), which cancels it when the visit
ends. Every function here returns normally with a :class:`kiosk.flows.common.FlowOutcome` (success,
an informational result, or a guided failure, each already recorded), or raises FlowCanceled when
the visit ended under it (nothing recorded, nothing half-written).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kiosk.flows.base import CancelToken, FlowRunner, Presenter
from kiosk.flows.card_loss import card_loss
from kiosk.flows.card_status import card_status
from kiosk.flows.common import FlowOutcome
from kiosk.flows.deps import FlowDeps
from kiosk.flows.ecard import ecard_signin
from kiosk.flows.ecard_pin import ecard_pin
from kiosk.flows.pin_change import pin_change
from kiosk.flows.pin_reset import pin_reset
from kiosk.flows.real_name import real_name
from kiosk.flows.retiree import retiree_certification
from kiosk.messages import flows as M

ServiceFunction = Callable[..., FlowOutcome]     # (deps, presenter, token, **options) -> FlowOutcome

SERVICES: dict[str, ServiceFunction] = {
    "card_status": card_status,
    "pin_change": pin_change,
    "pin_reset": pin_reset,
    "retiree_certification": retiree_certification,   # option: operator_id="..." (field profile)
    "real_name": real_name,
    "card_loss": card_loss,                           # needs a visit identified by the ID card
    "ecard_signin": ecard_signin,                     # identifies the visit by the e-card's QR code
    "ecard_pin": ecard_pin,                           # the e-card's own PIN: set, change, reset
}


def service_function(key: str) -> ServiceFunction:
    try:
        return SERVICES[key]
    except KeyError:
        raise KeyError(f"unknown service {key!r}; expected one of {sorted(SERVICES)}") from None


def start_service(runner: FlowRunner, key: str, deps: FlowDeps, presenter: Presenter,
                  on_done: Callable[[FlowOutcome | None, BaseException | None], None] | None = None,
                  **options: Any) -> CancelToken:
    """Run service ``key`` on the runner's flow thread. ``on_done(outcome, error)`` is called on that
    thread at the end: outcome None when the visit ended under the flow (or it crashed: ``error``)."""
    function = service_function(key)
    result: list[FlowOutcome] = []

    def body(token: CancelToken) -> None:
        result.append(function(deps, presenter, token, **options))

    def done(error: BaseException | None) -> None:
        if on_done is not None:
            on_done(result[0] if result else None, error)

    def wait() -> None:
        # The previous visit's flow is still finishing a card write: say so instead of a frozen screen.
        presenter.step("please_wait", 1, 1, M.SMS_WAIT_TITLE, M.PLEASE_WAIT)

    return runner.start(key, body, done, on_wait=wait)


def visit_end_recorder(store: Any) -> Callable[[str, Any, str | None], None]:
    """A SessionCore.on_visit_end listener: a visit cut short by a crash of the kiosk gets a
    ``visit_crash`` record (the service it was in, if known), so the operator sees the lost visit.
    Other ends need nothing here: every service records its own outcome before showing it."""
    from kiosk.session import EndReason

    def on_end(visit_id: str, reason: Any, service: str | None) -> None:
        if reason is EndReason.CRASH_RESTART and store is not None:
            store.commit_result("visit_crash", {"visit_id": visit_id, "service": service})

    return on_end
