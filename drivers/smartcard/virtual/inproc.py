"""An in-process reader backend for the demo profile: same ReaderBackend shape, no pcscd, no vpcd.

Readers are named like vpcd's (``Virtual PCD 00 00`` citizen, ``Virtual PCD 00 01`` PSAM) so the
default patterns match. ``insert`` / ``remove`` are what the operator panel calls (any thread).
"""

from __future__ import annotations

import threading

from drivers.smartcard.readers import PNP_NOTIFICATION, ReaderError, ReaderErrorKind, ReaderSnapshot
from drivers.smartcard.virtual.vpcd import VirtualChip

CITIZEN_SLOT = "Virtual PCD 00 00"
PSAM_SLOT = "Virtual PCD 00 01"


class InProcessConnection:
    def __init__(self, readers: InProcessReaders, reader: str, chip: VirtualChip, generation: int) -> None:
        self._readers = readers
        self._reader = reader
        self._chip = chip
        self._generation = generation

    @property
    def atr(self) -> bytes:
        return self._chip.atr

    @property
    def protocol(self) -> str:
        return "T=1"

    def transmit(self, apdu: bytes) -> bytes:
        if not self._readers.holds(self._reader, self._chip, self._generation):
            raise ReaderError(ReaderErrorKind.REMOVED, "card removed")
        return self._chip.process(apdu)

    def control(self, code: int, data: bytes) -> bytes:
        raise ReaderError(ReaderErrorKind.UNSUPPORTED, "no part 10 features", 0x8010001F)

    def close(self, reset: bool = False) -> None:
        if reset and self._readers.holds(self._reader, self._chip, self._generation):
            self._chip.power_on()


class InProcessReaders:
    name = "virtual"

    def __init__(self, readers: tuple[str, ...] = (CITIZEN_SLOT, PSAM_SLOT)) -> None:
        self._cond = threading.Condition()
        self._slots: dict[str, VirtualChip | None] = dict.fromkeys(readers)
        self._generation = 0                 # bumps on every change; the snapshot token
        self._inserted: dict[str, int] = {}  # reader -> the generation its card went in at
        self._woken = False

    # -- the operator panel / tests ---------------------------------------------------------
    def insert(self, chip: VirtualChip, reader: str = CITIZEN_SLOT) -> None:
        with self._cond:
            chip.power_on()
            self._slots[reader] = chip
            self._generation += 1
            self._inserted[reader] = self._generation
            self._cond.notify_all()

    def remove(self, reader: str = CITIZEN_SLOT) -> None:
        with self._cond:
            self._slots[reader] = None
            self._generation += 1
            self._cond.notify_all()

    def unplug(self, reader: str) -> None:
        """The reader itself goes away (USB unplugged)."""
        with self._cond:
            self._slots.pop(reader, None)
            self._inserted.pop(reader, None)
            self._generation += 1
            self._cond.notify_all()

    def plug(self, reader: str) -> None:
        with self._cond:
            self._slots.setdefault(reader, None)
            self._generation += 1
            self._cond.notify_all()

    def card_in(self, reader: str = CITIZEN_SLOT) -> VirtualChip | None:
        return self._slots.get(reader)

    def holds(self, reader: str, chip: VirtualChip, generation: int) -> bool:
        with self._cond:
            return self._slots.get(reader) is chip and self._inserted.get(reader) == generation

    # -- ReaderBackend ------------------------------------------------------------------------
    def open(self) -> None:
        pass

    def close(self) -> None:
        pass

    def list_readers(self) -> list[str]:
        return list(self._slots)

    def _token(self, name: str) -> int:
        """Like pcsc-lite's event state: an insertion counter in the high word, present/empty below."""
        return (self._inserted.get(name, 0) << 16) | (0x20 if self._slots[name] is not None else 0x10)

    def _snapshot(self) -> dict[str, ReaderSnapshot]:
        out = {}
        for name, chip in self._slots.items():
            out[name] = ReaderSnapshot(chip is not None, chip.atr if chip is not None else b"", token=self._token(name))
        return out

    def _unchanged(self, known: dict[str, ReaderSnapshot]) -> bool:
        if any(name not in self._slots and name != PNP_NOTIFICATION for name in known):
            return False                   # a reader the caller knows went away
        return all(name in known and known[name].token == self._token(name) for name in self._slots)

    def wait_change(self, known: dict[str, ReaderSnapshot], timeout_ms: int) -> dict[str, ReaderSnapshot]:
        with self._cond:
            if self._unchanged(known):
                self._cond.wait_for(lambda: self._woken or not self._unchanged(known), timeout_ms / 1000)
            self._woken = False
            return self._snapshot()

    def wake(self) -> None:
        with self._cond:
            self._woken = True
            self._cond.notify_all()

    def connect(self, reader: str) -> InProcessConnection:
        with self._cond:
            if reader not in self._slots:
                raise ReaderError(ReaderErrorKind.NO_READER, reader)
            chip = self._slots[reader]
            if chip is None:
                raise ReaderError(ReaderErrorKind.NO_CARD, reader)
            return InProcessConnection(self, reader, chip, self._inserted[reader])

    def connect_direct(self, reader: str) -> InProcessConnection:
        raise ReaderError(ReaderErrorKind.UNSUPPORTED, "in-process readers have no direct mode")

    def fresh(self) -> InProcessReaders:
        # The same slots (the demo panel holds this object); an in-process call cannot hang on
        # a lock of its own the way a PC/SC context can.
        return self
