"""The headphone socket: the real evdev driver reading the kernel's input-event records from the
simulator's pseudo-terminal, exactly as it reads /dev/input/eventN."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path

import pytest
from waiting import wait_until

from drivers.api import DeviceStatus
from drivers.headphone.api import HeadphonesChanged
from drivers.headphone.evdev import EV_SW, EVENT, SW_HEADPHONE_INSERT, find_jack_device, headphone_records
from drivers.headphone.factory import HeadphoneSetup, create_headphone_jack


@pytest.fixture
def jack() -> Iterator[HeadphoneSetup]:
    setup = create_headphone_jack("simulator")
    try:
        assert setup.service is not None and setup.simulator is not None
        wait_until(lambda: setup.service.status is DeviceStatus.ONLINE, 5, "jack online")
        yield setup
    finally:
        setup.close()


def test_records_are_the_kernels_input_event_layout() -> None:
    data = headphone_records(True)
    assert len(data) == 2 * EVENT.size and EVENT.size == struct.calcsize("@llHHi")
    first = EVENT.unpack(data[:EVENT.size])
    assert first[2:] == (EV_SW, SW_HEADPHONE_INSERT, 1)


def test_plug_and_unplug_are_events_in_both_directions(jack: HeadphoneSetup) -> None:
    assert jack.service is not None and jack.simulator is not None
    events: list[HeadphonesChanged] = []
    jack.service.subscribe(lambda e: events.append(e) if isinstance(e, HeadphonesChanged) else None)
    assert jack.service.plugged is False                    # a socket starts public
    jack.simulator.plug()
    wait_until(lambda: jack.service.plugged, 5, "plugged")
    jack.simulator.unplug()
    wait_until(lambda: not jack.service.plugged, 5, "unplugged")
    assert [e.plugged for e in events] == [True, False]


def test_a_lost_socket_reads_as_unplugged(jack: HeadphoneSetup) -> None:
    """A sound card pulled out with headphones in must not leave the voice private."""
    assert jack.service is not None and jack.simulator is not None
    jack.simulator.plug()
    wait_until(lambda: jack.service.plugged, 5, "plugged")
    jack.simulator.remove()
    wait_until(lambda: jack.service.status is DeviceStatus.OFFLINE, 5, "offline")
    assert jack.service.plugged is False


def test_auto_finds_the_input_device_with_the_headphone_switch(tmp_path: Path) -> None:
    for name, bits in (("event3", "0"), ("event7", "14")):       # 0x14: SW_HEADPHONE_INSERT (2) and 4
        caps = tmp_path / name / "device" / "capabilities"
        caps.mkdir(parents=True)
        (caps / "sw").write_text(f"{bits}\n")
    assert find_jack_device(tmp_path) == "/dev/input/event7"
    assert find_jack_device(tmp_path / "none") is None


def test_an_unknown_backend_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="expected 'evdev', 'simulator' or 'none'"):
        create_headphone_jack("bluetooth")
