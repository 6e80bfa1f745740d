"""Faults on the wire and on the port: noise, wrong BCC, NAK, silence, error and unknown statuses,
slowness, the pad's own entry timeout, and the port vanishing and coming back."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator

import pytest
from pinpad_testkit import MASTER, PAN, work_kcv, wrapped_work_key

from drivers.api import CompletionCode, DeviceEvent, DeviceStatus, StatusChanged
from drivers.crypto.pinblock import PinBlockFormat
from drivers.pinpad import kmy
from drivers.pinpad.api import KeyKind, PinPadError, PinPadErrorCode
from drivers.pinpad.factory import PinPadSetup
from drivers.pinpad.protocol import PortGone
from drivers.pinpad.simulator import PinPadSimulator
from drivers.serial_link import SerialLink


def test_noise_before_an_answer_is_skipped(pad: PinPadSetup) -> None:
    sim = pad.simulator
    assert sim is not None
    sim.faults.noise = b"\xff\x00\x99\x41\x03\x02"       # ends with a stray STX: a false frame start
    done = pad.service.info().wait(5)
    assert done.ok and done.result is not None and done.result.version.startswith("KMY")


@pytest.mark.parametrize("wire_form", ["binary", "ascii_hex"])
def test_wrong_bcc_in_an_answer_is_retried(make_pad: Callable[..., PinPadSetup], wire_form: str) -> None:
    setup = make_pad(wire_form=wire_form)
    sim = setup.simulator
    assert sim is not None
    before = sim.received.count(kmy.CMD_VERSION)
    sim.faults.corrupt_next = 1
    done = setup.service.info().wait(5)
    assert done.ok
    assert sim.received.count(kmy.CMD_VERSION) == before + 2      # sent again after the bad frame


def test_nak_is_retried_then_a_typed_error(pad: PinPadSetup) -> None:
    sim = pad.simulator
    assert sim is not None
    sim.faults.nak_next = 1
    assert pad.service.info().wait(5).ok
    sim.faults.nak_next = 10
    done = pad.service.info().wait(5)
    assert done.code is CompletionCode.HARDWARE_ERROR and done.error_code == "nak"
    sim.faults.nak_next = 0


def test_silence_is_retried_then_no_answer(pad: PinPadSetup) -> None:
    sim = pad.simulator
    assert sim is not None
    sim.faults.drop_next = 1
    assert pad.service.info().wait(5).ok
    sim.faults.drop_next = 10
    done = pad.service.info().wait(8)
    assert done.code is CompletionCode.HARDWARE_ERROR and done.error_code == "noAnswer"
    assert "failed after 3 tries" in done.detail
    sim.faults.drop_next = 0
    assert pad.service.info().wait(5).ok            # and the pad is usable again


@pytest.mark.parametrize(("status", "code", "error_code"), [
    (0x15, CompletionCode.INVALID_DATA, "badParameter"),
    (0xA4, CompletionCode.COMMAND_ERROR, "masterKeyInvalid"),
    (0xB5, CompletionCode.COMMAND_ERROR, "masterKeyInvalid"),
    (0xE0, CompletionCode.UNSUPPORTED, "invalidCommand"),
    (0xF3, CompletionCode.HARDWARE_ERROR, "selfTestFailed"),
    (0x99, CompletionCode.HARDWARE_ERROR, "unknownStatus"),
])
def test_error_statuses_become_typed_errors(pad: PinPadSetup, status: int, code: CompletionCode,
                                            error_code: str) -> None:
    pad.simulator.faults.next_status = status  # type: ignore[union-attr]
    done = pad.service.info().wait(5)
    assert done.code is code and done.error_code == error_code
    assert f"{status:02X}h" in done.detail or error_code == "badParameter"


def test_slow_pad_within_the_answer_timeout_still_works(make_pad: Callable[..., PinPadSetup]) -> None:
    setup = make_pad(answer_timeout_s=0.5)
    setup.simulator.faults.delay_s = 0.15  # type: ignore[union-attr]
    setup.simulator.faults.byte_time_s = 10 / 9600  # type: ignore[union-attr]
    started = time.monotonic()
    assert setup.service.info().wait(5).ok
    assert time.monotonic() - started >= 0.3     # two answers, each delayed
    setup.simulator.faults.delay_s = 0.0  # type: ignore[union-attr]


def test_unknown_command_answer_e0(pad: PinPadSetup) -> None:
    # 41h (MAC) is not implemented by the simulator: the protocol layer maps E0h to UNSUPPORTED.
    def body(ctx, proto):  # type: ignore[no-untyped-def]
        return proto.exchange(0x41, b"\x00")
    done = pad.service._submit("mac", body, 3).wait(5)
    assert done.code is CompletionCode.UNSUPPORTED and done.error_code == "invalidCommand"


@pytest.fixture
def raw_pad() -> Iterator[tuple[PinPadSimulator, kmy.KmyProtocol]]:
    """The protocol module alone over the pty (no driver thread), for pad-initiated events."""
    sim = PinPadSimulator()
    sim.provision_master_key("sm4", MASTER["sm4"])
    link = SerialLink(sim.start())
    yield sim, kmy.KmyProtocol(link, kmy.KmySettings(answer_timeout_s=0.3))
    link.close()
    sim.stop()


def test_pad_side_entry_timeout_frame_raises_pad_timeout(raw_pad: tuple[PinPadSimulator, kmy.KmyProtocol]) -> None:
    sim, proto = raw_pad
    proto.load_work_key("sm4", 0, 1, wrapped_work_key("sm4"))
    proto.set_card_number("020011223344")
    proto.activate_work_key("sm4", 0, 1)
    proto.begin_pin_entry(6, 6, False, 1)
    sim.press("1")
    first = None
    end = time.monotonic() + 3
    with pytest.raises(PinPadError) as info:
        while time.monotonic() < end:
            key = proto.next_key(lambda: None)
            first = first or key
    assert info.value.pad_error is PinPadErrorCode.PAD_TIMEOUT
    assert first is not None and first.kind is KeyKind.DIGIT_HIDDEN
    # The PIN was discarded: no block can be read.
    with pytest.raises(PinPadError) as info:
        proto.read_pin_block("sm4")
    assert info.value.pad_error is PinPadErrorCode.BAD_PARAMETER


def test_pin_block_is_read_only_once(raw_pad: tuple[PinPadSimulator, kmy.KmyProtocol]) -> None:
    sim, proto = raw_pad
    proto.load_work_key("sm4", 0, 1, wrapped_work_key("sm4"))
    proto.configure("sm4", PinBlockFormat.ISO0)
    proto.set_card_number("020011223344")
    proto.activate_work_key("sm4", 0, 1)
    proto.begin_pin_entry(6, 6, True, 5)
    sim.type_keys("123456")
    keys = []
    end = time.monotonic() + 3
    while len(keys) < 7 and time.monotonic() < end:
        key = proto.next_key(lambda: None)
        if key:
            keys.append(key.kind)
    assert keys == [KeyKind.DIGIT_HIDDEN] * 6 + [KeyKind.ENTER]
    assert len(proto.read_pin_block("sm4")) == 16
    with pytest.raises(PinPadError):
        proto.read_pin_block("sm4")


def test_port_is_opened_exclusively(raw_pad: tuple[PinPadSimulator, kmy.KmyProtocol]) -> None:
    sim, _proto = raw_pad
    with pytest.raises(PortGone, match="cannot open"):
        SerialLink(sim.link_path)


def test_unplug_goes_offline_and_replug_reconnects(make_pad: Callable[..., PinPadSetup]) -> None:
    setup = make_pad(reconnect_max_backoff_s=0.4)
    sim, service = setup.simulator, setup.service
    assert sim is not None
    assert service.load_work_key("pin", wrapped_work_key("sm4"), work_kcv("sm4")).wait(5).ok
    statuses: list[DeviceStatus] = []
    service.subscribe(lambda e: statuses.append(e.new) if isinstance(e, StatusChanged) else None)

    sim.unplug()
    assert not os.path.exists(sim.link_path)
    end = time.monotonic() + 3
    while service.status is not DeviceStatus.OFFLINE:
        assert time.monotonic() < end, "vanished port not noticed"
        time.sleep(0.02)
    done = service.info().wait(5)
    assert done.code is CompletionCode.HARDWARE_ERROR and done.error_code == "offline"

    time.sleep(0.6)                               # a few failed reconnects (backoff)
    sim.replug()
    assert service.wait_online(5), f"no reconnect: {service.status_detail}"
    assert statuses[:2] == [DeviceStatus.OFFLINE, DeviceStatus.ONLINE]
    assert service.reconnects >= 1
    # Re-initialised (reset, version, settings) and the pad kept its keys: a PIN entry works.
    handle = service.start_pin_entry(PAN, timeout_s=5)
    end = time.monotonic() + 3
    while sim.entry_mode != "pin":
        assert time.monotonic() < end
        time.sleep(0.005)
    sim.type_keys("123456")
    sim.press("enter")
    assert handle.wait(6).ok


def test_unplug_during_pin_entry_ends_it_with_port_gone(pad: PinPadSetup) -> None:
    sim = pad.simulator
    assert sim is not None
    events: list[DeviceEvent] = []
    handle = pad.service.start_pin_entry(PAN, timeout_s=5).on_event(events.append)
    end = time.monotonic() + 3
    while sim.entry_mode != "pin":
        assert time.monotonic() < end
        time.sleep(0.005)
    sim.type_keys("12")
    time.sleep(0.1)
    sim.unplug()
    done = handle.wait(6)
    assert done.code is CompletionCode.HARDWARE_ERROR and done.error_code == "portGone"
    assert pad.service.status is DeviceStatus.OFFLINE
    sim.replug()
    assert pad.service.wait_online(5)


def test_start_with_no_port_stays_offline_then_connects(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from drivers.pinpad.factory import create_pinpad
    link = str(tmp_path / "epp")
    setup = create_pinpad(backend="serial", port=link, reconnect_max_backoff_s=0.3, answer_timeout_s=0.25)
    sim = PinPadSimulator(link)
    try:
        time.sleep(0.3)
        assert setup.service.status is DeviceStatus.OFFLINE
        sim.start()
        assert setup.service.wait_online(5), setup.service.status_detail
    finally:
        setup.close()
        sim.stop()


def test_a_pad_failing_its_self_test_is_a_hardware_error_until_it_recovers(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from drivers.pinpad.factory import create_pinpad
    link = str(tmp_path / "epp")
    sim = PinPadSimulator(link)
    sim.start()
    sim.faults.next_status = 0xF2           # the reset at connect answers a self-test error
    setup = create_pinpad(backend="serial", port=link, reconnect_max_backoff_s=0.3, answer_timeout_s=0.25)
    try:
        end = time.monotonic() + 3
        while setup.service.status is not DeviceStatus.HARDWARE_ERROR:
            assert time.monotonic() < end, setup.service.status
            time.sleep(0.01)
        assert "F2h" in setup.service.status_detail
        assert setup.service.wait_online(5)  # the next attempt succeeds
    finally:
        setup.close()
        sim.stop()
