"""An ID-card reader (SAM + RF field) on the far end of a pseudo-terminal, speaking drivers/idcard/sam.py.

Tests and the demo place and remove test cards (:data:`TEST_CARDS`) with :meth:`place` /
:meth:`remove`; faults on demand: line noise, damaged or missing answers, a busy SAM, a failed
SAM self-test, unplugging (the pty closes; a stable symlink, like a udev rule's, points at the new
pty on replug).

Timing is modelled, not guessed per test (docs/idcard.md, "Timing"): each command costs its card
or SAM work time, then its answer goes out paced at ``baud`` (10 bits a byte, 8N1). The defaults
give a read of text+photo of about 0.95 s at 115200 baud: 0.75 s of SAM-card work (mutual
authentication and 1.3 KB over ISO 14443 type B at 106 kbit/s with the SAM's decryption; vendor
data sheets quote 0.8-1 s for a whole read) plus 1295 answer bytes on the wire (0.11 s).
While the SAM works it does not read its UART: a command sent meanwhile is lost.
"""

from __future__ import annotations

import logging
import os
import random
import select
import threading
import time
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

from drivers.idcard import sam
from drivers.idcard.api import IdCardHolder
from drivers.idcard.text import encode_foreign_permanent, encode_resident
from drivers.pty_link import close_fds, open_pty_at, own_link, remove_own_link

log = logging.getLogger(__name__)

PHOTO_LENGTH = 1024


@dataclass(frozen=True)
class TestCard:
    """What a card holds: the 256-byte text, a stand-in for the WLT photo, the chip serial."""

    key: str
    text: bytes = field(repr=False)
    photo: bytes = field(repr=False)
    serial: bytes = b"\x00" * 8
    removed_mid_read: bool = False      # the citizen lifts it while the SAM reads


@dataclass(frozen=True)
class Timing:
    find_s: float = 0.02
    select_s: float = 0.05
    read_s: float = 0.75
    sam_s: float = 0.005
    baud: int = 115200

    def wire_s(self, nbytes: int) -> float:
        return nbytes * 10 / self.baud


@dataclass
class Faults:
    """Set by tests (under the simulator's lock); counters are one-shot."""

    noise: bytes = b""                  # sent once before the next answer
    corrupt_next: int = 0               # answers sent with a wrong checksum
    drop_next: int = 0                  # commands left unanswered
    busy_next_s: float = 0.0            # the next command is answered this much later (SAM busy)
    next_status: int | None = None      # the next command answered with this status instead
    self_test_failed: bool = False      # every command answered 60h


def fake_wlt(seed: int) -> bytes:
    """1024 bytes standing in for a WLT photo (its header, then noise): never decoded anywhere."""
    rnd = random.Random(seed)
    return b"WLfD" + bytes(rnd.randrange(256) for _ in range(PHOTO_LENGTH - 4))


def resident_card(key: str, holder: IdCardHolder, seed: int, **extra: bool) -> TestCard:
    return TestCard(key, encode_resident(holder), fake_wlt(seed), seed.to_bytes(8, "big"), **extra)


def _holder(name: str, sex: str, nation: str, birth: str, address: str, number: str, authority: str,
            valid_from: str, valid_until: str | None) -> IdCardHolder:
    def d(s: str) -> date:
        return date(int(s[:4]), int(s[4:6]), int(s[6:]))
    return IdCardHolder(name, sex, nation, d(birth), address, number, authority, d(valid_from),
                        d(valid_until) if valid_until else None)


# The test people. 李秀英 is a demo person of backend/demo_seed.json (retired); the numbers carry
# correct GB 11643 check characters, except "bad_check" on purpose.
NORMAL = _holder("李秀英", "2", "01", "19481102", "广东省广州市越秀区东风中路88号", "440104194811026548",
                 "广州市公安局越秀分局", "20100501", None)
EXPIRED = _holder("赵晓东", "1", "08", "19750312", "广西壮族自治区南宁市青秀区民族大道100号", "450103197503120013",
                  "南宁市公安局青秀分局", "20050601", "20250601")
BAD_CHECK = replace(NORMAL, id_number="440104194811026549")

TEST_CARDS: dict[str, TestCard] = {
    "normal": resident_card("normal", NORMAL, 1),
    "expired": resident_card("expired", EXPIRED, 2),
    "bad_check": resident_card("bad_check", BAD_CHECK, 3),
    "removed_mid_read": resident_card("removed_mid_read", NORMAL, 4, removed_mid_read=True),
    "foreign": TestCard("foreign", encode_foreign_permanent(
        "SMITH, JOHN ALEXANDER", "史密斯", "USA110079052011", "USA", "1", "19790520", "20170615", "20270615"),
        fake_wlt(5), (5).to_bytes(8, "big")),
}
SAM_ID_RAW = bytes([5, 1]) + (20101012).to_bytes(4, "little") + (12345).to_bytes(4, "little") \
    + (1234567890).to_bytes(4, "little") + b"\x00\x00"


class IdCardReaderSimulator:
    def __init__(self, link_path: str | None = None, *, timing: Timing | None = None) -> None:
        self._own_dir, self.link_path = (None, link_path) if link_path else own_link("idcard-sim-", "idr")
        self.timing = timing or Timing()
        self.faults = Faults()
        self.received: list[tuple[int, int]] = []     # (command, parameter), in order (for tests)
        self.placed_at: float | None = None           # time.monotonic() of the last place()
        self._lock = threading.RLock()
        self._card: TestCard | None = None
        self._selected = False
        self._master_fd: int | None = None
        self._slave_fd: int | None = None
        self._parser = sam.FrameParser()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> str:
        self._plug()
        self._thread = threading.Thread(target=self._run, name="idcard-simulator", daemon=True)
        self._thread.start()
        return self.link_path

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(3.0)
        self._unplug()
        remove_own_link(self.link_path, self._own_dir)
        self._own_dir = None

    def unplug(self) -> None:
        """Like pulling the USB cable: the pty closes and the stable path disappears."""
        self._unplug()
        Path(self.link_path).unlink(missing_ok=True)

    def replug(self) -> None:
        self._plug()

    def _plug(self) -> None:
        with self._lock:
            if self._master_fd is not None:
                return
            self._master_fd, self._slave_fd = open_pty_at(self.link_path)
            self._parser = sam.FrameParser()

    def _unplug(self) -> None:
        with self._lock:
            close_fds(self._master_fd, self._slave_fd)
            self._master_fd = self._slave_fd = None

    # -- the card field ----------------------------------------------------------------------------
    def place(self, card: str | TestCard) -> None:
        """Lay a card on the reader (a key of TEST_CARDS or a TestCard). Thread-safe."""
        chosen = TEST_CARDS[card] if isinstance(card, str) else card
        with self._lock:
            self._card, self._selected = chosen, False
            self.placed_at = time.monotonic()

    def remove(self) -> None:
        with self._lock:
            self._card, self._selected = None, False

    @property
    def card(self) -> TestCard | None:
        return self._card

    # -- the wire ----------------------------------------------------------------------------------
    def _write(self, data: bytes) -> None:
        """Paced at the baud rate in small chunks, as a UART would deliver it. Each chunk leaves at
        its own time from the start, so one late wake-up (a busy CPU) is not added to every chunk."""
        start = time.monotonic()
        for i in range(0, len(data), 64):
            fd = self._master_fd
            if fd is None:
                return
            chunk = data[i:i + 64]
            time.sleep(max(0.0, start + self.timing.wire_s(i + len(chunk)) - time.monotonic()))
            try:
                os.write(fd, chunk)
            except OSError:
                return

    def _answer(self, status: int, data: bytes = b"") -> None:
        self._flush_input()             # whatever came while the SAM worked is lost
        f = self.faults
        if f.noise:
            noise, f.noise = f.noise, b""
            self._write(noise)
        frame = bytearray(sam.encode_answer(status, data))
        if f.corrupt_next:
            f.corrupt_next -= 1
            frame[-1] ^= 0x5A
        self._write(bytes(frame))

    def _run(self) -> None:
        while not self._stop.is_set():
            fd = self._master_fd
            if fd is None:
                time.sleep(0.01)
                continue
            try:
                ready, _, _ = select.select([fd], [], [], 0.02)
                data = os.read(fd, 4096) if ready else b""
            except (OSError, ValueError):
                time.sleep(0.01)
                continue
            if not data:
                continue
            for item in self._parser.feed(data):
                if isinstance(item, sam.Frame):
                    if len(item.payload) >= 2:
                        self._command((item.payload[0], item.payload[1]), bytes(item.payload[2:]))
                    break                   # the rest came while the SAM worked: flushed
                if item.reason != "noise":
                    self._answer(sam.ST_BAD_CHECKSUM)

    def _flush_input(self) -> None:
        self._parser.wipe()
        fd = self._master_fd
        if fd is None:
            return
        try:
            while select.select([fd], [], [], 0)[0]:
                if not os.read(fd, 4096):
                    break
        except (OSError, ValueError):
            pass

    def _command(self, command: tuple[int, int], data: bytes) -> None:
        self.received.append(command)
        f = self.faults
        if f.drop_next:
            f.drop_next -= 1
            return
        if f.busy_next_s:
            busy, f.busy_next_s = f.busy_next_s, 0.0
            time.sleep(busy)
        if f.next_status is not None:
            status, f.next_status = f.next_status, None
            self._answer(status)
            return
        if f.self_test_failed:
            self._answer(sam.ST_SAM_SELF_TEST)
            return
        status, answer = self._execute(command)
        self._answer(status, answer)

    def _execute(self, command: tuple[int, int]) -> tuple[int, bytes]:
        t = self.timing
        if command == sam.SAM_ID:
            time.sleep(t.sam_s)
            return sam.ST_OK, SAM_ID_RAW
        if command == sam.RESET_SAM:
            time.sleep(t.sam_s)
            return sam.ST_OK, b""
        if command == sam.FIND_CARD:
            time.sleep(t.find_s)
            return (sam.ST_FOUND, b"\x00" * 4) if self._card is not None else (sam.ST_NOT_FOUND, b"")
        if command == sam.SELECT_CARD:
            time.sleep(t.select_s)
            with self._lock:
                if self._card is None:
                    return sam.ST_SELECT_FAILED, b""
                self._selected = True
                return sam.ST_OK, self._card.serial
        if command == sam.READ_TEXT_PHOTO:
            with self._lock:
                card, selected = self._card, self._selected
            if card is None or not selected:
                time.sleep(t.find_s)
                return sam.ST_READ_FAILED, b""
            if card.removed_mid_read:
                time.sleep(t.read_s / 2)
                self.remove()
                return sam.ST_READ_FAILED, b""
            time.sleep(t.read_s)
            with self._lock:
                if self._card is not card:      # lifted during the read
                    return sam.ST_READ_FAILED, b""
            body = len(card.text).to_bytes(2, "big") + len(card.photo).to_bytes(2, "big") + card.text + card.photo
            return sam.ST_OK, body
        return sam.ST_BAD_COMMAND, b""
