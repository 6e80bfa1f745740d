"""A private pcscd with two vpcd virtual readers, for tests and the bench. NEVER on a kiosk.

pyscard -> pcscd -> libifdvpcd -> TCP -> VpcdSlot -> virtual card / PSAM (test keys only).
pcscd 1.9.9 always uses /run/pcscd: :meth:`PcscdStack.start` refuses (StackError, with what to
do) when another pcscd is running, and removes only a stale pid file. Tests run pcscd with
``--apdu`` (APDUs, PINs included, in the clear in its log): test stacks only.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from smartcard import scard

from drivers.smartcard.virtual.vpcd import VpcdSlot

RUN_DIR = Path("/run/pcscd")
PID_FILE = RUN_DIR / "pcscd.pid"
SOCKET = RUN_DIR / "pcscd.comm"
VPCD_DRIVER = Path("/usr/lib/pcsc/drivers/serial/libifdvpcd.so")
CITIZEN = "Virtual PCD 00 00"
PSAM = "Virtual PCD 00 01"


class StackError(RuntimeError):
    """The test stack cannot start; the message says what is missing and what to do."""


def pcscd_processes() -> list[int]:
    """Live (non-zombie) pcscd processes on this machine."""
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


def free_port_pair() -> int:
    """A TCP port p with p+1 also free (vpcd listens on both)."""
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
    raise StackError("no two free consecutive TCP ports for vpcd")


def _socket_answers() -> bool:
    """Whether something listens on pcscd's socket (with no pcscd process: socket activation)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        try:
            probe.connect(str(SOCKET))
        except OSError:
            return False
    return True


def readers_listed() -> int:
    hresult, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if hresult != scard.SCARD_S_SUCCESS:
        return 0
    try:
        hresult, readers = scard.SCardListReaders(context, [])
        return len(readers) if hresult == scard.SCARD_S_SUCCESS else 0
    finally:
        scard.SCardReleaseContext(context)


def wait_reader(reader: str, present: bool, timeout: float = 5.0) -> None:
    """Block until pcscd reports ``reader`` with or without a card."""
    hresult, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if hresult != scard.SCARD_S_SUCCESS:
        raise StackError("pcscd is not running")
    try:
        state = scard.SCARD_STATE_UNAWARE
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            hresult, states = scard.SCardGetStatusChange(context, 100, [(reader, state)])
            state = states[0][1] & ~scard.SCARD_STATE_CHANGED
            if bool(state & scard.SCARD_STATE_PRESENT) == present:
                return
        raise StackError(f"pcscd did not see {reader} {'present' if present else 'empty'} in {timeout}s")
    finally:
        scard.SCardReleaseContext(context)


class PcscdStack:
    """Our pcscd and its two vpcd slots (``citizen``, ``psam``); ``kill()``/``start()`` for restarts."""

    def __init__(self, base_dir: Path, apdu_log: bool = True) -> None:
        self.apdu_log = apdu_log           # pcscd --apdu: APDUs (PINs too) in the clear in its log
        self.config_dir = base_dir / "reader.conf.d"
        self.config_dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port_pair()
        self.log_path = base_dir / "pcscd.log"
        (self.config_dir / "vpcd").write_text(
            f'FRIENDLYNAME "Virtual PCD"\nDEVICENAME   /dev/null:{self.port}\n'
            f"LIBPATH      {VPCD_DRIVER}\nCHANNELID    {self.port}\n")
        self.proc: subprocess.Popen[bytes] | None = None
        self.citizen = VpcdSlot(self.port)
        self.psam = VpcdSlot(self.port + 1)

    def start(self) -> None:
        others = pcscd_processes()
        if others:
            raise StackError(f"another pcscd (pid {others}) owns {SOCKET}: stop it first "
                             "(systemctl stop pcscd.socket pcscd); the smart-card tests need their own pcscd")
        if shutil.which("pcscd") is None:
            raise StackError("pcscd is not installed: run scripts/setup.sh (Debian packages pcscd, vsmartcard-vpcd)")
        if not VPCD_DRIVER.exists():
            raise StackError(f"{VPCD_DRIVER} is missing: install the Debian package vsmartcard-vpcd (scripts/setup.sh)")
        if SOCKET.exists() and _socket_answers():
            raise StackError(f"{SOCKET} is held by another owner (systemd's pcscd.socket?): stop it first "
                             "(systemctl stop pcscd.socket pcscd); the smart-card tests need their own pcscd")
        try:
            if PID_FILE.exists():
                PID_FILE.unlink()          # stale: no pcscd process is alive (pcscd replaces a stale socket)
            RUN_DIR.mkdir(parents=True, exist_ok=True)
        except PermissionError:
            raise StackError(f"{RUN_DIR} is not writable: as root once, `install -d -o $USER {RUN_DIR}`, or run "
                             "the tests under `unshare -rm sh -c 'mount -t tmpfs tmpfs /run && mkdir /run/pcscd && ...'`"
                             ) from None
        command = ["pcscd", "--foreground", "--info", "--config", str(self.config_dir)]
        if self.apdu_log:
            command.insert(2, "--apdu")
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise StackError(f"pcscd exited with {self.proc.returncode}; see {self.log_path}")
            if SOCKET.exists() and readers_listed() >= 2:
                return
            time.sleep(0.05)
        raise StackError(f"pcscd did not come up in 10 s; see {self.log_path}")

    def kill(self) -> None:
        """SIGKILL, as a crash would: the pid file and socket stay behind."""
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

    def close(self) -> None:
        """Take both virtual cards out and stop pcscd."""
        self.citizen.remove()
        self.psam.remove()
        self.stop()
        if PID_FILE.exists() and not pcscd_processes():
            PID_FILE.unlink()
