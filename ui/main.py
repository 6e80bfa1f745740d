"""Start the kiosk's screen: ``kiosk`` / ``kiosk run [--windowed]`` end up in :func:`run`.

:func:`create_shell` builds the window around a SessionCore, an optional device bridge and the
service flows; :func:`run` owns the QApplication, theme, fonts, translations and the event loop.
The composition root (kiosk/app.py) may pass a ``services`` object with any of: ``session``
(SessionCore), ``bridge`` (DeviceBridge) or ``devices`` (name -> object with ``subscribe``), and
``flows`` (service key -> flow factory). With none of them the shell still runs: the home screen
works and each service says honestly that it cannot be used here yet.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import time
from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from kiosk import i18n
from kiosk.config import KioskConfig, resolve_path
from kiosk.logs import setup_logging
from kiosk.session import SessionCore
from ui import theme
from ui.bridge import DeviceBridge
from ui.operator import OperatorLock
from ui.services import FlowFactory
from ui.voice import Sink, VoicePrompter, make_prompter
from ui.window import KioskWindow

log = logging.getLogger(__name__)


def make_session(config: KioskConfig, clock: Any = time.monotonic) -> SessionCore:
    data_dir = resolve_path(config.kiosk.data_dir)
    return SessionCore(config.ui.idle_timeout_s, config.ui.countdown_s,
                       result_timeout_s=config.ui.result_timeout_s, clock=clock,
                       marker_path=data_dir / "visit-in-progress")


def apply_theme(app: QApplication, config: KioskConfig) -> None:
    theme.apply_font(app, config.ui.font_family)
    app.setStyleSheet(theme.style_sheet(config.ui.font_family))


def create_shell(config: KioskConfig, core: SessionCore, *, bridge: DeviceBridge | None = None,
                 flows: Mapping[str, FlowFactory] | None = None, prompter: VoicePrompter | None = None,
                 sink: Sink | None = None) -> KioskWindow:
    """The window, ready to show. A QApplication must exist. ``sink`` replaces the audio output
    (tests pass a RecordingSink); ``prompter`` replaces the whole voice."""
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        raise RuntimeError("create_shell needs a QApplication; create one first (ui.main.run does)")
    apply_theme(app, config)
    if prompter is None:
        prompter = make_prompter(config.ui.voice_engine, config.ui.voice, sink)
    lock = OperatorLock(config.ui.operator_max_failures, config.ui.operator_lockout_s)
    return KioskWindow(core, prompter, hotline=config.policy.hotline,
                       operator_secret_hash=config.ui.operator_secret_hash, operator_lock=lock,
                       bridge=bridge, flows=flows)


def _bridge_from(services: Any) -> DeviceBridge | None:
    bridge = getattr(services, "bridge", None)
    devices = getattr(services, "devices", None)
    if bridge is None and devices:
        bridge = bridge_for_devices(devices)
    return bridge


def bridge_for_devices(devices: Mapping[str, Any]) -> DeviceBridge:
    """The composition root names the card service "smartcard"; the shell asks for the citizen's
    reader (its events say "smartcard.citizen"), so the card service is attached under that name."""
    from ui.bridge import CITIZEN_CARD_READER

    bridge = DeviceBridge()
    for name, device in devices.items():
        bridge.attach(CITIZEN_CARD_READER if name == "smartcard" else name, device)
    return bridge


def _flows_from(services: Any, field: Any = None) -> Mapping[str, FlowFactory] | None:
    """``services.flows``: a FlowRunner (kiosk.app.KioskServices) -> the five services' factories;
    a mapping of key -> factory is used as given."""
    from kiosk.flows.base import FlowRunner

    flows = getattr(services, "flows", None)
    if isinstance(flows, FlowRunner):
        from ui.flows import flow_factories

        return flow_factories(services, field)
    return flows


def _start_field(config: KioskConfig, services: Any) -> Any:
    if config.kiosk.profile != "field" or getattr(services, "sync", None) is None:
        return None
    try:
        from kiosk.field.service import start_field

        return start_field(services)
    except Exception as exc:
        log.error("field part did not start", extra={"error": str(exc)})
        problems = getattr(services, "problems", None)
        if isinstance(problems, list):
            problems.append(f"field: {exc}")
        return None


def _close_quietly(part: Any) -> None:
    close = getattr(part, "close", None) or getattr(part, "stop", None)
    if callable(close):
        try:
            close()
        except Exception:
            log.exception("shutdown step failed")


def run(config: KioskConfig, args: argparse.Namespace, services: Any = None) -> int:
    started = time.monotonic()
    windowed = bool(getattr(args, "windowed", False))
    if services is None:        # nobody set logging up before us
        log_dir = resolve_path(config.logging.dir, resolve_path(config.kiosk.data_dir))
        setup_logging(log_dir, config.logging.level, config.logging.max_bytes, config.logging.backup_count)
    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "kiosk"])
    assert isinstance(app, QApplication)
    app.setApplicationName("sscard-kiosk")
    i18n.set_language(config.kiosk.language)

    owned = services is None
    if owned:
        from kiosk.app import build_kiosk

        services = build_kiosk(config)      # each part that cannot start is a problem, not a stop
    for problem in getattr(services, "problems", None) or []:
        log.error("kiosk part not available", extra={"problem": problem})
    field = _start_field(config, services)
    core = getattr(services, "session", None)
    if core is None:
        core = make_session(config)
    store = getattr(getattr(services, "sync", None), "store", None)
    if store is not None and owned:
        from kiosk.flows.registry import visit_end_recorder

        core.on_visit_end(visit_end_recorder(store))
    if owned or getattr(services, "session", None) is None:
        if core.recover_after_crash():
            log.warning("start-up after a crash: the unfinished visit was closed")
    bridge = _bridge_from(services)
    window = create_shell(config, core, bridge=bridge, flows=_flows_from(services, field))
    if services is not None:
        from ui.demo import status_lines

        window.operator.status = lambda: status_lines(services)   # sync, devices, parts not started
    if field is not None:
        from kiosk.app import data_path
        from ui.field_console import attach_field

        attach_field(window, field, config, data_path(config, "reports"), card=getattr(services, "card", None),
                     pinpad=getattr(services, "pinpad", None))
    if config.kiosk.profile == "demo" and getattr(services, "virtual_cards", None) is not None:
        from ui.demo import attach_demo

        window.demo_panel, _opener = attach_demo(window, services)
        from ui.idcard_demo import add_idcard_column

        add_idcard_column(window.demo_panel, services)
    from ui.idcard import attach_idcard

    attach_idcard(window, services)         # an ID card on the reader starts or identifies the visit
    # exit(), not quit(): Qt 6's quit() first asks every window to close, and the kiosk window
    # refuses to close for anyone but the operator, so quit() would do nothing.
    window.exit_requested.connect(lambda: app.exit(0))
    # SIGTERM/SIGINT (systemd stop, Ctrl+C in a dev terminal) end the loop cleanly; the timer lets
    # Python run its signal handlers while Qt's loop is in C++.
    previous = {sig: signal.signal(sig, lambda *_args: app.exit(0)) for sig in (signal.SIGTERM, signal.SIGINT)}
    wake = QTimer()
    wake.start(500)
    wake.timeout.connect(lambda: None)

    fullscreen = config.ui.fullscreen and not windowed
    window.show_kiosk(fullscreen=fullscreen, hide_cursor=config.ui.hide_cursor and not windowed,
                      width=config.ui.screen_width, height=config.ui.screen_height)
    QTimer.singleShot(0, lambda: log.info("kiosk screen ready", extra={
        "startup_ms": round((time.monotonic() - started) * 1000), "fullscreen": fullscreen,
        "voice": window.prompter.engine_name}))
    try:
        code = app.exec()
    finally:
        wake.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        window.shutdown()
        window.prompter.close()
        if bridge is not None:
            bridge.detach_all()
        if field is not None:
            app.removeEventFilter(getattr(window, "_field_parts", (None, None, None))[2])
            _close_quietly(field)
        if owned:
            services.close()
    log.info("kiosk screen closed", extra={"exit_code": code})
    return int(code)
