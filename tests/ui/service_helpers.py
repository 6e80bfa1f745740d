"""Helpers for the end-to-end service tests of the shell (a unique name: several areas' helper
modules share one pytest session). The kiosk itself is the flow tests' demo kiosk
(tests/flows/flowhelpers.py: build_kiosk on the demo profile, real drivers against simulators)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

_FLOWS = str(Path(__file__).resolve().parents[1] / "flows")
if _FLOWS not in sys.path:
    sys.path.insert(0, _FLOWS)

from flowhelpers import (  # noqa: E402
    GOOD_PIN,
    LIVE,
    OTHER_PERSON,
    Kiosk,
    build,
    face_file,
    kiosk_with_templates,
    wait_until,
)
from PySide6.QtWidgets import QWidget  # noqa: E402
from shell_helpers import all_texts, visible_texts  # noqa: E402

from kiosk import i18n  # noqa: E402
from ui.bridge import DeviceBridge  # noqa: E402
from ui.flows import flow_factories  # noqa: E402
from ui.main import bridge_for_devices  # noqa: E402

__all__ = ["GOOD_PIN", "LIVE", "OTHER_PERSON", "Kiosk", "all_texts", "bridge_for", "build", "face_file",
           "flow_factories", "kiosk_with_templates", "screen_text", "sees", "visible_texts", "wait_until", "zh"]


def bridge_for(services: Any) -> DeviceBridge:
    return bridge_for_devices(services.devices)


def screen_text(window: QWidget) -> str:
    """Everything visible on the kiosk's screen now, as one string."""
    return "\n".join(visible_texts(window))


def sees(qtbot: Any, window: QWidget, *needles: str, timeout: float = 30.0) -> str:
    """Wait until every needle is on the screen; the screen's text, or what it showed instead."""
    try:
        qtbot.waitUntil(lambda: all(n in screen_text(window) for n in needles), timeout=int(timeout * 1000))
    except Exception:
        raise AssertionError(f"never saw {needles!r}; the screen shows:\n{screen_text(window)}") from None
    return screen_text(window)


def zh(msgid: str, **fmt: Any) -> str:
    """A message in the current language (the tests' default is Chinese), formatted if asked."""
    text = i18n._(msgid)
    return text.format(**fmt) if fmt else text
