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
import threading
import time
from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from kiosk import i18n
from kiosk.config import KioskConfig, resolve_path
from kiosk.i18n import N_
from kiosk.logs import setup_logging
from kiosk.session import SessionCore
from ui import theme
from ui.bridge import DeviceBridge
from ui.operator import OperatorLock
from ui.services import FlowFactory
from ui.voice import Sink, VoicePrompter, make_prompter
from ui.window import KioskWindow

log = logging.getLogger(__name__)

STARTING = N_("The kiosk is starting. One moment, please.")


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
    from ui import dispatch

    dispatch.ensure()                   # on the UI thread, before any flow thread posts to it
    if prompter is None:
        prompter = make_prompter(config.ui.voice_engine, config.ui.voice, sink, hotline=config.policy.hotline,
                                 pack_dir=resolve_path(config.ui.voice_pack_dir), audio_device=config.ui.audio_device,
                                 private_audio_device=config.ui.headphone_audio_device)
    lock = OperatorLock(config.ui.operator_max_failures, config.ui.operator_lockout_s)
    return KioskWindow(core, prompter, hotline=config.policy.hotline,
                       operator_secret_hash=config.ui.operator_secret_hash, operator_lock=lock,
                       bridge=bridge, flows=flows, take_card_s=config.ui.take_card_s,
                       retain_left_card=config.ui.retain_left_card, private_audio=config.ui.private_audio,
                       eyes_free=config.ui.eyes_free)


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
    core = getattr(services, "session", None) if services is not None else None
    if core is None:
        core = make_session(config)
    window = create_shell(config, core)
    parts: dict[str, Any] = {"services": services, "bridge": None, "field": None}
    from ui.appliance import ApplianceLink

    # systemd watchdog + run state (no-ops in a terminal); READY=1 once the parts are attached.
    appliance = ApplianceLink(core, services, wait_for_services=owned)

    def attach(built: Any) -> None:
        """UI thread: the kiosk's parts are up; wire them to the screen already shown."""
        parts["services"] = built
        for problem in getattr(built, "problems", None) or []:
            log.error("kiosk part not available", extra={"problem": problem})
        field = parts["field"] = _start_field(config, built)
        store = getattr(getattr(built, "sync", None), "store", None)
        if store is not None and owned:
            from kiosk.flows.registry import visit_end_recorder

            core.on_visit_end(visit_end_recorder(store))
        if owned or getattr(built, "session", None) is None:
            if core.recover_after_crash():
                log.warning("start-up after a crash: the unfinished visit was closed")
        bridge = parts["bridge"] = _bridge_from(built)
        window.attach_services(bridge, _flows_from(built, field))
        if built is not None:
            from ui.demo import status_lines

            window.operator.status = lambda: status_lines(built)   # sync, devices, parts not started
        if field is not None:
            from kiosk.app import data_path
            from ui.field_console import attach_field

            attach_field(window, field, config, data_path(config, "reports"), card=getattr(built, "card", None),
                         pinpad=getattr(built, "pinpad", None))
        if config.kiosk.profile == "demo" and getattr(built, "virtual_cards", None) is not None:
            from ui.demo import attach_demo

            window.demo_panel, _opener = attach_demo(window, built)
            from ui.idcard_demo import add_idcard_column

            add_idcard_column(window.demo_panel, built)
        from ui.idcard import attach_idcard

        attach_idcard(window, built)        # an ID card on the reader starts or identifies the visit
        if owned:
            appliance.attach(built)         # READY=1 and the health state only now (docs/deploy.md)
        log.info("kiosk services ready", extra={"ready_ms": round((time.monotonic() - started) * 1000)})

    builder: threading.Thread | None = None
    if owned:
        # The screen first (start-up to the attract screen, issue 19), the parts behind it: the
        # embedded backend, the card service, the pad and the face models take seconds to start.
        # build_kiosk has no Qt in it; its result is wired on the UI thread through the dispatcher.
        from ui import dispatch

        window.starting = True
        window.attract.set_notice(STARTING)

        def build() -> None:
            from kiosk.app import build_kiosk

            built = build_kiosk(config, session=core)  # each part that cannot start is a problem, not a stop
            parts["built"] = built
            dispatch.post(lambda: attach(built) if not parts.get("closing") else None)

        builder = threading.Thread(target=build, name="kiosk-start", daemon=True)
        builder.start()
    else:
        attach(services)
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
    appliance.start()
    QTimer.singleShot(0, lambda: log.info("kiosk screen ready", extra={
        "startup_ms": round((time.monotonic() - started) * 1000), "fullscreen": fullscreen,
        "voice": window.prompter.engine_name}))
    try:
        code = app.exec()
    finally:
        parts["closing"] = True
        wake.stop()
        appliance.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        window.shutdown()
        window.prompter.close()
        if builder is not None:
            builder.join()              # a stop during start-up: let the parts finish starting, then close them
        bridge, field = parts["bridge"], parts["field"]
        if bridge is not None:
            bridge.detach_all()
        if field is not None:
            app.removeEventFilter(getattr(window, "_field_parts", (None, None, None))[2])
            _close_quietly(field)
        if owned and parts.get("built") is not None:
            parts["built"].close()
    log.info("kiosk screen closed", extra={"exit_code": code})
    return int(code)
