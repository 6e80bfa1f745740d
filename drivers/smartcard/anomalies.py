"""Answers a real card should never give: refused, logged (masked), counted.

A lenient driver turns such answers into success (a 3-byte challenge with 9000, data on VERIFY,
a tries counter above the card's maximum, a SELECT without its FCI). Here each one ends the
command as ``UNKNOWN_STATUS`` (the citizen is told the card gave an unexpected answer), is logged
with its kind, the command's header and the status word only (never the data: it may be personal
or secret, so only its length is shown), and is counted per kind for the operator and tests.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter

from drivers.smartcard.api import CardError, CardOutcome

log = logging.getLogger(__name__)


class AnomalyKind:
    """The kinds counted (plain strings: they end up in logs and the operator's status)."""

    CHALLENGE_LENGTH = "challengeLength"        # GET CHALLENGE answered 9000 with the wrong length
    TRIES_ABOVE_MAX = "triesAboveMax"           # 63Cx with x above the configured maximum
    DATA_ON_VERIFY = "dataOnVerify"             # VERIFY answered with data
    DATA_ON_PIN_COMMAND = "dataOnPinCommand"    # CHANGE / RESET / UNBLOCK answered with data
    NO_FCI = "noFci"                            # SELECT by name answered 9000 without an FCI
    BAD_FCI = "badFci"                          # an FCI without the SSSE algorithm or with an unknown one
    SHORT_RECORD = "shortRecord"                # READ RECORD answered 9000 with no data


class Anomalies:
    """Thread-safe counter shared by one service's transports."""

    def __init__(self) -> None:
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def count(self, kind: str | None = None) -> int:
        with self._lock:
            return sum(self._counts.values()) if kind is None else self._counts[kind]

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def refuse(self, kind: str, what: str, sw: int, data_len: int = 0, device: str = "") -> CardError:
        """Count and log one anomaly; returns the CardError that ends the command."""
        with self._lock:
            self._counts[kind] += 1
        log.warning("card answer refused as an anomaly", extra={
            "device": device, "anomaly": kind, "command": what, "sw": f"{sw:04X}",
            "data": f"<{data_len} bytes>"})
        return CardError(CardOutcome.UNKNOWN_STATUS, f"{what}: unexpected answer ({kind}, {data_len} bytes)", sw=sw)
