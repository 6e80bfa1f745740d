"""The real driver against the simulator over a pseudo-terminal: every command, both entry
modes, both wire forms, SM4 and 3DES, key loading with right and wrong check values."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from pinpad_testkit import MASTER, PAN, PAN_FIELD_DIGITS, WORK, work_cipher, work_kcv, wrapped_work_key

from drivers.api import CompletionCode, DeviceEvent, DeviceStatus
from drivers.crypto.ciphers import cipher_for, kcv
from drivers.crypto.pinblock import PinBlockFormat, decrypt_pin_block
from drivers.pinpad import kmy
from drivers.pinpad.api import KeyEvent, KeyKind, PinPadService
from drivers.pinpad.factory import PinPadSetup


def _events(handle) -> list[KeyEvent]:  # type: ignore[no-untyped-def]
    got: list[KeyEvent] = []
    handle.on_event(lambda e: got.append(e) if isinstance(e, KeyEvent) else None)
    return got


def _wait_for_entry(setup: PinPadSetup, mode: str) -> None:
    end = time.monotonic() + 3
    while setup.simulator.entry_mode != mode:  # type: ignore[union-attr]
        assert time.monotonic() < end, f"the pad never entered {mode} mode"
        time.sleep(0.005)


def test_the_driver_is_a_pinpad_service(pad: PinPadSetup) -> None:
    assert isinstance(pad.service, PinPadService)
    assert pad.service.status is DeviceStatus.ONLINE


@pytest.mark.parametrize("wire_form", ["binary", "ascii_hex"])
def test_version_serial_and_init_commands(make_pad: Callable[..., PinPadSetup], wire_form: str) -> None:
    setup = make_pad(wire_form=wire_form)
    info = setup.service.info().wait(5)
    assert info.ok and info.result is not None
    assert info.result.version == "KMY350X-SIM V1.0" and info.result.serial == "SIM0000001"
    assert info.result.wire_form == wire_form and info.result.protocol == "kmy"
    received = setup.simulator.received  # type: ignore[union-attr]
    # On connect: reset, version, serial, SM4 settings (format, expansion).
    assert received[:5] == [kmy.CMD_RESET, kmy.CMD_VERSION, kmy.CMD_SERIAL, kmy.CMD_SM4_SETTINGS, kmy.CMD_SM4_SETTINGS]


@pytest.mark.parametrize(("algorithm", "wire_form", "fmt"), [
    ("sm4", "binary", "iso0"), ("sm4", "ascii_hex", "iso4"), ("3des", "binary", "iso0"), ("3des", "ascii_hex", "iso0"),
])
def test_pin_entry_gives_a_block_that_decrypts_to_the_typed_pin(
        make_pad: Callable[..., PinPadSetup], algorithm: str, wire_form: str, fmt: str) -> None:
    setup = make_pad(algorithm=algorithm, wire_form=wire_form, pin_block_format=fmt)
    loaded = setup.service.load_work_key("pin", wrapped_work_key(algorithm), work_kcv(algorithm)).wait(5)
    assert loaded.ok, loaded
    handle = setup.service.start_pin_entry(PAN, timeout_s=5)
    events = _events(handle)
    _wait_for_entry(setup, "pin")
    setup.simulator.type_keys("271828")  # type: ignore[union-attr]
    setup.simulator.press("enter")  # type: ignore[union-attr]
    done = handle.wait(6)
    assert done.ok, done
    result = done.result
    assert result is not None and result.digits == 6 and result.key_name == "pin" and result.algorithm == algorithm
    assert len(result.block) == (8 if algorithm == "3des" else 16)
    pin_format = PinBlockFormat.ISO4 if fmt == "iso4" else PinBlockFormat.ISO0
    assert result.format is pin_format
    # The PSAM side: PAN field from the card number without check digit (or the full PAN for format 4).
    pan = PAN if fmt == "iso4" else PAN_FIELD_DIGITS
    digits = decrypt_pin_block(result.block, pan, pin_format, work_cipher(algorithm),
                               pan_has_check_digit=False)
    assert digits == bytearray(b"271828")
    assert [e.kind for e in events] == [KeyKind.DIGIT_HIDDEN] * 6 + [KeyKind.ENTER]
    assert [e.count for e in events] == [1, 2, 3, 4, 5, 6, 6]
    assert all(e.value == "" for e in events)
    assert kmy.CMD_CARD_NUMBER in setup.simulator.received  # type: ignore[union-attr]


def test_pin_entry_clear_backspace_auto_end_and_min_length(pad: PinPadSetup) -> None:
    sim = pad.simulator
    assert sim is not None
    handle = pad.service.start_pin_entry(PAN, min_len=4, max_len=6, auto_end=True, timeout_s=5)
    events = _events(handle)
    _wait_for_entry(pad, "pin")
    sim.type_keys("12")
    sim.press("enter")              # below the minimum: the pad only beeps
    sim.press("clear")
    sim.type_keys("9")
    sim.press("backspace")
    sim.type_keys("314159")         # the 6th digit ends the entry by itself (auto-end)
    done = handle.wait(6)
    assert done.ok, done
    assert done.result is not None and done.result.digits == 6
    kinds = [e.kind for e in events]
    assert kinds == [KeyKind.DIGIT_HIDDEN] * 2 + [KeyKind.CLEAR, KeyKind.DIGIT_HIDDEN, KeyKind.BACKSPACE] \
        + [KeyKind.DIGIT_HIDDEN] * 6 + [KeyKind.ENTER]
    assert [e.count for e in events] == [1, 2, 0, 1, 0, 1, 2, 3, 4, 5, 6, 6]
    digits = decrypt_pin_block(done.result.block, PAN_FIELD_DIGITS, PinBlockFormat.ISO0, work_cipher("sm4"),
                               pan_has_check_digit=False)
    assert digits == bytearray(b"314159")


def test_pin_entry_cancel_on_the_pad_and_from_the_host(pad: PinPadSetup) -> None:
    sim = pad.simulator
    assert sim is not None
    handle = pad.service.start_pin_entry(PAN, timeout_s=5)
    _wait_for_entry(pad, "pin")
    sim.type_keys("12")
    sim.press("cancel")
    done = handle.wait(6)
    assert done.code is CompletionCode.CANCELED
    handle = pad.service.start_pin_entry(PAN, timeout_s=5)
    _wait_for_entry(pad, "pin")
    handle.cancel()
    assert handle.wait(6).code is CompletionCode.CANCELED
    end = time.monotonic() + 2
    while sim.entry_mode != "idle":        # the driver closed the keypad
        assert time.monotonic() < end, "keypad left open after a host cancel"
        time.sleep(0.01)


def test_pin_entry_timeouts_host_and_pad(pad: PinPadSetup) -> None:
    handle = pad.service.start_pin_entry(PAN, timeout_s=0.5)
    _wait_for_entry(pad, "pin")
    assert handle.wait(5).code is CompletionCode.TIMEOUT


def test_pin_entry_refused_without_a_verified_key(make_pad: Callable[..., PinPadSetup]) -> None:
    setup = make_pad()
    done = setup.service.start_pin_entry(PAN, timeout_s=2).wait(5)
    assert done.code is CompletionCode.COMMAND_ERROR and done.error_code == "keyNotLoaded"


def test_bad_pin_entry_arguments_are_typed_errors(pad: PinPadSetup) -> None:
    done = pad.service.start_pin_entry(PAN, min_len=2, max_len=6, timeout_s=2).wait(5)
    assert done.code is CompletionCode.INVALID_DATA and done.error_code == "badInput"
    done = pad.service.start_pin_entry("ABC", timeout_s=2).wait(5)
    assert done.code is CompletionCode.INVALID_DATA and "no digits" in done.detail


def test_plain_entry_reports_each_key_with_its_value(pad: PinPadSetup) -> None:
    sim = pad.simulator
    assert sim is not None
    handle = pad.service.start_plain_entry(11, timeout_s=5, min_len=11)
    events = _events(handle)
    _wait_for_entry(pad, "plain")
    sim.type_keys("1380013800")
    sim.press("enter")              # 10 digits: below min, the entry goes on
    sim.type_keys("9")
    sim.press("backspace")
    sim.type_keys("0")
    sim.press("enter")
    done = handle.wait(6)
    assert done.ok and done.result == "13800138000"
    digits = [e.value for e in events if e.kind is KeyKind.DIGIT]
    assert "".join(digits) == "1380013800" + "9" + "0"
    assert events[10].kind is KeyKind.ENTER and events[10].count == 10
    assert sim.entry_mode == "idle" or _wait_idle(sim)


def _wait_idle(sim) -> bool:  # type: ignore[no-untyped-def]
    end = time.monotonic() + 2
    while sim.entry_mode != "idle":
        assert time.monotonic() < end
        time.sleep(0.01)
    return True


def test_plain_entry_auto_end_clear_and_cancel(pad: PinPadSetup) -> None:
    sim = pad.simulator
    assert sim is not None
    handle = pad.service.start_plain_entry(6, timeout_s=5, min_len=6, auto_end=True)
    _wait_for_entry(pad, "plain")
    sim.type_keys("11")
    sim.press("clear")
    sim.type_keys("654321")
    done = handle.wait(6)
    assert done.ok and done.result == "654321"
    handle = pad.service.start_plain_entry(6, timeout_s=5)
    _wait_for_entry(pad, "plain")
    sim.press("cancel")
    assert handle.wait(6).code is CompletionCode.CANCELED


def test_work_key_with_wrong_kcv_is_rejected_and_unusable(make_pad: Callable[..., PinPadSetup]) -> None:
    setup = make_pad(algorithm="3des")
    wrong = bytes(b ^ 0xFF for b in work_kcv("3des"))
    done = setup.service.load_work_key("pin", wrapped_work_key("3des"), wrong).wait(5)
    assert done.code is CompletionCode.COMMAND_ERROR and done.error_code == "kcvMismatch"
    assert setup.service.start_pin_entry(PAN, timeout_s=2).wait(5).error_code == "keyNotLoaded"
    # A key wrapped under another master gives another check value: also refused.
    other = cipher_for("3des", bytes(range(16))).encrypt(WORK["3des"])
    assert setup.service.load_work_key("pin", other, work_kcv("3des")).wait(5).error_code == "kcvMismatch"
    ok = setup.service.load_work_key("pin", wrapped_work_key("3des"), work_kcv("3des")).wait(5)
    assert ok.ok and ok.result is not None and ok.result.kcv == work_kcv("3des")


def test_work_key_input_errors(pad: PinPadSetup) -> None:
    assert pad.service.load_work_key("nope", wrapped_work_key("sm4"), work_kcv("sm4")).wait(5).error_code == "badInput"
    assert pad.service.load_work_key("pin", b"short", work_kcv("sm4")).wait(5).error_code == "badInput"
    assert pad.service.load_work_key("pin", wrapped_work_key("sm4"), b"\x01").wait(5).error_code == "badInput"


@pytest.mark.parametrize("algorithm", ["sm4", "3des"])
def test_master_key_only_in_ceremony_mode(make_pad: Callable[..., PinPadSetup], algorithm: str) -> None:
    locked = make_pad(algorithm=algorithm)
    done = locked.service.load_master_key(MASTER[algorithm]).wait(5)
    assert done.code is CompletionCode.UNSUPPORTED and done.error_code == "ceremonyModeOff"
    assert locked.service.reset(erase_keys=True).wait(5).error_code == "ceremonyModeOff"

    ceremony = make_pad(algorithm=algorithm, ceremony_mode=True, simulator_master_key=None)
    # No master yet: a work key cannot be unwrapped (status A4h).
    early = ceremony.service.load_work_key("pin", wrapped_work_key(algorithm), work_kcv(algorithm)).wait(5)
    assert early.error_code == "masterKeyInvalid"
    wrong = ceremony.service.load_master_key(MASTER[algorithm], expected_kcv=b"\x00\x00\x00").wait(5)
    assert wrong.error_code == "kcvMismatch"
    done = ceremony.service.load_master_key(MASTER[algorithm], expected_kcv=kcv(cipher_for(algorithm, MASTER[algorithm]))).wait(5)
    assert done.ok, done
    master_cmd = kmy.CMD_SM4_LOAD_MASTER if algorithm == "sm4" else kmy.CMD_LOAD_MASTER
    assert master_cmd in ceremony.simulator.received  # type: ignore[union-attr]
    assert ceremony.service.load_work_key("pin", wrapped_work_key(algorithm), work_kcv(algorithm)).wait(5).ok
    # Erase in ceremony mode: the keys are gone and the driver forgets their verification.
    assert ceremony.service.reset(erase_keys=True).wait(5).ok
    assert ceremony.service.start_pin_entry(PAN, timeout_s=2).wait(5).error_code == "keyNotLoaded"
    again = ceremony.service.load_work_key("pin", wrapped_work_key(algorithm), work_kcv(algorithm)).wait(5)
    assert again.error_code == "masterKeyInvalid"


def test_subscribers_get_key_events_and_status(pad: PinPadSetup) -> None:
    seen: list[DeviceEvent] = []
    unsubscribe = pad.service.subscribe(seen.append)
    handle = pad.service.start_pin_entry(PAN, timeout_s=5)
    _wait_for_entry(pad, "pin")
    pad.simulator.type_keys("123456")  # type: ignore[union-attr]
    pad.simulator.press("enter")  # type: ignore[union-attr]
    assert handle.wait(6).ok
    unsubscribe()
    assert sum(isinstance(e, KeyEvent) for e in seen) == 7


def test_reset_without_erase_keeps_keys(pad: PinPadSetup) -> None:
    assert pad.service.reset().wait(5).ok
    handle = pad.service.start_pin_entry(PAN, timeout_s=5)
    _wait_for_entry(pad, "pin")
    pad.simulator.type_keys("123456")  # type: ignore[union-attr]
    pad.simulator.press("enter")  # type: ignore[union-attr]
    assert handle.wait(6).ok


def test_keys_right_behind_the_start_answer_are_not_lost(pad: PinPadSetup) -> None:
    sim = pad.simulator
    assert sim is not None
    # Regression: key bytes read in the same burst as the 35h answer used to be dropped.
    sim.faults.type_ahead = (kmy.CMD_START_PIN, "123456")
    handle = pad.service.start_pin_entry(PAN, timeout_s=5, auto_end=True)
    done = handle.wait(6)
    assert done.ok and done.result is not None and done.result.digits == 6


def _enter(setup: PinPadSetup, handle, pin: str):  # type: ignore[no-untyped-def]
    _wait_for_entry(setup, "pin")
    setup.simulator.type_keys(pin)  # type: ignore[union-attr]
    setup.simulator.press("enter")  # type: ignore[union-attr]
    done = handle.wait(6)
    assert done.ok, done
    return done.result


def test_social_security_card_number_matches_the_psam_side(pad: PinPadSetup) -> None:
    # What drivers/smartcard/pin_handoff.py does: format 0, PAN = the card number (EF05 tag 07),
    # its digits, no check digit.
    result = _enter(pad, pad.service.start_pin_entry("A12345678", timeout_s=5), "246810")
    digits = decrypt_pin_block(result.block, "A12345678", PinBlockFormat.ISO0, work_cipher("sm4"),
                               pan_has_check_digit=False)
    assert digits == bytearray(b"246810")


def test_bank_pan_with_check_digit(pad: PinPadSetup) -> None:
    handle = pad.service.start_pin_entry(PAN, timeout_s=5, pan_has_check_digit=True)
    result = _enter(pad, handle, "135791")
    digits = decrypt_pin_block(result.block, PAN, PinBlockFormat.ISO0, work_cipher("sm4"))
    assert digits == bytearray(b"135791")


def test_stop_during_a_pin_entry_cancels_it_and_closes_the_keypad(make_pad: Callable[..., PinPadSetup]) -> None:
    setup = make_pad()
    assert setup.service.load_work_key("pin", wrapped_work_key("sm4"), work_kcv("sm4")).wait(5).ok
    handle = setup.service.start_pin_entry(PAN, timeout_s=30)
    _wait_for_entry(setup, "pin")
    started = time.monotonic()
    setup.service.stop()
    assert time.monotonic() - started < 2
    assert handle.wait(2).code is CompletionCode.CANCELED
    assert setup.service.status is DeviceStatus.OFFLINE
    _wait_idle(setup.simulator)
