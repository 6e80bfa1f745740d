"""Fixtures for the shell tests: a real SessionCore on a controllable clock, the real window
(offscreen), and the real voice (the committed pack) with a recording sink instead of a loudspeaker."""

from __future__ import annotations

import dataclasses
import shutil

import pytest
from PySide6.QtWidgets import QApplication
from shell_helpers import FakeClock

from kiosk import i18n
from kiosk.config import load_config
from kiosk.config.schema import KioskConfig
from kiosk.session import SessionCore
from ui.main import create_shell
from ui.voice import RecordingSink
from ui.window import KioskWindow


@pytest.fixture
def config() -> KioskConfig:
    base = load_config("demo")
    ui = dataclasses.replace(base.ui, voice=True, voice_engine="pack", hide_cursor=False,
                             idle_timeout_s=60, countdown_s=15, result_timeout_s=20)
    return dataclasses.replace(base, ui=ui)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def core(config: KioskConfig, clock: FakeClock, tmp_path) -> SessionCore:
    return SessionCore(config.ui.idle_timeout_s, config.ui.countdown_s,
                       result_timeout_s=config.ui.result_timeout_s, clock=clock,
                       marker_path=tmp_path / "visit-in-progress")


@pytest.fixture
def sink() -> RecordingSink:
    if shutil.which("espeak-ng") is None:
        pytest.fail("espeak-ng is missing: install the Debian package espeak-ng (scripts/setup.sh)")
    return RecordingSink()


@pytest.fixture
def make_window(qapp: QApplication, config: KioskConfig, core: SessionCore, sink: RecordingSink):
    windows: list[KioskWindow] = []

    def make(**kwargs) -> KioskWindow:
        window = create_shell(kwargs.pop("config", config), kwargs.pop("core", core), sink=sink, **kwargs)
        window.show_kiosk(fullscreen=False, hide_cursor=False, width=1920, height=1080)
        window.resize(1920, 1080)
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.shutdown()
        window.prompter.close()
        window.deleteLater()
    i18n.set_language("zh_CN")


@pytest.fixture
def window(make_window) -> KioskWindow:
    return make_window()
