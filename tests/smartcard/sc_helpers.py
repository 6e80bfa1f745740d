"""Helpers for the smart-card tests: a REAL pcscd (foreground, own reader config) with vpcd virtual readers.

pyscard -> pcscd -> libifdvpcd -> TCP -> VpcdSlot -> virtual card / PSAM (test keys only).
pcscd 1.9.9 always uses /run/pcscd: a running pcscd that is not ours makes these tests FAIL with
a message (stop it: ``systemctl stop pcscd.socket pcscd``); only a stale pid file is removed.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from drivers.api import DeviceEvent, DeviceStatus
from drivers.smartcard.service import SmartcardService
from drivers.smartcard.virtual.vpcd import VpcdSlot

RUN_DIR = Path("/run/pcscd")
PID_FILE = RUN_DIR / "pcscd.pid"
SOCKET = RUN_DIR / "pcscd.comm"
VPCD_DRIVER = Path("/usr/lib/pcsc/drivers/serial/libifdvpcd.so")
CITIZEN = "Virtual PCD 00 00"
PSAM = "Virtual PCD 00 01"


def _pcscd_processes() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "pcscd":
                    state = (entry / "stat").read_text().split(")")[-1].split()[0]
                    if state != "Z":
                        pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def _free_port_pair() -> int:
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if port >= 65000:
            continue
        try:
            with socket.socket() as a, socket.socket() as b:
                a.bind(("127.0.0.1", port))
                b.bind(("127.0.0.1", port + 1))
            return port
        except OSError:
            continue
    raise RuntimeError("no two free consecutive TCP ports for vpcd")


class PcscStack:
    """Our pcscd and its two vpcd slots; ``kill()`` / ``start()`` for restart tests."""

    def __init__(self, config_dir: Path, port: int, log_path: Path) -> None:
        self.config_dir = config_dir
        self.port = port
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None
        self.citizen = VpcdSlot(port)
        self.psam = VpcdSlot(port + 1)

    def start(self) -> None:
        others = _pcscd_processes()
        if others:
            pytest.fail(f"another pcscd (pid {others}) owns {SOCKET}: stop it first "
                        "(systemctl stop pcscd.socket pcscd) - these tests need their own pcscd")
        if PID_FILE.exists():
            PID_FILE.unlink()              # stale: no pcscd process is alive
        RUN_DIR.mkdir(parents=True, exist_ok=True)
        if shutil.which("pcscd") is None:
            pytest.fail("pcscd is not installed: run scripts/setup.sh (Debian packages pcscd, vsmartcard-vpcd)")
        if not VPCD_DRIVER.exists():
            pytest.fail(f"{VPCD_DRIVER} is missing: install the Debian package vsmartcard-vpcd (scripts/setup.sh)")
        log = self.log_path.open("ab")
        # --apdu logs APDUs in the clear: tests only, never on a kiosk.
        self.proc = subprocess.Popen(["pcscd", "--foreground", "--apdu", "--info", "--config", str(self.config_dir)],
                                     stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"pcscd exited with {self.proc.returncode}; see {self.log_path}")
            if SOCKET.exists() and _readers_listed() >= 2:
                return
            time.sleep(0.05)
        pytest.fail(f"pcscd did not come up in 10 s; see {self.log_path}")

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(5)
            self.proc = None

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
            self.proc = None


def _readers_listed() -> int:
    from smartcard import scard
    hresult, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if hresult != scard.SCARD_S_SUCCESS:
        return 0
    try:
        hresult, readers = scard.SCardListReaders(context, [])
        return len(readers) if hresult == scard.SCARD_S_SUCCESS else 0
    finally:
        scard.SCardReleaseContext(context)


class Events:
    """Collects a service's events; ``wait_for`` blocks until one matches."""

    def __init__(self) -> None:
        self.items: list[DeviceEvent] = []

    def __call__(self, event: DeviceEvent) -> None:
        self.items.append(event)

    def wait_for(self, predicate: Callable[[DeviceEvent], bool], timeout: float = 5.0,
                 start: int = 0) -> DeviceEvent:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for event in self.items[start:]:
                if predicate(event):
                    return event
            time.sleep(0.01)
        raise AssertionError(f"no matching event in {timeout}s; got {self.items[start:]}")


def wait_status(service: SmartcardService, wanted: DeviceStatus, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if service.status == wanted:
            return
        time.sleep(0.01)
    raise AssertionError(f"status stayed {service.status} ({service.status_detail}), wanted {wanted}")


def swap_psam(stack: PcscStack, psam: object, timeout: float = 5.0) -> None:
    """Take the PSAM out, wait until pcscd has seen it gone, put ``psam`` in, wait until seen."""
    stack.psam.remove()
    _wait_reader(PSAM, present=False, timeout=timeout)
    stack.psam.insert(psam)  # type: ignore[arg-type]
    _wait_reader(PSAM, present=True, timeout=timeout)


def _wait_reader(reader: str, present: bool, timeout: float) -> None:
    from smartcard import scard
    hresult, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    assert hresult == scard.SCARD_S_SUCCESS
    try:
        state = scard.SCARD_STATE_UNAWARE
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            hresult, states = scard.SCardGetStatusChange(context, 100, [(reader, state)])
            state = states[0][1] & ~scard.SCARD_STATE_CHANGED
            if bool(state & scard.SCARD_STATE_PRESENT) == present:
                return
        raise AssertionError(f"pcscd did not see {reader} {'present' if present else 'empty'} in {timeout}s")
    finally:
        scard.SCardReleaseContext(context)
