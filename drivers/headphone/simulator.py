"""A simulated headphone socket: the kernel's input-event records over a pseudo-terminal.

The driver (:mod:`drivers.headphone.evdev`) reads the pty's slave end through a stable path,
exactly as it reads ``/dev/input/eventN``; ``plug()``/``unplug()`` write what the kernel writes
when a plug goes in or out. ``remove()`` closes the pty (a USB sound card pulled out).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from drivers.headphone.evdev import headphone_records
from drivers.pty_link import close_fds, open_pty_at, own_link, remove_own_link


class HeadphoneJackSimulator:
    def __init__(self, link_path: str | None = None) -> None:
        self._own_dir, self.link_path = (None, link_path) if link_path else own_link("jack-sim-", "jack")
        self._lock = threading.Lock()
        self._master_fd: int | None = None
        self._slave_fd: int | None = None
        self.plugged = False

    def start(self) -> str:
        with self._lock:
            if self._master_fd is None:
                self._master_fd, self._slave_fd = open_pty_at(self.link_path)
        return self.link_path

    def stop(self) -> None:
        self.remove()
        remove_own_link(self.link_path, self._own_dir)
        self._own_dir = None

    def plug(self) -> None:
        """Headphones go in (thread-safe: the demo panel and tests call it)."""
        self._send(True)

    def unplug(self) -> None:
        self._send(False)

    def remove(self) -> None:
        """The socket's device disappears (the pty closes, the path goes)."""
        with self._lock:
            close_fds(self._master_fd, self._slave_fd)
            self._master_fd = self._slave_fd = None
        Path(self.link_path).unlink(missing_ok=True)

    def _send(self, plugged: bool) -> None:
        with self._lock:
            if self._master_fd is None:
                raise OSError("the simulated headphone socket is removed")
            os.write(self._master_fd, headphone_records(plugged))
            self.plugged = plugged
