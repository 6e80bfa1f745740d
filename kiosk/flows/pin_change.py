"""Service 2, PIN change: old PIN (tries left from the card; the last try warns first) -> new PIN
twice -> the weak-PIN policy inside the card call -> change -> record (the backend then texts the
bound phone when it ingests it) -> result."""

from __future__ import annotations

from kiosk.flows.common import FlowContext, FlowOutcome, service_flow
from kiosk.flows.pin_steps import change_pin_steps, fail_locked, verify_pin
from kiosk.messages import flows as M

SERVICE = "pin_change"


@service_flow(SERVICE, 5)
def pin_change(ctx: FlowContext) -> FlowOutcome:
    ctx.require("card", "pinpad", "store")
    ctx.read_card(1)
    verified = verify_pin(ctx, 2, "old_pin", M.OLD_PIN_TITLE, M.OLD_PIN_INSTRUCTION)
    if verified.blocked or verified.block is None:
        fail_locked(ctx, "old_pin")
    return change_pin_steps(ctx, verified.block, 3, from_initial=verified.initial)
