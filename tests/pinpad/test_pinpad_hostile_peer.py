"""The pad's timings agree with each other and the docs, and a hostile peer cannot make the driver
take something else for an answer: silence, floods, unsolicited frames (a key sent as a frame,
the pad's own 80h status) before or right behind the real answer."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from drivers.api import CompletionCode
from drivers.pinpad import kmy
from drivers.pinpad.factory import PinPadSetup, create_pinpad
from drivers.pinpad.timing import timing_problem
from kiosk.config import ConfigError, load_config
from kiosk.config.schema import PinpadSection


def _frame(sim, status: int, data: bytes = b"") -> bytes:  # type: ignore[no-untyped-def]
    return kmy.encode_frame(status, data, sim.wire_form, sim.send_etx)


def test_the_default_timings_are_consistent_and_the_docs_say_them() -> None:
    section = PinpadSection()
    assert timing_problem(section.command_timeout_s, section.answer_timeout_s, section.retries) is None
    docs = (Path(__file__).resolve().parents[2] / "docs" / "pinpad-protocol.md").read_text()
    assert f"`command_timeout_s` = {section.command_timeout_s:.1f} s" in docs
    assert f"`answer_timeout_s` = {section.answer_timeout_s:.1f} s" in docs
    assert f"`retries` = {section.retries} ({section.retries + 1} tries in all)" in docs


def test_inconsistent_timings_are_refused_at_configuration_load(tmp_path: Path) -> None:
    site = tmp_path / "site.toml"
    site.write_text("[pinpad]\ncommand_timeout_s = 2.0\nanswer_timeout_s = 1.0\nretries = 2\n")
    with pytest.raises(ConfigError) as err:
        load_config("demo", site, environ={})
    assert err.value.key == "pinpad.command_timeout_s"
    assert "3 tries" in err.value.problem and "timeOut" in err.value.problem
    with pytest.raises(ValueError, match="PIN pad timing"):
        create_pinpad(backend="simulator", command_timeout_s=2.0, answer_timeout_s=1.0, retries=2, start=False)


def test_silence_with_the_default_settings_is_no_answer_after_every_try(make_pad: Callable[..., PinPadSetup]) -> None:
    section = PinpadSection()
    setup = make_pad(command_timeout_s=section.command_timeout_s, answer_timeout_s=section.answer_timeout_s,
                     retries=section.retries)
    sim = setup.simulator
    assert sim is not None
    before = sim.received.count(kmy.CMD_VERSION)
    sim.faults.drop_next = 10
    done = setup.service.info().wait(section.command_timeout_s + 3)
    sim.faults.drop_next = 0
    assert done.code is CompletionCode.HARDWARE_ERROR and done.error_code == "noAnswer", done
    assert sim.received.count(kmy.CMD_VERSION) - before == section.retries + 1


@pytest.mark.parametrize("frame", ["key", "digit", "entry_timeout"])
def test_an_unsolicited_frame_right_before_the_answer_is_never_the_answer(pad: PinPadSetup, frame: str) -> None:
    sim = pad.simulator
    assert sim is not None
    status = {"key": 0x2A, "digit": ord("7"), "entry_timeout": kmy.ST_TIMEOUT}[frame]
    sim.faults.noise = _frame(sim, status)              # written just before the real answer
    done = pad.service.info().wait(5)
    assert done.ok and done.result is not None and done.result.version == sim.version, done
    assert sim.faults.noise == b""


def test_frames_that_arrived_before_the_command_are_set_aside(pad: PinPadSetup) -> None:
    sim = pad.simulator
    assert sim is not None
    os.write(sim._master_fd, _frame(sim, 0x2A) + _frame(sim, kmy.ST_OK, b"KMY-FAKE"))  # type: ignore[arg-type]
    time.sleep(0.05)
    done = pad.service.info().wait(5)
    assert done.ok and done.result is not None and done.result.version == sim.version, done


def test_a_flood_of_junk_and_key_frames_before_the_answer_does_not_derail_it(pad: PinPadSetup) -> None:
    sim = pad.simulator
    assert sim is not None
    flood = bytes(range(0x40, 0x80)) * 32 + _frame(sim, 0x2A) * 200 + _frame(sim, kmy.ST_TIMEOUT) * 20
    sim.faults.noise = flood
    started = time.monotonic()
    done = pad.service.info().wait(5)
    assert done.ok and done.result is not None and done.result.version == sim.version, done
    assert time.monotonic() - started < 2.0
    assert pad.service.info().wait(5).ok                # nothing left over that a later command takes
