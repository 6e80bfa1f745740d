"""kiosk doctor on the headphone socket: what it says for each way a kiosk may be set up."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from kiosk.config import load_config
from kiosk.doctor import Verdict
from kiosk.doctor.voice import headphones


def with_ui(**values: object):
    config = load_config("demo")
    return dataclasses.replace(config, ui=dataclasses.replace(config.ui, **values))


def test_doctor_reports_the_headphone_socket(tmp_path: Path) -> None:
    assert headphones(with_ui()).verdict is Verdict.OK and "simulated" in headphones(with_ui()).detail
    off = headphones(with_ui(headphone_jack="none"))
    assert off.verdict is Verdict.OK and "never says personal" in off.detail
    missing = headphones(with_ui(headphone_jack="evdev", headphone_jack_device=str(tmp_path / "event9")))
    assert missing.verdict is Verdict.WARN and "ui.headphone_jack_device" in missing.todo
    device = tmp_path / "event5"
    device.write_bytes(b"")
    found = headphones(with_ui(headphone_jack="evdev", headphone_jack_device=str(device)))
    assert found.verdict is Verdict.OK and str(device) in found.detail
