"""The CardService: one DeviceWorker owns the reader context, watches readers, runs card commands.

The watcher runs as the worker's idle task: SCardGetStatusChange with a short timeout (woken by
SCardCancel when a command is queued), so commands and the watch never touch the context from
two threads. After SCARD_E_NO_SERVICE / SCARD_E_INVALID_HANDLE (pcscd restarted) it drops the
context and rebuilds it, publishing ReaderGone then ReaderBack (and CardInserted if a card is in).
"""

from __future__ import annotations

import logging
import queue
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from drivers.api import (
    CommandContext,
    CommandHandle,
    Completion,
    CompletionCode,
    DeviceStatus,
    DeviceWorker,
    EventListener,
)
from drivers.smartcard import part10, ssse
from drivers.smartcard.anomalies import Anomalies
from drivers.smartcard.api import (
    CITIZEN_DEVICE,
    CardError,
    CardInfo,
    CardInserted,
    CardOutcome,
    CardRemoved,
    IssuerData,
    NewPinCheck,
    PinBlockInput,
    PinInput,
    PinResult,
    ReaderBack,
    ReaderGone,
    ReaderInfo,
    WrappedWorkingKey,
)
from drivers.smartcard.pin_handoff import PinContext, PinOp, check_new_pin, initial_pin_bcd, run_pin_command
from drivers.smartcard.psam_pboc import PbocPsam
from drivers.smartcard.readers import (
    PNP_NOTIFICATION as _PNP,
)
from drivers.smartcard.readers import (
    Connection,
    ReaderBackend,
    ReaderError,
    ReaderErrorKind,
    ReaderSnapshot,
)
from drivers.smartcard.status import checked_pin_answer, pin_result
from drivers.smartcard.transport import ApduCounter, Transport

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass
class _Session:
    conn: Connection
    t: Transport
    algorithm: str | None = None        # set once SSSE is selected on this connection
    issuer: IssuerData | None = None


class SmartcardService:
    """Implements drivers.smartcard.api.CardService over any ReaderBackend (PC/SC or in-process)."""

    def __init__(self, backend: ReaderBackend, *, citizen_reader_pattern: str, psam_reader_pattern: str,
                 poll_timeout_ms: int = 250, command_timeout_s: float = 10.0, initial_pin: str = "123456",
                 apdu_trace: bool = False, pin_algorithm: str = "sm4", reopen_interval_s: float = 0.5,
                 removal_grace_s: float = 1.2, device_name: str = CITIZEN_DEVICE, max_pin_tries: int = 3,
                 hang_grace_s: float = 0.5) -> None:
        if not 1 <= max_pin_tries <= 15:
            raise ValueError("max_pin_tries: a card's PIN try limit is 1 to 15 (63Cx carries 4 bits)")
        self._max_tries = max_pin_tries
        self._backend = backend
        self._citizen_re = re.compile(citizen_reader_pattern)
        self._psam_re = re.compile(psam_reader_pattern)
        self._poll_ms = poll_timeout_ms
        self._timeout = command_timeout_s
        self._initial_bcd = initial_pin_bcd(initial_pin)
        self._trace = apdu_trace
        self._pin_algorithm = pin_algorithm
        self._reopen_s = reopen_interval_s
        self._removal_grace_s = removal_grace_s
        self._worker = DeviceWorker(device_name, idle=self._watch, idle_interval=0.005)
        self._running: CommandHandle[Any] | None = None     # the command whose body runs now
        self._recover_lock = threading.Lock()
        self._hung_reader: str | None = None   # a reader whose transmit never returned, until its card is out
        self._hang_grace_s = hang_grace_s
        self._stopped = False
        self._open = False
        self._next_open = 0.0
        self._known: dict[str, ReaderSnapshot] = {}
        self._gone: set[str] = set()
        self._citizen: str | None = None
        self._psam_reader: str | None = None
        self._card_s: _Session | None = None
        self._psam_s: _Session | None = None
        self._psam: PbocPsam | None = None
        self._spe: dict[str, int | None] = {}
        self._pending = 0
        self._pending_lock = threading.Lock()
        self._apdus = ApduCounter()         # APDUs sent to card and PSAM so far (bench, docs)
        self.anomalies = Anomalies()        # answers a real card never gives, refused and counted

    # -- lifecycle, status, events -----------------------------------------------------------
    @property
    def status(self) -> DeviceStatus:
        return self._worker.status

    @property
    def status_detail(self) -> str:
        return self._worker.status_detail

    def subscribe(self, listener: EventListener) -> Callable[[], None]:
        return self._worker.subscribe(listener)

    def start(self) -> None:
        self._worker.start()

    def stop(self, timeout_s: float = 3.0) -> None:
        """Stop within ``timeout_s`` even when the worker is stuck in a call that never returns:
        then its handles and context are released in the background once that call ends (closing
        them now would block in pcsc-lite on the stuck context's lock)."""
        with self._recover_lock:
            self._stopped = True
            worker, backend = self._worker, self._backend
        backend.wake()
        worker.stop(timeout=timeout_s)
        if worker.running:
            log.error("card worker stuck in a reader call; leaving its context to be released later",
                      extra={"device": worker.name})
            sessions = [s for s in (self._card_s, self._psam_s) if s is not None]
            self._card_s = self._psam_s = None
            self._psam = None
            _release_later(worker, backend, sessions)
            return
        self._drop_sessions(reset=True)     # no verified-PIN state outlives the service
        backend.close()

    # -- the watcher (worker thread, between commands) ---------------------------------------
    def _watch(self) -> None:
        if not self._open and not self._try_open():
            time.sleep(0.02)
            return
        with self._pending_lock:
            if self._pending:
                return
        try:
            readers = self._backend.list_readers()
            query = {r: self._known.get(r, ReaderSnapshot(False)) for r in readers}
            query[_PNP] = self._known.get(_PNP, ReaderSnapshot(False))
            # A reader came or went since the last look: report it now, without waiting.
            same_readers = set(readers) == {r for r in self._known if r != _PNP}
            new = self._backend.wait_change(query, self._poll_ms if same_readers else 0)
        except ReaderError as exc:
            # NO_SERVICE after a pcscd restart; anything else from the context is as bad: rebuild it.
            self._service_lost(str(exc))
            return
        self._apply(new)

    def _try_open(self) -> bool:
        if time.monotonic() < self._next_open:
            return False
        try:
            self._backend.open()
        except ReaderError as exc:
            self._next_open = time.monotonic() + self._reopen_s
            self._worker.set_status(DeviceStatus.SERVICE_DOWN, str(exc))
            return False
        self._open = True
        log.info("reader context open", extra={"device": self._worker.name, "backend": self._backend.name})
        return True

    def _service_lost(self, detail: str) -> None:
        log.warning("PC/SC service lost; rebuilding the context", extra={"device": self._worker.name,
                                                                        "detail": detail})
        self._drop_sessions()
        self._backend.close()
        self._open = False
        self._next_open = time.monotonic() + 0.05
        for reader in (self._citizen, self._psam_reader):
            if reader is not None:
                self._gone.add(reader)
                self._worker.publish(ReaderGone(self._worker.name, reader, "serviceDown"))
        self._known = {}
        self._citizen = self._psam_reader = None
        self._worker.set_status(DeviceStatus.SERVICE_DOWN, detail)

    def _apply(self, new: dict[str, ReaderSnapshot]) -> None:
        now = time.monotonic()
        old = self._known
        self._known = new
        readers = [r for r in new if r != _PNP]
        citizen = next((r for r in readers if self._citizen_re.search(r)), None)
        psam = next((r for r in readers if self._psam_re.search(r) and r != citizen), None)
        for role_old, role_new in ((self._citizen, citizen), (self._psam_reader, psam)):
            if role_old is not None and role_old != role_new:
                self._gone.add(role_old)
                self._worker.publish(ReaderGone(self._worker.name, role_old, "unplugged"))
            if role_new is not None and role_new in self._gone:
                self._gone.discard(role_new)
                self._worker.publish(ReaderBack(self._worker.name, role_new))
        self._citizen, self._psam_reader = citizen, psam
        if citizen is not None:
            was, state = old.get(citizen), new[citizen]
            if was is not None and was.present and _card_changed(was, state):
                self._drop_card()
                self._worker.publish(CardRemoved(self._worker.name, citizen, now))
            if state.present and (was is None or not was.present or _card_changed(was, state)):
                self._worker.publish(CardInserted(self._worker.name, citizen, state.atr, now))
        elif self._card_s is not None:
            self._drop_card()
        if psam is None or not new[psam].present or (psam in old and _card_changed(old[psam], new[psam])):
            self._drop_psam()
        self._update_status()

    def _update_status(self) -> None:
        if not self._open:
            return
        if self._citizen is None:
            self._worker.set_status(DeviceStatus.OFFLINE, "no reader matches the citizen reader pattern")
            return
        state = self._known[self._citizen]
        if self._hung_reader is not None:
            hung = self._known.get(self._hung_reader)
            if hung is not None and hung.present:
                self._worker.set_status(DeviceStatus.HARDWARE_ERROR, "the card reader stopped answering")
                return
            log.info("hung reader's card is out; reader usable again", extra={"device": self._worker.name})
            self._hung_reader = None
        if state.mute:
            self._worker.set_status(DeviceStatus.HARDWARE_ERROR, "the card does not answer")
        elif state.present:
            self._worker.set_status(DeviceStatus.ONLINE, "" if self._psam_reader else "no PSAM reader")
        else:
            self._worker.set_status(DeviceStatus.NO_MEDIA, "" if self._psam_reader else "no PSAM reader")

    # -- sessions ----------------------------------------------------------------------------
    def _drop_card(self, reset: bool = False) -> None:
        session, self._card_s = self._card_s, None
        if session is not None:
            self._close(session.conn, reset)

    def _drop_psam(self, reset: bool = False) -> None:
        session, self._psam_s, self._psam = self._psam_s, None, None
        if session is not None:
            self._close(session.conn, reset)

    def _drop_sessions(self, reset: bool = False) -> None:
        self._drop_card(reset)
        self._drop_psam(reset)

    @staticmethod
    def _close(conn: Connection, reset: bool) -> None:
        try:
            conn.close(reset)
        except ReaderError:
            pass

    def _card(self) -> _Session:
        self._still_current()
        if self._hung_reader is not None and self._hung_reader == self._citizen:
            raise CardError(CardOutcome.CARD_MUTE, "the card reader stopped answering; take the card out")
        if not self._open:
            raise CardError(CardOutcome.SERVICE_DOWN, "the PC/SC service is not running")
        if self._citizen is None:
            raise CardError(CardOutcome.READER_GONE, "no citizen card reader")
        if self._card_s is None:
            state = self._known.get(self._citizen)
            if state is None or not state.present:
                raise CardError(CardOutcome.NO_CARD, "no card in the reader")
            try:
                conn = self._backend.connect(self._citizen)
            except ReaderError as exc:
                raise self._reader_failure(exc, card=True) from None
            self._card_s = _Session(conn, Transport(conn, self._worker.name, self._trace, self._card_lost, self._apdus,
                                                        self.anomalies))
        return self._card_s

    def _require_psam(self) -> PbocPsam:
        psam = self._psam_or_none()
        if psam is None:
            raise CardError(CardOutcome.PSAM_MISSING, "no PSAM in its reader")
        return psam

    def _psam_or_none(self) -> PbocPsam | None:
        self._still_current()
        if self._hung_reader is not None and self._hung_reader == self._psam_reader:
            return None
        if self._psam is None:
            reader = self._psam_reader
            if reader is None:
                return None
            try:                        # even if our last snapshot said empty: it may be a poll behind
                conn = self._backend.connect(reader)
            except ReaderError:
                return None
            self._psam_s = _Session(conn, Transport(conn, "smartcard.psam", self._trace, self._psam_lost, self._apdus,
                                                        self.anomalies))
            self._psam = PbocPsam(self._psam_s.t)
        return self._psam

    def _still_current(self) -> None:
        """A command body abandoned after a hung reader may wake up later: it must not touch the
        state (sessions, backend) that the new worker owns now."""
        if threading.current_thread() is not self._worker._thread:
            raise CardError(CardOutcome.CARD_MUTE, "command abandoned: the card reader had stopped answering")

    def _card_lost(self, exc: ReaderError) -> CardError:
        self._still_current()
        self._drop_card()
        return self._reader_failure(exc, card=True)

    def _psam_lost(self, exc: ReaderError) -> CardError:
        self._still_current()
        self._drop_psam()
        if exc.kind is ReaderErrorKind.NO_SERVICE:
            return CardError(CardOutcome.SERVICE_DOWN, "the PC/SC service went away")
        return CardError(CardOutcome.PSAM_MISSING, f"the PSAM stopped answering ({exc.kind.value})")

    def _reader_failure(self, exc: ReaderError, card: bool) -> CardError:
        """A failed exchange: decide from the reader's state whether the card was pulled."""
        if exc.kind is ReaderErrorKind.NO_SERVICE:
            self._service_lost(str(exc))
            return CardError(CardOutcome.SERVICE_DOWN, "the PC/SC service went away")
        if exc.kind is ReaderErrorKind.NO_READER:
            return CardError(CardOutcome.READER_GONE, "the card reader went away")
        if exc.kind is ReaderErrorKind.NO_CARD:
            return CardError(CardOutcome.NO_CARD, "no card in the reader")
        if self._card_absent_soon():
            return CardError(CardOutcome.CARD_REMOVED, "the card was taken out during the command")
        return CardError(CardOutcome.CARD_MUTE, f"the card does not answer ({exc.kind.value})")

    def _card_absent_soon(self) -> bool:
        """pcscd notices a pulled card within its polling period: wait that long, no more."""
        reader = self._citizen
        if reader is None:
            return True
        deadline = time.monotonic() + self._removal_grace_s
        query = {reader: self._known.get(reader, ReaderSnapshot(True))}
        while time.monotonic() < deadline:
            try:
                state = self._backend.wait_change(query, int((deadline - time.monotonic()) * 1000) + 1)
            except ReaderError:
                return True
            if reader not in state or not state[reader].present:
                return True
            query = {reader: state[reader]}
        return False

    # -- commands ----------------------------------------------------------------------------
    def _submit(self, name: str, body: Callable[[CommandContext], T], secrets: tuple[Any, ...] = ()) -> CommandHandle[T]:
        cell: list[CommandHandle[T]] = []

        def run(ctx: CommandContext) -> T:
            self._worker.assert_on_worker()
            self._running = cell[0]
            try:
                if not self._open and not self._try_open():
                    raise CardError(CardOutcome.SERVICE_DOWN, "the PC/SC service is not running")
                return body(ctx)
            finally:
                if self._running is cell[0]:
                    self._running = None

        with self._pending_lock:
            self._pending += 1
        worker = self._worker
        handle = worker.submit(name, run, timeout=self._timeout)
        cell.append(handle)
        # The deadline runs from the moment the command is queued, not from when it starts: a
        # command queued behind a stuck one ends on time too.
        queued = threading.Timer(self._timeout, _expire_queued, args=(handle, self._timeout))
        queued.daemon = True
        queued.start()
        handle.add_done_callback(lambda _c: queued.cancel())
        handle.add_done_callback(lambda _c: self._command_done())   # also when cancelled unrun
        handle.add_done_callback(lambda c: self._after(handle, c, worker))
        if secrets:   # whatever happens (even cancel before it ran), PIN digits end zeroed
            handle.add_done_callback(lambda _c: _zero(secrets))
        self._backend.wake()
        return handle

    def _command_done(self) -> None:
        with self._pending_lock:
            self._pending -= 1

    # -- a hung reader -----------------------------------------------------------------------
    def _after(self, handle: CommandHandle[Any], completion: Any, worker: DeviceWorker) -> None:
        """A command that timed out while its body still runs: maybe a transmit that never returns."""
        if completion.code is CompletionCode.TIMEOUT and self._running is handle:
            threading.Thread(target=self._recover_if_stuck, args=(handle, worker),
                             name=f"{worker.name}-recover", daemon=True).start()

    def _recover_if_stuck(self, handle: CommandHandle[Any], worker: DeviceWorker) -> None:
        deadline = time.monotonic() + self._hang_grace_s
        while time.monotonic() < deadline:
            if self._running is not handle:
                return                      # the body came back after all
            time.sleep(0.02)
        with self._recover_lock:
            if self._stopped or worker is not self._worker or self._running is not handle:
                return
            if not any(s is not None and s.t.in_flight for s in (self._card_s, self._psam_s)):
                return                      # slow, but not inside a transmit: not a hung reader
            self._replace_worker(worker)

    def _replace_worker(self, old: DeviceWorker) -> None:
        """The worker is stuck in a reader call (pcsc-lite: SCardTransmit on a reader that never
        answers; SCardCancel does not end it). Cancel what can be cancelled, abandon the worker and
        its context, report the reader failed, and carry on with a new worker and a new context.
        The old context is released once the stuck call returns."""
        card, psam = self._card_s, self._psam_s
        stuck = self._psam_reader if (psam is not None and psam.t.in_flight) else self._citizen
        log.error("a reader call never returned; abandoning the worker and rebuilding the context",
                  extra={"device": old.name, "reader": stuck})
        old_backend = self._backend
        old_backend.wake()                              # SCardCancel: ends any wait on that context
        self._card_s = self._psam_s = None
        self._psam = None
        self._backend = old_backend.fresh()
        self._open = False
        self._next_open = 0.0
        self._hung_reader = stuck
        new = DeviceWorker(old.name, idle=self._watch, idle_interval=0.005)
        new._listeners = old._listeners                 # subscribers (and their unsubscribes) carry over
        new._status, new._status_detail = old.status, old.status_detail
        old._stopping.set()                             # the old thread ends when its call returns
        _move_queue(old, new)
        self._running = None
        self._worker = new
        if stuck is not None:
            new.publish(ReaderGone(new.name, stuck, "failed"))
        new.set_status(DeviceStatus.HARDWARE_ERROR, "the card reader stopped answering")
        new.start()
        _release_later(old, old_backend, [s for s in (card, psam) if s is not None],
                       close_backend=self._backend is not old_backend)

    @property
    def apdu_count(self) -> int:
        return self._apdus.count

    def _selected(self) -> _Session:
        s = self._card()
        if s.algorithm is None:
            s.algorithm = ssse.select_ssse(s.t)
        return s

    def _issuer(self, s: _Session) -> IssuerData:
        if s.issuer is None:
            s.issuer = ssse.read_issuer(s.t)
        return s.issuer

    def _pin_context(self, s: _Session, pins: tuple[PinInput, ...], psam_needed: bool) -> PinContext:
        needs_pan = any(isinstance(p, PinBlockInput) for p in pins)
        card_number = self._issuer(s).card_number if needs_pan else ""
        psam = self._require_psam() if (psam_needed or needs_pan) else None
        return PinContext(card_number, self._initial_bcd, psam, s.algorithm or "des", self._max_tries)

    def reader_info(self) -> CommandHandle[ReaderInfo]:
        def body(ctx: CommandContext) -> ReaderInfo:
            readers = tuple(r for r in self._known if r != _PNP)
            citizen = self._citizen
            present = bool(citizen and self._known[citizen].present)
            # A hung reader is not asked (SCardConnect on it would wait on the stuck transmit).
            spe = self._hung_reader != citizen and self._secure_pin_code() is not None
            return ReaderInfo(citizen, self._psam_reader, readers, spe, present)
        return self._submit("readerInfo", body)

    def _secure_pin_code(self) -> int | None:
        """FEATURE_VERIFY_PIN_DIRECT's control code for the citizen's reader, or None. Asked once
        per reader: by a direct connection (no card needed), else through the card's connection."""
        reader = self._citizen
        if reader is None:
            return None
        if reader not in self._spe:
            direct: Connection | None = None
            try:
                direct = self._backend.connect_direct(reader)
                conn = direct
            except ReaderError:
                try:
                    conn = self._card().conn
                except CardError:
                    return None        # asked again once a card is in
            try:
                self._spe[reader] = part10.features(conn).get(part10.FEATURE_VERIFY_PIN_DIRECT)
            finally:
                if direct is not None:
                    self._close(direct, reset=False)
        return self._spe[reader]

    def read_card(self) -> CommandHandle[CardInfo]:
        def body(ctx: CommandContext) -> CardInfo:
            s = self._card()
            s.algorithm = None
            psam = self._psam_or_none()
            info = ssse.read_card(s.t, psam, s.conn.atr)
            s.algorithm, s.issuer = info.algorithm, info.issuer
            return info
        return self._submit("readCard", body)

    def pin_tries_left(self) -> CommandHandle[PinResult]:
        def body(ctx: CommandContext) -> PinResult:
            s = self._selected()
            answer = s.t.send(0x00, 0x20, 0x00, 0x00)
            result = checked_pin_answer(s.t, answer, "VERIFY (tries left)", self._max_tries)
            if answer.sw & 0xFFF0 == 0x63C0 and answer.sw & 0xF:
                return PinResult(CardOutcome.OK, tries_left=answer.sw & 0xF, sw=answer.sw)
            if answer.sw == 0x9000:
                return PinResult(CardOutcome.OK, verified=True, sw=answer.sw)
            return result
        return self._submit("pinTriesLeft", body)

    def verify_pin(self, pin: PinInput | None) -> CommandHandle[PinResult]:
        def body(ctx: CommandContext) -> PinResult:
            s = self._selected()
            if pin is None:
                code = self._secure_pin_code()
                if code is None:
                    raise CardError(CardOutcome.NOT_SUPPORTED, "this reader has no secure PIN entry")
                try:
                    return pin_result(part10.verify_pin_direct(s.conn, code, int(self._timeout)))
                except ReaderError as exc:
                    raise CardError(CardOutcome.SECURE_PIN_ENTRY, f"secure PIN entry failed ({exc.kind.value})") from None
            return run_pin_command(s.t, PinOp.VERIFY, [pin], self._pin_context(s, (pin,), False))
        return self._submit("verifyPin", body, secrets=(pin,))

    def change_pin(self, old: PinInput, new: PinInput,
                   new_pin_check: NewPinCheck | None = None) -> CommandHandle[PinResult]:
        def body(ctx: CommandContext) -> PinResult:
            s = self._selected()
            pin_ctx = replace(self._pin_context(s, (old, new), False), new_pin_check=new_pin_check)
            return run_pin_command(s.t, PinOp.CHANGE, [old, new], pin_ctx)
        return self._submit("changePin", body, secrets=(old, new))

    def check_new_pin(self, new: PinInput, old: PinInput | None = None,
                      new_pin_check: NewPinCheck | None = None) -> CommandHandle[PinResult]:
        def body(ctx: CommandContext) -> PinResult:
            s = self._selected()
            pins = (new,) if old is None else (old, new)
            pin_ctx = replace(self._pin_context(s, pins, False), new_pin_check=new_pin_check)
            return check_new_pin(new, old, pin_ctx)
        return self._submit("checkNewPin", body, secrets=(new,) if old is None else (old, new))

    def _authenticate_for_unblock(self, s: _Session) -> tuple[PbocPsam, str] | PinResult:
        psam = self._require_psam()
        issuer = self._issuer(s)
        try:
            ssse.external_authenticate(s.t, psam, ssse.KEY_PIN_UNBLOCK, s.algorithm or "des", issuer.card_id_code)
        except CardError as exc:
            if exc.outcome is CardOutcome.AUTH_FAILED:
                return PinResult(CardOutcome.AUTH_FAILED, sw=exc.sw or 0)
            raise
        challenge = ssse.get_challenge(s.t)
        psam.begin_session(ssse.KEY_PIN_UNBLOCK, s.algorithm or "des", issuer.card_id_code.encode("ascii"), challenge)
        return psam, issuer.card_id_code

    def reload_pin(self, new: PinInput, new_pin_check: NewPinCheck | None = None) -> CommandHandle[PinResult]:
        def body(ctx: CommandContext) -> PinResult:
            s = self._selected()
            pin_ctx = replace(self._pin_context(s, (new,), True), new_pin_check=new_pin_check)
            auth = self._authenticate_for_unblock(s)
            if isinstance(auth, PinResult):
                return auth
            return run_pin_command(s.t, PinOp.RESET, [new], pin_ctx)
        return self._submit("reloadPin", body, secrets=(new,))

    def unblock_pin(self) -> CommandHandle[PinResult]:
        def body(ctx: CommandContext) -> PinResult:
            s = self._selected()
            auth = self._authenticate_for_unblock(s)
            if isinstance(auth, PinResult):
                return auth
            psam, _card_id = auth
            mac = bytearray(psam.mac(bytes([0x84, 0x24, 0x00, 0x00, 0x04])))
            try:
                answer = s.t.send(0x84, 0x24, 0x00, 0x00, mac, secret=True)
            finally:
                mac[:] = bytes(len(mac))
            return checked_pin_answer(s.t, answer, "UNBLOCK", self._max_tries, verified_on_success=False)
        return self._submit("unblockPin", body)

    def new_pin_working_key(self) -> CommandHandle[WrappedWorkingKey]:
        def body(ctx: CommandContext) -> WrappedWorkingKey:
            return self._require_psam().new_pin_working_key(self._pin_algorithm)
        return self._submit("newPinWorkingKey", body)


def _card_changed(was: ReaderSnapshot, now: ReaderSnapshot) -> bool:
    """Removed, or removed and another card put in between two polls (pcsc-lite's event counter
    in the high word of the state moved, or the ATR differs)."""
    if not now.present:
        return True
    if was.token >> 16 and now.token >> 16 and was.token >> 16 != now.token >> 16:
        return True
    return was.atr != now.atr


def _expire_queued(handle: CommandHandle[Any], timeout: float) -> None:
    handle.cancel()
    handle._resolve(Completion(handle.name, CompletionCode.TIMEOUT, detail=f"not done {timeout}s after it was queued"))


def _move_queue(old: DeviceWorker, new: DeviceWorker) -> None:
    while True:
        try:
            item = old._queue.get_nowait()
        except queue.Empty:
            return
        if item is not None:
            new._queue.put(item)


def _release_later(worker: DeviceWorker, backend: ReaderBackend, sessions: list[_Session],
                   close_backend: bool = True) -> None:
    """Close the handles and release the context of an abandoned worker once its stuck call
    returns (touching them before would block on pcsc-lite's per-context lock)."""
    def release() -> None:
        thread = worker._thread
        if thread is not None:
            thread.join()
        for session in sessions:
            try:
                session.conn.close(False)
            except ReaderError:
                pass
        if close_backend:
            backend.close()
        log.info("abandoned reader context released", extra={"device": worker.name})

    threading.Thread(target=release, name=f"{worker.name}-release", daemon=True).start()


def _zero(items: tuple[Any, ...]) -> None:
    for item in items:
        if isinstance(item, bytearray):
            item[:] = bytes(len(item))
