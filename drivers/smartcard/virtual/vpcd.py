"""A vpcd client: puts a virtual card into a pcscd reader served by vsmartcard-vpcd. TESTS ONLY.

Wire protocol, both directions: 2-byte big-endian length, then the payload. A 1-byte payload
from vpcd is a control message (00 power off, 01 power on, 02 reset, 04 get ATR); a longer one is
a command APDU, answered with the response APDU. Connected = card inserted; closed = removed.

The socket is opened FROM the serving thread: if it connected before the thread ran, pcscd would
ask for the ATR while holding the reader lock and anything else on that reader would deadlock.
vpcd listens on every interface: never install vsmartcard-vpcd on a production kiosk.
"""

from __future__ import annotations

import logging
import socket
import struct
import threading
from collections.abc import Callable
from typing import Protocol

log = logging.getLogger(__name__)


class VirtualChip(Protocol):
    atr: bytes

    def power_on(self) -> None: ...

    def process(self, apdu: bytes) -> bytes: ...


class VpcdSlot:
    """One vpcd slot (TCP port). ``insert(card)`` / ``remove()``; reconnects if pcscd restarts."""

    def __init__(self, port: int, host: str = "127.0.0.1") -> None:
        self.port = port
        self.host = host
        self.card: VirtualChip | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._sock: socket.socket | None = None
        self._sock_lock = threading.Lock()
        self.connected = threading.Event()
        # Test hook: return True for an APDU to drop the connection instead of answering
        # (the card pulled out in the middle of that command).
        self.pull_on: Callable[[bytes], bool] | None = None
        # Test hook: return True for an APDU that the card carries out, then the card is pulled
        # before its answer goes out (the answer is lost, the card has changed).
        self.pull_after: Callable[[bytes], bool] | None = None

    @property
    def inserted(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def insert(self, card: VirtualChip, wait: float = 5.0) -> None:
        if self.inserted:
            self.remove()
        self.card = card
        self._stop.clear()
        self.connected.clear()
        self._thread = threading.Thread(target=self._serve, name=f"vpcd-{self.port}", daemon=True)
        self._thread.start()
        if wait and not self.connected.wait(wait):
            raise TimeoutError(f"vpcd on port {self.port} did not accept the card (is pcscd running?)")

    def remove(self, wait: float = 5.0) -> None:
        self._stop.set()
        self._close_socket()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(wait)
        self._thread = None

    def _close_socket(self) -> None:
        with self._sock_lock:
            sock, self._sock = self._sock, None
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
        self.connected.clear()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                sock = socket.create_connection((self.host, self.port), timeout=1.0)
            except OSError:
                self._stop.wait(0.1)          # pcscd (re)starting: try again while inserted
                continue
            sock.settimeout(None)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._sock_lock:
                if self._stop.is_set():
                    sock.close()
                    return
                self._sock = sock
            self.connected.set()
            try:
                self._exchange(sock)
            except OSError:
                pass
            finally:
                self._close_socket()
            if not self._stop.is_set():
                self._stop.wait(0.1)

    def _exchange(self, sock: socket.socket) -> None:
        card = self.card
        assert card is not None
        while not self._stop.is_set():
            header = _recv_exact(sock, 2)
            if header is None:
                return
            (length,) = struct.unpack(">H", header)
            payload = _recv_exact(sock, length)
            if payload is None:
                return
            if length == 1:
                control = payload[0]
                if control in (0x01, 0x02):
                    card.power_on()
                elif control == 0x04:
                    _send(sock, card.atr)
                continue                       # 00 power off: nothing to answer
            if self.pull_on is not None and self.pull_on(payload):
                self.pull_on = None
                self._stop.set()              # the card is out: stay out until inserted again
                return
            if self.pull_after is not None and self.pull_after(payload):
                self.pull_after = None
                card.process(payload)
                self._stop.set()
                return
            _send(sock, card.process(payload))


def _recv_exact(sock: socket.socket, n: int) -> bytes | None:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
        # vpcd writes the length and the APDU separately; without a quick ACK, Nagle on its side
        # and delayed ACKs here add ~40 ms to every APDU.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
    return bytes(buf)


def _send(sock: socket.socket, payload: bytes) -> None:
    sock.sendall(struct.pack(">H", len(payload)) + payload)
