"""The kiosk's main window: screens in a stack, the top bar, the countdown, the operator corner.

It observes the SessionCore (ticked by a QTimer), routes device events from the bridge, starts
service flows, and at every end of a visit wipes every screen (see :meth:`KioskWindow.wipe`).
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import shiboken6
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QGuiApplication
from PySide6.QtWidgets import (
    QApplication,
    QLineEdit,
    QMainWindow,
    QPlainTextEdit,
    QStackedWidget,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from kiosk import i18n
from kiosk.card_custody import CardCustody
from kiosk.i18n import N_, _
from kiosk.identity import IdentitySource
from kiosk.messages.idcard import needs_for
from kiosk.session import EndReason, EventKind, SessionCore, SessionEvent, VisitState
from ui.bridge import CITIZEN_CARD_READER, DeviceBridge
from ui.eyes_free import EyesFreeNavigator
from ui.guard import KioskGuard
from ui.handback import CardHandback
from ui.host import FlowHost
from ui.operator import OperatorExit, OperatorLock
from ui.qt_compat import emit
from ui.screens.attract import AttractScreen
from ui.screens.error import ErrorScreen
from ui.screens.home import HomeScreen
from ui.screens.result import ResultScreen
from ui.services import FlowFactory, ServiceFlow, service
from ui.voice import VoicePrompter
from ui.widgets.common import Text
from ui.widgets.countdown import CountdownOverlay
from ui.widgets.error_panel import FINISH, GO_HOME, ErrorAction
from ui.widgets.step_layout import StepLayout
from ui.widgets.topbar import TopBar
from ui.widgets.voice_controls import VoiceControls

log = logging.getLogger(__name__)

TICK_MS = 250
NOT_AVAILABLE = N_("This service is not available on this kiosk yet.")
NO_CARD_READER = N_("The card reader of this kiosk is not working, so this service cannot be used here now.")
COUNTER_OR_HOTLINE = N_("Please go to a service counter with your ID card and social security card, "
                        "or call {hotline} for help.")
ENDED_NOTICE = {
    EndReason.TIMEOUT: N_("The last visit ended because there was no activity. Nothing was kept."),
    EndReason.CARD_REMOVED: N_("The card was removed, so the visit ended. Nothing was kept."),
}

# One i18n listener for every window: kiosk.i18n has no way to unregister, and a test run
# creates many windows, so dead ones are skipped here instead of being called.
_windows: weakref.WeakSet[KioskWindow] = weakref.WeakSet()
_listening = False


def _on_language(_language: str) -> None:
    for window in list(_windows):
        if shiboken6.isValid(window):
            window.retranslate()


class KioskWindow(QMainWindow):
    exit_requested = Signal()           # the operator exit was confirmed: the app should quit

    def __init__(self, core: SessionCore, prompter: VoicePrompter, *, hotline: str, operator_secret_hash: str,
                 operator_lock: OperatorLock, bridge: DeviceBridge | None = None,
                 flows: Mapping[str, FlowFactory] | None = None, take_card_s: float = 30.0,
                 retain_left_card: bool = False, private_audio: bool = True, eyes_free: bool = True) -> None:
        super().__init__()
        global _listening
        self.core = core
        self.prompter = prompter
        self.hotline = hotline
        self.bridge = bridge
        self.flows = dict(flows or {})
        self.flow: ServiceFlow | None = None
        self.history: list[str] = []
        self.relayout_hooks: list[Callable[[], None]] = []    # overlays placed over the window
        self._allow_close = False
        self._cursor_hidden = False
        self._end_reason: EndReason | None = None
        self.host = FlowHost(self)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.NoContextMenu)

        central = QWidget()
        central.setObjectName("screen")
        box = QVBoxLayout(central)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(0)
        self.topbar = TopBar()
        self.stack = QStackedWidget()
        box.addWidget(self.topbar)
        box.addWidget(self.stack, 1)
        self.setCentralWidget(central)

        self.attract = AttractScreen()
        self.home = HomeScreen()
        self.step = StepLayout(hotline)
        self.result = ResultScreen()
        self.error = ErrorScreen(hotline)
        self.pages: dict[str, QWidget] = {"attract": self.attract, "home": self.home, "step": self.step,
                                          "result": self.result, "error": self.error}
        for page in self.pages.values():
            self.stack.addWidget(page)
        self.countdown = CountdownOverlay(central)
        self.operator = OperatorExit(self, operator_secret_hash, operator_lock)
        self.operator.exit_confirmed.connect(self._operator_exit)

        self.attract.touched.connect(self._attract_touched)
        self.attract.ecard_requested.connect(self._ecard_requested)
        self.attract.set_ecard_available("ecard_signin" in self.flows)
        self.home.service_chosen.connect(self.start_service)
        self.home.finish_requested.connect(lambda: self.core.end_visit(EndReason.FINISHED))
        self.step.back_requested.connect(self._step_back)
        self.step.cancel_requested.connect(self.go_home)
        self.step.prompt_changed.connect(self._step_prompt_changed)
        self.result.home_requested.connect(self.go_home)
        self.result.finish_requested.connect(lambda: self.core.end_visit(EndReason.FINISHED))
        self.error.home_requested.connect(self.go_home)
        self.countdown.continue_requested.connect(self.core.touch)
        self.topbar.language_toggled.connect(self.toggle_language)
        self.topbar.mute_toggled.connect(lambda: self.prompter.set_muted(not self.prompter.muted))
        # Repeat / volume / speed beside mute, on every screen (docs/voice.md).
        self.voice_controls = VoiceControls(self.prompter, self.speak_current)
        self.topbar.layout().insertWidget(2, self.voice_controls)
        self.prompter.muted_changed.connect(self.topbar.set_muted)
        # Headphones: private audio and the eyes-free visit with the pad's keys (ui/eyes_free.py).
        self.eyes_free = EyesFreeNavigator(self, private_audio=private_audio, eyes_free=eyes_free)
        # Card hand-back (ui/handback.py): only with a citizen card reader.
        self.handback: CardHandback | None = None
        self._take_card_s, self._retain_left_card = take_card_s, retain_left_card
        self.starting = False           # ui.main.run: the screen is up, the kiosk's parts still starting
        if bridge is not None:
            self._wire_bridge(bridge)

        # Every press, touch or key anywhere restarts the idle timer; shortcuts out are swallowed.
        self.guard = KioskGuard(self.core.touch, self)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self.guard)
        # The core may outlive this window (the composition root's session): a closed or deleted
        # window stops listening instead of touching dead widgets.
        self._released = False
        ref = weakref.ref(self)

        def observe(event: SessionEvent) -> None:
            window = ref()
            if window is not None and not window._released and shiboken6.isValid(window):
                window._on_session_event(event)

        core.subscribe(observe)
        self.timer = QTimer(self)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self.core.tick)
        self.timer.timeout.connect(self._tick_handback)
        self.timer.start()

        _windows.add(self)
        if not _listening:
            i18n.on_language_changed(_on_language)
            _listening = True
        self.show_page(self.handback.page_after_wipe() if self.handback is not None else "attract", remember=False)

    # -- pages ------------------------------------------------------------------------------------
    @property
    def current_page(self) -> str:
        current = self.stack.currentWidget()
        return next(name for name, page in self.pages.items() if page is current)

    def show_page(self, name: str, *, remember: bool = True) -> None:
        page = self.pages[name]
        if remember and self.stack.currentWidget() is not page:
            self.history.append(self.current_page)
        self.stack.setCurrentWidget(page)
        self.speak_current()

    def speak_current(self) -> None:
        if self.countdown.isVisible():
            text = self.countdown.prompt()
        else:
            text = self.stack.currentWidget().prompt()  # type: ignore[attr-defined]
            progress = getattr(self.step, "progress_label", None)
            if self.stack.currentWidget() is self.step and not self.step.showing_error and progress is not None \
                    and progress.text():
                text = f"{progress.text()} {text}"      # the step count is spoken too ("第二步，共三步")
            if self.prompter.private and self.stack.currentWidget() is self.result:
                text = f"{text} {self.result.details_text()}"     # headphones only (docs/voice.md)
            text = self.eyes_free.spoken_text(text)
        self.prompter.say(text, i18n.language())

    def _step_prompt_changed(self) -> None:
        if self.stack.currentWidget() is self.step:
            self.speak_current()

    def show_error(self, what_happened: Text, what_to_do: Text, actions: Sequence[ErrorAction] = ()) -> None:
        fallback = ErrorAction(FINISH, lambda: self.core.end_visit(EndReason.FINISHED))
        self.error.show_error(what_happened, what_to_do, actions, fallback)
        self.show_page("error")

    def retranslate(self) -> None:
        self.topbar.retranslate()
        self.voice_controls.retranslate()
        for page in self.pages.values():
            page.retranslate()  # type: ignore[attr-defined]
        self.countdown.retranslate()
        self.operator.retranslate()
        self.setWindowTitle(_("Social Security Card Self-Service"))
        self.speak_current()

    def toggle_language(self) -> None:
        i18n.set_language("en" if i18n.language() == "zh_CN" else "zh_CN")

    # -- services ---------------------------------------------------------------------------------
    def start_service(self, key: str, **options: Any) -> None:
        """``options`` go to the flow (e.g. ``id_number`` of a person staff picked from the roster)."""
        spec = service(key)
        self.core.choose_service(key)
        factory = self.flows.get(key)
        counter = lambda: _(COUNTER_OR_HOTLINE).format(hotline=self.hotline)  # noqa: E731
        actions = [ErrorAction(GO_HOME, self.go_home), self.host.finish_action()]
        if factory is None:
            self.show_error(NOT_AVAILABLE, counter, actions)
            return
        if not self.core.allows(key):       # the session decides what this visit's identity opens
            self.show_error(*needs_for(key), actions)
            return
        if spec.needs_card and not self._ecard_visit() and \
                (self.bridge is None or not self.bridge.has(CITIZEN_CARD_READER)):
            self.show_error(NO_CARD_READER, counter, actions)
            return
        self.flow = factory(self.host, **options) if options else factory(self.host)
        self.flow.start()

    def _ecard_visit(self) -> bool:
        """An e-card visit: the services it may use (``[ecard] visit_services``, checked by the
        session above) are served from the signed-in identity, without the card reader."""
        identity = self.core.identity
        return identity is not None and identity.source is IdentitySource.E_CARD

    def _stop_flow(self) -> None:
        flow, self.flow = self.flow, None
        if flow is not None:
            try:
                flow.stop()
            except Exception:
                log.exception("flow failed to stop")

    def go_home(self) -> None:
        """Leave the service (the visit and the card stay): its screens are cleared."""
        self._stop_flow()
        self.step.reset()
        self.result.reset()
        self.error.reset()
        if self.core.visit is not None:
            self.core.back_home()       # emits STATE HOME -> the home page
        else:
            self.show_page("attract", remember=False)

    def _wire_bridge(self, bridge: DeviceBridge) -> None:
        bridge.media_inserted.connect(self._media_inserted)
        bridge.media_removed.connect(self._media_removed)
        self.eyes_free.attach(bridge)
        if bridge.has(CITIZEN_CARD_READER):
            self.handback = CardHandback(self, CardCustody(self._take_card_s, retain=self._retain_left_card,
                                                           clock=self.core.clock))

    def _tick_handback(self) -> None:
        if self.handback is not None:
            self.handback.tick()

    def attach_services(self, bridge: DeviceBridge | None, flows: Mapping[str, FlowFactory] | None) -> None:
        """The kiosk's parts are up (ui.main.run builds them after the screen is shown)."""
        self.bridge = bridge
        self.flows = dict(flows or {})
        self.attract.set_ecard_available("ecard_signin" in self.flows)
        if bridge is not None:
            self._wire_bridge(bridge)
        self.starting = False
        if self.core.visit is None and self.current_page == "attract":
            self.attract.set_notice(None)
            self.show_page(self.handback.page_after_wipe() if self.handback is not None else "attract",
                           remember=False)

    def _attract_touched(self) -> None:
        if self.starting:
            return                              # the services are not up yet: the notice says so
        if self.core.visit is None and self.handback is not None and self.handback.refuse_touch():
            return                              # a card nobody may use is in the reader
        if self.core.visit is None:
            self.core.start_visit("touch")      # -> STATE HOME -> the home page
        else:
            self.go_home()                      # defensive: a visit without its screen

    def _ecard_requested(self) -> None:
        """The citizen has only the phone: a visit starts with the e-card sign-in."""
        if self.starting:
            return
        if self.core.visit is None and self.handback is not None and self.handback.refuse_touch():
            return                              # a card nobody may use is in the reader
        if self.core.visit is None:
            self.core.start_visit("ecard")
        self.start_service("ecard_signin")

    def _step_back(self) -> None:
        back = getattr(self.flow, "back", None)
        if callable(back):
            back()
        else:
            self.go_home()

    # -- session events ---------------------------------------------------------------------------
    def _on_session_event(self, event: SessionEvent) -> None:
        if event.kind is EventKind.STATE:
            if event.state in (VisitState.HOME, VisitState.CARD_PRESENT):
                self.attract.set_notice(None)
                self.home.set_card_present(event.state is VisitState.CARD_PRESENT)
                if self.stack.currentWidget() is not self.home:
                    self.history.clear()        # home is the root of a visit: no way "back" past it
                    self.show_page("home", remember=False)
        elif event.kind is EventKind.COUNTDOWN:
            first = not self.countdown.isVisible()
            self.countdown.show_seconds(event.countdown or 0)
            self.operator.corner.raise_()
            if first:
                self.speak_current()
        elif event.kind is EventKind.COUNTDOWN_CLEARED:
            self.countdown.clear()
            self.prompter.stop()
        elif event.kind is EventKind.ENDED:
            self._end_reason = event.reason
            self._stop_flow()
            if self.handback is not None:
                self.handback.visit_ended()
        elif event.kind is EventKind.WIPED:
            self.wipe()

    def wipe(self) -> None:
        """Every end of a visit: nothing personal may survive on screen or in the history."""
        self.prompter.stop()            # do not finish saying a sentence that held personal data
        self.prompter.end_visit()       # mute, volume and speed were this visit's choice only
        for page in self.pages.values():
            page.reset()  # type: ignore[attr-defined]
        self.countdown.clear()
        for edit in self.findChildren(QLineEdit):
            edit.setText("")            # setText also drops the undo history
        for edit in self.findChildren(QTextEdit) + self.findChildren(QPlainTextEdit):
            edit.clear()
        clipboard = QGuiApplication.clipboard()
        if clipboard is not None:
            clipboard.clear()
        self.history.clear()
        notice = ENDED_NOTICE.get(self._end_reason) if self._end_reason else None
        self.attract.set_notice(notice)
        self._end_reason = None
        self.show_page(self.handback.page_after_wipe() if self.handback is not None else "attract", remember=False)

    # -- devices ----------------------------------------------------------------------------------
    def _media_inserted(self, device: str) -> None:
        if device == CITIZEN_CARD_READER:
            if self.handback is not None and not self.handback.inserted():
                return                          # not seen going in: never used (ui/handback.py)
            self.core.card_inserted()

    def _media_removed(self, device: str) -> None:
        if device == CITIZEN_CARD_READER:
            if self.handback is not None:
                self.handback.removed()         # first: a visit ending now has no card to hand back
            self.core.card_removed()

    # -- kiosk hardening --------------------------------------------------------------------------
    def show_kiosk(self, *, fullscreen: bool, hide_cursor: bool, width: int, height: int) -> None:
        if hide_cursor:
            QApplication.setOverrideCursor(Qt.CursorShape.BlankCursor)
            self._cursor_hidden = True
        if fullscreen:
            self.setWindowFlags(Qt.WindowType.Window | Qt.WindowType.FramelessWindowHint
                                | Qt.WindowType.WindowStaysOnTopHint)
            # Kiosks often run with no window manager, which is what honours "fullscreen":
            # cover the screen ourselves as well.
            screen = QGuiApplication.primaryScreen()
            if screen is not None:
                self.setGeometry(screen.geometry())
            self.showFullScreen()
        else:
            screen = QGuiApplication.primaryScreen()
            available = screen.availableGeometry() if screen else None
            if available is not None:
                width, height = min(width, available.width()), min(height, available.height())
            self.resize(width, height)
            self.show()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.operator.corner.move(0, 0)
        self.operator.corner.raise_()
        for hook in self.relayout_hooks:
            hook()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._allow_close:
            self._release()
            event.accept()
        else:
            event.ignore()              # Alt+F4 from a window manager, or anything else

    def _operator_exit(self) -> None:
        log.warning("kiosk closed by the operator")
        self.core.end_visit(EndReason.OPERATOR)
        self._allow_close = True
        emit(self.exit_requested)
        self.close()

    def shutdown(self) -> None:
        """For tests and the composition root: close without the operator dialog."""
        self._allow_close = True
        self.prompter.stop()
        self.close()

    def _release(self) -> None:
        self._released = True
        self.timer.stop()
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self.guard)
            if self._cursor_hidden:
                QApplication.restoreOverrideCursor()
                self._cursor_hidden = False
