"""The systemd watchdog client: READY, WATCHDOG pings, STATUS, STOPPING over $NOTIFY_SOCKET.

The UI calls :meth:`WatchdogClient.tick` from a timer on the Qt event loop, so a frozen UI thread
stops the pings by itself. A stuck device worker stops them too: before each ping every started
:class:`drivers.api.DeviceWorker` is asked how late it is; one overdue by more than
``stuck_after_s`` withholds the ping, and systemd (``WatchdogSec=``) kills and restarts the kiosk.
The restart then closes the unfinished visit as ``crash_restart`` (SessionCore.recover_after_crash).

The kiosk runs as a child of cage, so ``WATCHDOG_PID`` names cage, not us: the unit sets
``NotifyAccess=all`` and this client pings whenever ``WATCHDOG_USEC`` is set.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from drivers.api import live_workers

log = logging.getLogger(__name__)

DEFAULT_STUCK_AFTER_S = 20.0


class Notifier(Protocol):
    def notify(self, state: str) -> None: ...


class _Silent:
    def notify(self, state: str) -> None:
        pass


def make_notifier(environ: Mapping[str, str] = os.environ) -> Notifier:
    """sdnotify's notifier when a service manager gave us a socket; a silent one otherwise."""
    address = environ.get("NOTIFY_SOCKET", "")
    if not address:
        return _Silent()
    import sdnotify

    notifier = sdnotify.SystemdNotifier()
    notifier.debug = True          # a send that fails raises, and _send logs it (no silent loss)
    if environ is not os.environ:
        # sdnotify only reads os.environ; connect its socket to the address we were given.
        notifier.socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        notifier.socket.connect("\0" + address[1:] if address.startswith("@") else address)
    return notifier


def watchdog_interval_s(environ: Mapping[str, str] = os.environ) -> float | None:
    """How often to ping: half of WatchdogSec (as sd_watchdog_enabled advises), or None if off."""
    try:
        usec = int(environ.get("WATCHDOG_USEC", "0"))
    except ValueError:
        return None
    return usec / 2_000_000 if usec > 0 else None


@dataclass(frozen=True)
class StuckWorker:
    name: str
    overdue_s: float


def stuck_workers(stuck_after_s: float, workers: Iterable[Any] | None = None,
                  now: float | None = None) -> list[StuckWorker]:
    now = time.monotonic() if now is None else now
    found = []
    for worker in live_workers() if workers is None else workers:
        overdue = worker.overdue_s(now)
        if overdue > stuck_after_s:
            found.append(StuckWorker(worker.name, round(overdue, 1)))
    return found


def _send(notifier: Notifier, state: str) -> None:
    try:
        notifier.notify(state)
    except OSError as exc:       # the manager went away (shutdown): nothing to tell, keep running
        log.warning("service manager notification failed", extra={"error": str(exc)})


class WatchdogClient:
    def __init__(self, notifier: Notifier | None = None, *, stuck_after_s: float = DEFAULT_STUCK_AFTER_S,
                 workers: Callable[[], Iterable[Any]] = live_workers,
                 environ: Mapping[str, str] = os.environ) -> None:
        self._notifier = notifier or make_notifier(environ)
        self.interval_s = watchdog_interval_s(environ)
        self.stuck_after_s = stuck_after_s
        self._workers = workers
        self._withheld_for: tuple[str, ...] = ()
        self.pings = 0

    def ready(self, status: str = "kiosk screen ready") -> None:
        # MAINPID stays cage's; READY=1 from the child is accepted with NotifyAccess=all.
        _send(self._notifier, f"READY=1\nSTATUS={status}")

    def tick(self) -> bool:
        """Ping the watchdog unless a device worker is stuck; True when pinged."""
        stuck = stuck_workers(self.stuck_after_s, self._workers())
        names = tuple(w.name for w in stuck)
        if stuck:
            if names != self._withheld_for:
                log.error("device worker stuck: watchdog ping withheld, systemd will restart the kiosk",
                          extra={"workers": [f"{w.name} {w.overdue_s}s" for w in stuck]})
                _send(self._notifier, "STATUS=device worker stuck: " + ", ".join(names))
            self._withheld_for = names
            return False
        if self._withheld_for:
            log.warning("device workers recovered before the watchdog fired", extra={"workers": self._withheld_for})
            self._withheld_for = ()
        _send(self._notifier, "WATCHDOG=1")
        self.pings += 1
        return True

    def stopping(self) -> None:
        _send(self._notifier, "STOPPING=1")
