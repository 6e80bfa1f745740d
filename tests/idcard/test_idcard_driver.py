"""The real driver (pyserial, worker thread, SAM protocol) against the simulator on a pty: every
status the SAM can answer, every fault, unplug and replug, and what the logs may carry."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import pytest
from waiting import wait_until

from drivers.api import CompletionCode, DeviceEvent, DeviceStatus, StatusChanged
from drivers.idcard import sam
from drivers.idcard.api import DocumentKind, IdCardErrorCode, IdCardPresented, IdCardRemoved, idcard_error
from drivers.idcard.factory import IdCardSetup
from drivers.idcard.simulator import NORMAL


def read(setup: IdCardSetup, card: str | None = "normal"):
    if card is not None:
        setup.simulator.place(card)
    return setup.service.read_card().wait(10)


def test_normal_card_reads_and_events_follow_the_card(reader: IdCardSetup) -> None:
    events: list[DeviceEvent] = []
    reader.service.subscribe(events.append)
    assert reader.service.status is DeviceStatus.NO_MEDIA
    reader.simulator.place("normal")
    wait_until(lambda: any(isinstance(e, IdCardPresented) for e in events), 3, "card presented")
    assert reader.service.status is DeviceStatus.ONLINE and reader.service.card_present
    done = reader.service.read_card().wait(10)
    assert done.ok and done.result is not None
    data = done.result
    assert data.kind is DocumentKind.RESIDENT_ID and data.holder == NORMAL
    assert data.photo_length == 1024 and not hasattr(data, "photo")
    assert data.card_serial == (1).to_bytes(8, "big").hex()
    reader.simulator.remove()
    wait_until(lambda: any(isinstance(e, IdCardRemoved) for e in events), 3, "card removed")
    assert reader.service.status is DeviceStatus.NO_MEDIA and not reader.service.card_present
    assert sum(isinstance(e, IdCardPresented) for e in events) == 1


def test_sam_info(reader: IdCardSetup) -> None:
    done = reader.service.sam_info().wait(5)
    assert done.ok and done.result is not None
    assert done.result.sam_id == "05.01-20101012-0000012345-1234567890"


def test_no_card(reader: IdCardSetup) -> None:
    done = read(reader, None)
    assert done.code is CompletionCode.NO_MEDIA and idcard_error(done) is IdCardErrorCode.NO_CARD


def test_expired_card_reads_and_says_so(reader: IdCardSetup) -> None:
    from datetime import date

    done = read(reader, "expired")
    assert done.ok and done.result is not None
    assert done.result.holder.expired(date(2026, 12, 6)) and not done.result.holder.expired(date(2025, 6, 1))


def test_foreign_permanent_resident_card_is_told_clearly(reader: IdCardSetup) -> None:
    done = read(reader, "foreign")
    assert done.code is CompletionCode.USER_ERROR and done.result is None
    assert idcard_error(done) is IdCardErrorCode.FOREIGN_CARD
    assert "foreignPermanentResident" in done.detail


def test_wrong_check_character_is_refused(reader: IdCardSetup) -> None:
    done = read(reader, "bad_check")
    assert done.code is CompletionCode.INVALID_DATA and idcard_error(done) is IdCardErrorCode.ID_NUMBER_CHECK


def test_card_removed_mid_read(reader: IdCardSetup) -> None:
    events: list[DeviceEvent] = []
    reader.service.subscribe(events.append)
    done = read(reader, "removed_mid_read")
    assert done.code is CompletionCode.NO_MEDIA and idcard_error(done) is IdCardErrorCode.CARD_REMOVED
    wait_until(lambda: any(isinstance(e, IdCardRemoved) for e in events), 3, "removal noticed")
    assert read(reader, "normal").ok                         # the next card reads fine


# Every status byte the SAM can answer to a read, and what the driver makes of it.
STATUSES = [
    (sam.ST_NOT_FOUND, CompletionCode.NO_MEDIA, IdCardErrorCode.NO_CARD),
    (sam.ST_SELECT_FAILED, CompletionCode.NO_MEDIA, IdCardErrorCode.SELECT_FAILED),
    (sam.ST_READ_FAILED, CompletionCode.NO_MEDIA, IdCardErrorCode.CARD_REMOVED),
    (sam.ST_RANDOM_FAILED, CompletionCode.HARDWARE_ERROR, IdCardErrorCode.CARD_REMOVED),
    (sam.ST_CARD_AUTH_SAM, CompletionCode.FRAUD_ATTEMPT, IdCardErrorCode.CARD_AUTH_FAILED),
    (sam.ST_SAM_AUTH_CARD, CompletionCode.FRAUD_ATTEMPT, IdCardErrorCode.CARD_AUTH_FAILED),
    (sam.ST_VERIFY_FAILED, CompletionCode.FRAUD_ATTEMPT, IdCardErrorCode.CARD_AUTH_FAILED),
    (sam.ST_UNKNOWN_CARD, CompletionCode.USER_ERROR, IdCardErrorCode.UNKNOWN_CARD_TYPE),
    (sam.ST_SAM_SELF_TEST, CompletionCode.HARDWARE_ERROR, IdCardErrorCode.SAM_FAULT),
    (sam.ST_SAM_UNAUTHORISED, CompletionCode.HARDWARE_ERROR, IdCardErrorCode.SAM_FAULT),
    (sam.ST_BAD_COMMAND, CompletionCode.UNSUPPORTED, IdCardErrorCode.COMMAND_REFUSED),
    (sam.ST_NOT_ALLOWED, CompletionCode.COMMAND_ERROR, IdCardErrorCode.COMMAND_REFUSED),
    (sam.ST_UNKNOWN_ERROR, CompletionCode.HARDWARE_ERROR, IdCardErrorCode.COMMAND_REFUSED),
    (sam.ST_NO_CONTENT, CompletionCode.HARDWARE_ERROR, IdCardErrorCode.UNKNOWN_STATUS),
    (0x5A, CompletionCode.HARDWARE_ERROR, IdCardErrorCode.UNKNOWN_STATUS),
]


@pytest.mark.parametrize(("status", "code", "error"), STATUSES, ids=[f"{s[0]:02X}" for s in STATUSES])
def test_every_read_status(make_reader: Callable[..., IdCardSetup], status: int, code: CompletionCode,
                           error: IdCardErrorCode) -> None:
    reader = make_reader(poll_interval_s=60.0)       # no polls in between: the fault hits the read
    reader.simulator.place("normal")
    original = reader.simulator._execute

    def answer(command: tuple[int, int]) -> tuple[int, bytes]:
        if command == sam.READ_TEXT_PHOTO:
            return status, b""
        return original(command)

    reader.simulator._execute = answer                # type: ignore[method-assign]
    done = reader.service.read_card().wait(10)
    assert (done.code, idcard_error(done)) == (code, error), done
    assert f"SW3 {status:02X}" in done.detail
    reader.simulator._execute = original              # type: ignore[method-assign]
    assert reader.service.read_card().wait(10).ok


def test_noise_on_the_line_is_skipped(reader: IdCardSetup) -> None:
    reader.simulator.faults.noise = b"\x00\xff\xaa\xaa\x13\x96\x69garbage"
    done = read(reader)
    assert done.ok and done.result is not None and done.result.holder == NORMAL
    assert reader.service.junk_bytes >= 10


def test_a_damaged_answer_is_asked_again(reader: IdCardSetup) -> None:
    reader.simulator.place("normal")
    time.sleep(0.2)
    reader.simulator.faults.corrupt_next = 1
    done = reader.service.read_card().wait(10)
    assert done.ok, done


def test_answers_that_stay_damaged_end_the_read(make_reader: Callable[..., IdCardSetup]) -> None:
    reader = make_reader(poll_interval_s=60.0)
    reader.simulator.place("normal")
    reader.simulator.faults.corrupt_next = 3          # find: 1 try + 2 retries, all damaged
    done = reader.service.read_card().wait(10)
    assert done.code is CompletionCode.HARDWARE_ERROR and idcard_error(done) is IdCardErrorCode.BAD_CHECKSUM


def test_busy_sam_times_out_then_its_late_answer_is_not_taken_for_the_next(
        make_reader: Callable[..., IdCardSetup]) -> None:
    reader = make_reader(poll_interval_s=60.0, answer_timeout_s=0.2)
    reader.simulator.place("foreign")                 # a late answer here would be a refusal...
    reader.simulator.faults.busy_next_s = 0.5
    done = reader.service.read_card().wait(10)
    assert done.code is CompletionCode.TIMEOUT and idcard_error(done) is IdCardErrorCode.SAM_BUSY
    time.sleep(0.6)                                   # ...which arrives now, unasked
    reader.simulator.place("normal")
    again = reader.service.read_card().wait(10)
    assert again.ok and again.result is not None and again.result.holder == NORMAL


def test_busy_sam_between_commands_shows_busy_then_recovers(reader: IdCardSetup) -> None:
    statuses: list[DeviceStatus] = []
    reader.service.subscribe(lambda e: statuses.append(e.new) if isinstance(e, StatusChanged) else None)
    reader.simulator.faults.busy_next_s = 0.8
    wait_until(lambda: DeviceStatus.BUSY in statuses, 3, "status busy")
    wait_until(lambda: reader.service.status is DeviceStatus.NO_MEDIA, 5, "status back to no media")


def test_sam_self_test_failure_is_a_hardware_error_until_it_passes(reader: IdCardSetup) -> None:
    reader.simulator.faults.self_test_failed = True
    wait_until(lambda: reader.service.status is DeviceStatus.HARDWARE_ERROR, 3, "hardware error")
    done = read(reader)
    assert idcard_error(done) is IdCardErrorCode.SAM_FAULT
    reader.simulator.faults.self_test_failed = False
    wait_until(lambda: reader.service.status is DeviceStatus.ONLINE, 3, "back online")
    assert read(reader).ok


def test_unplug_and_replug(reader: IdCardSetup) -> None:
    events: list[DeviceEvent] = []
    reader.service.subscribe(events.append)
    reader.simulator.place("normal")
    wait_until(lambda: reader.service.card_present, 3, "card present")
    reader.simulator.unplug()
    wait_until(lambda: reader.service.status is DeviceStatus.OFFLINE, 3, "offline")
    assert any(isinstance(e, IdCardRemoved) for e in events)      # no reader, no card
    done = reader.service.read_card().wait(5)
    assert done.code is CompletionCode.HARDWARE_ERROR and idcard_error(done) is IdCardErrorCode.OFFLINE
    reader.simulator.replug()
    wait_until(lambda: reader.service.status is DeviceStatus.ONLINE, 5, "back online with the card")
    assert reader.service.reconnects >= 1
    assert read(reader).ok


def test_unplug_during_a_read(make_reader: Callable[..., IdCardSetup]) -> None:
    from drivers.idcard.simulator import Timing

    reader = make_reader(simulator_timing=Timing(read_s=0.6), poll_interval_s=60.0)
    reader.simulator.place("normal")
    handle = reader.service.read_card()
    time.sleep(0.3)
    reader.simulator.unplug()
    done = handle.wait(10)
    assert idcard_error(done) in (IdCardErrorCode.PORT_GONE, IdCardErrorCode.SAM_BUSY)
    reader.simulator.replug()
    wait_until(lambda: reader.service.status in (DeviceStatus.ONLINE, DeviceStatus.NO_MEDIA), 5, "back")
    assert read(reader).ok


def test_logs_carry_only_the_masked_id_number(reader: IdCardSetup, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    assert read(reader).ok
    assert read(reader, "bad_check").code is CompletionCode.INVALID_DATA
    text = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert "4401**********6548" in text
    for secret in (NORMAL.id_number, "440104194811026549", NORMAL.name, NORMAL.address[:6]):
        assert secret not in text
