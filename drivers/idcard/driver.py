"""The ID-card reader service over a serial port: one worker thread owns the port and the SAM.

Between commands the worker polls "find card" (the reader has no card switch) and publishes
IdCardPresented / IdCardRemoved; removal needs two misses in a row, because a card held at the
edge of the field flickers. :meth:`read_card` finds, selects and reads (30 01h), decodes the text
and zeroes the photo and every buffer that held the answer before it completes.

Logs carry the masked ID number only (region prefix and last four), never a name or address.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from drivers.api import (
    CommandContext,
    CommandHandle,
    CompletionCode,
    DeviceStatus,
    DeviceWorker,
    EventListener,
)
from drivers.idcard import sam
from drivers.idcard.api import (
    DEVICE_NAME,
    DocumentKind,
    IdCardData,
    IdCardError,
    IdCardErrorCode,
    IdCardPresented,
    IdCardRemoved,
    SamInfo,
)
from drivers.idcard.text import MalformedText, decode_resident, document_kind

log = logging.getLogger(__name__)
T = TypeVar("T")

IdNumberCheck = Callable[[str], bool]       # True when the check character is right

REFUSED_KINDS = {
    DocumentKind.FOREIGN_PERMANENT_RESIDENT: IdCardErrorCode.FOREIGN_CARD,
    DocumentKind.HMT_RESIDENCE_PERMIT: IdCardErrorCode.HMT_CARD,
    DocumentKind.UNKNOWN: IdCardErrorCode.UNKNOWN_DOCUMENT,
}


def masked(id_number: str) -> str:
    """4401**********6548: the only form of an ID number this driver logs."""
    return id_number[:4] + "*" * max(0, len(id_number) - 8) + id_number[-4:] if len(id_number) >= 8 else "****"


class SerialIdCardReader:
    """Implements drivers.idcard.api.IdCardReaderService."""

    def __init__(self, open_link: Callable[[], sam.Link], *, port: str, answer_timeout_s: float = 0.5,
                 read_timeout_s: float = 3.0, retries: int = 2, poll_interval_s: float = 0.25,
                 command_timeout_s: float = 6.0, reconnect_initial_s: float = 0.2,
                 reconnect_max_backoff_s: float = 30.0, id_number_check: IdNumberCheck | None = None,
                 name: str = DEVICE_NAME) -> None:
        self.name = name
        self.port = port
        self.answer_timeout_s = answer_timeout_s
        self.read_timeout_s = read_timeout_s
        self.retries = retries
        self.poll_interval_s = poll_interval_s
        self.command_timeout_s = command_timeout_s
        self.id_number_check = id_number_check
        self._open_link = open_link
        self._link: sam.Link | None = None
        self._proto: sam.SamProtocol | None = None
        self._sam: SamInfo | None = None
        self._present = False
        self._misses = 0
        self._next_poll = 0.0
        self._backoff_initial = reconnect_initial_s
        self._backoff_max = reconnect_max_backoff_s
        self._backoff = reconnect_initial_s
        self._next_attempt = 0.0
        self.reconnects = 0
        self._worker = DeviceWorker(name, idle=self._idle, idle_interval=min(0.05, poll_interval_s))

    # -- lifecycle and status -----------------------------------------------------------------
    @property
    def status(self) -> DeviceStatus:
        return self._worker.status

    @property
    def status_detail(self) -> str:
        return self._worker.status_detail

    @property
    def card_present(self) -> bool:
        return self._present

    @property
    def junk_bytes(self) -> int:
        """Noise and damaged frames skipped on the line since the last connect (for the doctor)."""
        return self._proto.junk if self._proto is not None else 0

    def start(self) -> None:
        self._worker.start()
        self._worker.submit("connect", lambda ctx: self._connect(), timeout=self.command_timeout_s)

    def stop(self) -> None:
        self._worker.stop(timeout=self.command_timeout_s + 1.0)
        if not self._worker.running:
            self._drop_link("stopped", DeviceStatus.OFFLINE)

    def subscribe(self, listener: EventListener) -> Callable[[], None]:
        return self._worker.subscribe(listener)

    def wait_online(self, timeout: float) -> bool:
        """For tests, the doctor and start-up (never the UI thread): block until ONLINE or NO_MEDIA."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.status in (DeviceStatus.ONLINE, DeviceStatus.NO_MEDIA):
                return True
            time.sleep(0.02)
        return False

    # -- connection (worker thread only) ------------------------------------------------------
    def _connect(self) -> bool:
        self._worker.assert_on_worker()
        try:
            link = self._open_link()
        except sam.PortGone as exc:
            self._schedule_retry(str(exc))
            return False
        self._link = link
        self._proto = sam.SamProtocol(link, answer_timeout_s=self.answer_timeout_s, retries=self.retries)
        try:
            self._sam = self._query_sam(self._proto)
        except (sam.PortGone, IdCardError) as exc:
            # Silence: not (yet) a reader on this port -> OFFLINE; a SAM that answers with a fault
            # (self-test failed, not authorised) -> HARDWARE_ERROR, retried all the same.
            fault = isinstance(exc, IdCardError) and exc.error is IdCardErrorCode.SAM_FAULT
            status = DeviceStatus.HARDWARE_ERROR if fault else DeviceStatus.OFFLINE
            self._drop_link(f"SAM did not answer: {exc}", status)
            self._schedule_retry(str(exc), status)
            return False
        self._backoff = self._backoff_initial
        self._present, self._misses = False, 0
        self._worker.set_status(DeviceStatus.NO_MEDIA, f"SAM {self._sam.sam_id} on {self.port}")
        return True

    def _query_sam(self, proto: sam.SamProtocol) -> SamInfo:
        answer = proto.exchange(sam.SAM_ID)
        try:
            if answer.status != sam.ST_OK:
                raise sam.status_error(answer.status, "SAM id")
            if len(answer.data) < 14:
                raise IdCardError(CompletionCode.HARDWARE_ERROR, IdCardErrorCode.UNKNOWN_STATUS,
                                  f"SAM id answer too short ({len(answer.data)} bytes)")
            return SamInfo(sam.format_sam_id(answer.data))
        finally:
            answer.wipe()

    def _schedule_retry(self, reason: str, status: DeviceStatus = DeviceStatus.OFFLINE) -> None:
        self._next_attempt = time.monotonic() + self._backoff
        log.info("ID-card reader not reachable; retrying", extra={
            "device": self.name, "port": self.port, "retry_in_s": round(self._backoff, 2), "reason": reason})
        self._backoff = min(self._backoff * 2, self._backoff_max)
        if self.status is not status:
            self._worker.set_status(status, reason)

    def _drop_link(self, reason: str, status: DeviceStatus) -> None:
        if self._proto is not None:
            self._proto.parser.wipe()
        if self._link is not None:
            self._link.close()
        self._link, self._proto = None, None
        if self._present:
            self._set_absent()
        self._worker.set_status(status, reason)

    def _port_lost(self, reason: str) -> None:
        log.warning("ID-card reader port vanished", extra={"device": self.name, "port": self.port, "reason": reason})
        self._drop_link(reason, DeviceStatus.OFFLINE)
        self._backoff = self._backoff_initial
        self._next_attempt = time.monotonic() + self._backoff

    # -- card presence (worker thread, between commands) ---------------------------------------
    def _idle(self) -> None:
        if self._link is None:
            if time.monotonic() >= self._next_attempt and self._connect():
                self.reconnects += 1
            return
        if time.monotonic() < self._next_poll:
            return
        self._next_poll = time.monotonic() + self.poll_interval_s
        assert self._proto is not None
        try:
            self._proto.drain()
            found = self._find(self._proto)
        except sam.PortGone as exc:
            self._port_lost(str(exc))
            return
        except IdCardError as exc:
            self._poll_failed(exc)
            return
        if self.status in (DeviceStatus.BUSY, DeviceStatus.HARDWARE_ERROR):
            self._worker.set_status(DeviceStatus.ONLINE if self._present else DeviceStatus.NO_MEDIA, "SAM answers again")
        if found:
            self._card_seen()
        elif self._present:
            self._misses += 1
            if self._misses >= 2:
                self._set_absent()
                self._worker.set_status(DeviceStatus.NO_MEDIA, "no card")

    def _card_seen(self) -> None:
        self._misses = 0
        if not self._present:
            self._present = True
            self._worker.set_status(DeviceStatus.ONLINE, "card on the reader")
            self._worker.publish(IdCardPresented(self.name, at=time.monotonic()))

    def _set_absent(self) -> None:
        self._present, self._misses = False, 0
        self._worker.publish(IdCardRemoved(self.name, at=time.monotonic()))

    def _poll_failed(self, exc: IdCardError) -> None:
        if exc.error is IdCardErrorCode.SAM_BUSY:
            self._worker.set_status(DeviceStatus.BUSY, str(exc))
        elif exc.error is IdCardErrorCode.SAM_FAULT:
            self._worker.set_status(DeviceStatus.HARDWARE_ERROR, str(exc))
        else:
            log.info("ID-card poll failed", extra={"device": self.name, "reason": str(exc)})

    def _find(self, proto: sam.SamProtocol, check: sam.Check | None = None) -> bool:
        answer = proto.exchange(sam.FIND_CARD, check=check)
        if answer.status == sam.ST_FOUND:
            return True
        if answer.status == sam.ST_NOT_FOUND:
            return False
        raise sam.status_error(answer.status, "find card")

    # -- commands -------------------------------------------------------------------------------
    def _submit(self, name: str, body: Callable[[CommandContext, sam.SamProtocol], T]) -> CommandHandle[T]:
        def run(ctx: CommandContext) -> T:
            proto = self._proto
            if proto is None:
                raise IdCardError(CompletionCode.HARDWARE_ERROR, IdCardErrorCode.OFFLINE,
                                  f"reader offline ({self.status_detail or 'not connected'})")
            try:
                return body(ctx, proto)
            except sam.PortGone:
                self._port_lost("port vanished during a command")
                raise IdCardError(CompletionCode.HARDWARE_ERROR, IdCardErrorCode.PORT_GONE,
                                  "reader port vanished during the command") from None
        return self._worker.submit(name, run, self.command_timeout_s)

    def sam_info(self) -> CommandHandle[SamInfo]:
        def body(_ctx: CommandContext, proto: sam.SamProtocol) -> SamInfo:
            self._sam = self._query_sam(proto)
            return self._sam
        return self._submit("samInfo", body)

    def read_card(self) -> CommandHandle[IdCardData]:
        """Find, select, read text+photo, decode. The photo is zeroed before this completes."""
        def body(ctx: CommandContext, proto: sam.SamProtocol) -> IdCardData:
            started = time.monotonic()
            if not self._find(proto, ctx.check):
                raise IdCardError(CompletionCode.NO_MEDIA, IdCardErrorCode.NO_CARD, "no card on the reader")
            self._card_seen()
            selected = proto.exchange(sam.SELECT_CARD, check=ctx.check)
            if selected.status != sam.ST_OK:
                raise sam.status_error(selected.status, "select card")
            serial = bytes(selected.data[:8]).hex()
            answer = proto.exchange(sam.READ_TEXT_PHOTO, timeout_s=self.read_timeout_s, check=ctx.check)
            try:
                if answer.status != sam.ST_OK:
                    raise sam.status_error(answer.status, "read text and photo")
                data = self._decode(answer.data, serial)
            finally:
                answer.wipe()            # text and photo: zeroed whatever happened
                proto.parser.wipe()
            log.info("ID card read", extra={"device": self.name, "person": masked(data.holder.id_number),
                                            "photo_bytes_zeroed": data.photo_length,
                                            "read_ms": round((time.monotonic() - started) * 1000)})
            return data
        return self._submit("readCard", body)

    def _decode(self, data: bytearray, serial: str) -> IdCardData:
        if len(data) < 4:
            raise IdCardError(CompletionCode.INVALID_DATA, IdCardErrorCode.MALFORMED_TEXT, "read answer too short")
        text_len = int.from_bytes(data[0:2], "big")
        photo_len = int.from_bytes(data[2:4], "big")
        if len(data) < 4 + text_len + photo_len:
            raise IdCardError(CompletionCode.INVALID_DATA, IdCardErrorCode.MALFORMED_TEXT,
                              f"read answer holds {len(data) - 4} bytes, lengths say {text_len}+{photo_len}")
        # The photo (WLT) is not decoded: its bytes are zeroed in place here, now.
        data[4 + text_len:4 + text_len + photo_len] = bytes(photo_len)
        text = data[4:4 + text_len]
        try:
            kind = document_kind(text)
            if kind in REFUSED_KINDS:
                raise IdCardError(CompletionCode.USER_ERROR, REFUSED_KINDS[kind],
                                  f"{kind.value}: this reader service reads only the resident ID card layout")
            holder = decode_resident(text)
        except MalformedText as exc:
            raise IdCardError(CompletionCode.INVALID_DATA, IdCardErrorCode.MALFORMED_TEXT, str(exc)) from None
        finally:
            text[:] = bytes(len(text))
        if self.id_number_check is not None and not self.id_number_check(holder.id_number):
            log.warning("ID card number fails its check character", extra={
                "device": self.name, "person": masked(holder.id_number)})
            raise IdCardError(CompletionCode.INVALID_DATA, IdCardErrorCode.ID_NUMBER_CHECK,
                              "the ID number's check character is wrong")
        return IdCardData(kind, holder, photo_len, serial)
