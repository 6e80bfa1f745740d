"""Operator sign-in with the staff member's own social-security card and its PIN.

The card's holder must be on the signed operator list before a PIN is even asked; the PIN is typed
on the PIN pad, leaves it only as an encrypted block, and is checked by the card itself
(VERIFY through the PSAM), so the kiosk never sees the digits. The card cannot give the kiosk a
secret, so this sign-in does not open the roster: the operator's password does (docs/field.md).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kiosk.field.credentials import card_id_hash
from kiosk.field.operators import OperatorGate, OperatorSession, SignInError


def staff_card_sign_in(gate: OperatorGate, card: Any, pinpad: Any, *, pin_timeout_s: float = 60.0,
                       on_pin_entry: Callable[[Any], None] | None = None) -> OperatorSession:
    """Read the inserted card, check its holder, take the PIN on the pad, let the card verify it.
    ``on_pin_entry(handle)`` lets the screen bind its PIN dots to the pad's key events."""
    from drivers.smartcard.api import PinBlockInput

    read = card.read_card().wait(15.0)
    if not read.ok or read.result is None:
        raise SignInError("card_unreadable", "the staff card could not be read: insert it again")
    holder_id = read.result.holder.ssn
    if not any(e.card_id_sha256 == card_id_hash(holder_id) for e in gate.directory.entries()):
        raise SignInError("card_not_authorised", "this card is not on the authorised operators list: use your "
                          "own staff card, or ask the office to add it")
    handle = pinpad.start_pin_entry(pan=read.result.issuer.card_number, timeout_s=pin_timeout_s)
    if on_pin_entry is not None:
        on_pin_entry(handle)
    entry = handle.wait(pin_timeout_s + 10.0)
    if not entry.ok or entry.result is None:
        raise SignInError("pin_not_entered", "no PIN was entered: start the sign-in again")
    verified = card.verify_pin(PinBlockInput(entry.result.block)).wait(15.0)
    ok = verified.ok and verified.result is not None and verified.result.ok
    return gate.sign_in_card(holder_id, ok)
