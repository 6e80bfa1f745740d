"""A pseudo-terminal behind a stable path: how the wire-level simulators (PIN pad, ID-card reader)
stand in for a USB serial device and its udev symlink. Plugging swaps the symlink atomically, so a
driver reopening the path never sees it half made; unplugging closes the pty (the driver's reads
fail as on a pulled cable)."""

from __future__ import annotations

import os
import tempfile
import tty
from pathlib import Path


def own_link(prefix: str, name: str) -> tuple[str, str]:
    """A private folder and the link path in it, for a simulator given no path: (folder, path)."""
    folder = tempfile.mkdtemp(prefix=prefix)
    return folder, os.path.join(folder, name)


def open_pty_at(link_path: str) -> tuple[int, int]:
    """Open a raw pty and point ``link_path`` at its slave end -> (master fd, slave fd)."""
    master, slave = os.openpty()
    tty.setraw(master)
    tty.setraw(slave)               # or 03h reads as Ctrl-C and binary frames are mangled
    tmp = f"{link_path}.tmp"
    Path(tmp).unlink(missing_ok=True)
    os.symlink(os.ttyname(slave), tmp)
    os.replace(tmp, link_path)
    return master, slave


def close_fds(*fds: int | None) -> None:
    for fd in fds:
        if fd is not None:
            try:
                os.close(fd)
            except OSError:
                pass


def remove_own_link(link_path: str, folder: str | None) -> None:
    """Remove the link and the private folder made by :func:`own_link` (None: not ours, keep it)."""
    if folder:
        Path(link_path).unlink(missing_ok=True)
        os.rmdir(folder)
