"""Faulty-card variants: a virtual card that gives ONE malformed answer a lenient driver would take
for success. TESTS ONLY. Each fault is a ``before_command`` hook on :class:`VirtualSsCard`.

| fault | the card answers |
|---|---|
| ``short_challenge`` | GET CHALLENGE: 3 random bytes + 9000 |
| ``select_without_fci`` | SELECT SSSE by name: 9000 and no FCI |
| ``tries_above_max`` | VERIFY without data (tries left): 63CF on a 3-try card |
| ``data_on_verify`` | VERIFY with a PIN: 2 data bytes + 9000 (nothing verified) |
| ``data_on_change`` | CHANGE PIN: 2 data bytes + 9000 (nothing changed) |
| ``data_on_unblock`` | the unblock (84 24 00 00): 2 data bytes + 9000 (nothing unblocked) |
| ``empty_record`` | READ RECORD: 9000 and no data |
"""

from __future__ import annotations

import os
from collections.abc import Callable

from drivers.smartcard.virtual.card import CardConfig, VirtualSsCard

Hook = Callable[[bytes], bytes | None]
_OK = b"\x90\x00"


def _short_challenge(apdu: bytes) -> bytes | None:
    return os.urandom(3) + _OK if apdu[:2] == b"\x00\x84" else None


def _select_without_fci(apdu: bytes) -> bytes | None:
    return _OK if apdu[:3] == b"\x00\xA4\x04" else None


def _tries_above_max(apdu: bytes) -> bytes | None:
    return b"\x63\xCF" if apdu[:2] == b"\x00\x20" and len(apdu) == 4 else None


def _data_on_verify(apdu: bytes) -> bytes | None:
    return b"\x01\x02" + _OK if apdu[:2] == b"\x00\x20" and len(apdu) > 5 else None


def _data_on_change(apdu: bytes) -> bytes | None:
    return b"\x01\x02" + _OK if apdu[:2] == b"\x80\x5E" else None


def _data_on_unblock(apdu: bytes) -> bytes | None:
    return b"\x01\x02" + _OK if apdu[:4] == b"\x84\x24\x00\x00" else None


def _empty_record(apdu: bytes) -> bytes | None:
    return _OK if apdu[:2] == b"\x00\xB2" else None


FAULTS: dict[str, Hook] = {
    "short_challenge": _short_challenge,
    "select_without_fci": _select_without_fci,
    "tries_above_max": _tries_above_max,
    "data_on_verify": _data_on_verify,
    "data_on_change": _data_on_change,
    "data_on_unblock": _data_on_unblock,
    "empty_record": _empty_record,
}


def faulty_card(fault: str, config: CardConfig | None = None) -> VirtualSsCard:
    card = VirtualSsCard(config)
    card.before_command = FAULTS[fault]
    return card
