"""Demo profile: the operator panel for simulated devices, and the operator status view.

The panel inserts or removes a virtual card (normal, initial PIN 123456, locked, 2nd-generation),
presses the simulated PIN pad's keys, and shows the status of sync and devices (the same status
view is useful on every profile). It says plainly that the devices are simulated.
"""

from __future__ import annotations

import logging
from typing import Any

import shiboken6
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QFrame, QGridLayout, QHBoxLayout, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from kiosk.i18n import N_, _
from ui import theme
from ui.widgets.common import button, label

log = logging.getLogger(__name__)

DEMO = N_("Demo: simulated devices")
SIMULATED = N_("Demonstration kiosk: the card reader, PIN pad and camera are simulated.")
CARDS = N_("Insert a card")
NORMAL = N_("Normal card (PIN 147258)")
INITIAL = N_("Card with initial PIN 123456")
LOCKED = N_("Locked card")
SECOND_GEN = N_("2nd-gen card (PIN 147258)")
REMOVE = N_("Remove the card")
KEYS = N_("PIN pad keys")
CLOSE = N_("Close")
STATUS = N_("Status")
SYNC_LINE = N_("Sync: {state}, {queued} waiting, oldest {age}, {dead} failed for good")
LAST_ERROR = N_("Last sync error: {error}")
NO_PROBLEMS = N_("All parts started.")
PHONE = N_("Demo phone: the latest text message")
NO_SMS = N_("No text message yet.")
PLUG_HEADPHONES = N_("Plug headphones in")       # private audio (docs/voice.md); in voice.po
UNPLUG_HEADPHONES = N_("Pull headphones out")
FACES_READY = N_("The demo camera's face is registered for the demo people.")
DEMO_PIN = "147258"
SYNC_STATES = {"idle": N_("all sent"), "sending": N_("sending"), "waiting_retry": N_("waiting to retry"),
               "stopped": N_("stopped")}
# Holders known to the embedded backend's demo seed (backend/demo_seed.json).
DEMO_HOLDERS = {"normal": ("张建明", "440106195203154324"), "initial": ("王小红", "440103196507089010"),
                "second_gen": ("李秀英", "440104194811026548")}

PAD_KEYS = [["1", "2", "3"], ["4", "5", "6"], ["7", "8", "9"], ["clear", "0", "backspace"], ["cancel", "enter"]]


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return f"{int(seconds // 60)} min" if seconds >= 60 else f"{int(seconds)} s"


# Device names and statuses in words, never the raw "smartcard: noMedia".
DEVICE_NAMES = {"smartcard": N_("Card reader"), "pinpad": N_("PIN pad"), "camera": N_("Camera"),
                "idcard": N_("ID card reader"), "headphones": N_("Headphone socket")}   # the last: voice.po
STATUS_WORDS = {
    "online": N_("working"), "offline": N_("not connected"), "noDevice": N_("not found"),
    "noMedia": N_("working, no card"), "serviceDown": N_("card service not running"),
    "hardwareError": N_("hardware fault"), "userError": N_("wrong use"), "busy": N_("busy"),
    "fraudAttempt": N_("tampering suspected"),
}


def device_status_words(status: Any) -> str:
    value = str(getattr(status, "value", status))
    return _(STATUS_WORDS[value]) if value in STATUS_WORDS else value


def status_lines(services: Any, *, compact: bool = False) -> list[str]:
    """Operator status: sync state, device statuses, the parts that did not start. ``compact`` (the
    demo panel's narrow column) leaves out the "all parts started" line when nothing is wrong."""
    lines: list[str] = []
    sync = getattr(services, "sync", None)
    worker = getattr(sync, "worker", None)
    if worker is not None:
        try:
            snap = worker.snapshot()
            state = _(SYNC_STATES[snap.state]) if snap.state in SYNC_STATES else snap.state
            lines.append(_(SYNC_LINE).format(state=state, queued=snap.queued,
                                             age=_age(snap.oldest_unsent_age_s), dead=snap.dead_count))
            if snap.last_error:
                lines.append(_(LAST_ERROR).format(error=snap.last_error))
            # Refused records with the bureau's reason (names a field, never a value).
            lines += [f"{theme.ICON_WARNING} #{d.seq} {d.type}: {d.reason[:160]}" for d in snap.dead_letters[:3]]
        except Exception as exc:        # the status view must never take the kiosk down
            lines.append(f"sync: {exc}")
    devices = [f"{_(DEVICE_NAMES.get(name, name))}：{device_status_words(getattr(d, 'status', None))}"
               for name, d in (getattr(services, "devices", None) or {}).items()]
    if devices:
        lines.append(" · ".join(devices))
    problems = list(getattr(services, "problems", None) or [])
    lines += [f"{theme.ICON_WARNING} {p}" for p in problems] or ([] if compact else [_(NO_PROBLEMS)])
    return lines


class DemoPanel(QFrame):
    """An overlay over the kiosk window (the citizen's screen stays behind it)."""

    opened = Signal()
    closed = Signal()

    def __init__(self, services: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.setObjectName("demoPanel")
        self.setStyleSheet(f"QFrame#demoPanel {{ background: {theme.SURFACE}; border: 4px solid {theme.PRIMARY};"
                           " border-radius: 16px; }")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(32, 24, 32, 24)
        layout.setSpacing(16)
        self.simulated = label("title")
        self.close_button = button()
        self.close_button.clicked.connect(self.hide_panel)
        top = QHBoxLayout()
        top.addWidget(self.simulated, 1)
        top.addWidget(self.close_button, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(top)
        row = QHBoxLayout()
        row.setSpacing(32)
        layout.addLayout(row, 1)

        cards = QVBoxLayout()
        self.cards_title = label()
        cards.addWidget(self.cards_title)
        self.card_buttons: dict[str, QPushButton] = {}
        for key, handler in (("normal", self.insert_normal), ("initial", self.insert_initial),
                             ("locked", self.insert_locked), ("second_gen", self.insert_second_gen),
                             ("remove", self.remove_card)):
            btn = button("secondary" if key == "remove" else "")
            btn.setSizePolicy(QSizePolicy.Policy.Minimum, QSizePolicy.Policy.Fixed)   # never clip the label
            btn.clicked.connect(handler)
            cards.addWidget(btn)
            self.card_buttons[key] = btn
        # The simulated headphone socket: plugging in turns on private audio and the eyes-free visit.
        self.headphones_button = button("secondary")
        self.headphones_button.setSizePolicy(QSizePolicy.Policy.Minimum, QSizePolicy.Policy.Fixed)
        self.headphones_button.clicked.connect(self.toggle_headphones)
        self.headphones_button.setVisible(getattr(services, "headphone_simulator", None) is not None)
        cards.addWidget(self.headphones_button)
        cards.addStretch(1)
        row.addLayout(cards, 0)

        pad = QVBoxLayout()
        self.keys_title = label()
        pad.addWidget(self.keys_title)
        grid = QGridLayout()
        grid.setSpacing(12)
        self.pad_buttons: dict[str, QPushButton] = {}
        for r, names in enumerate(PAD_KEYS):
            for c, name in enumerate(names):
                btn = button("secondary", height=theme.MIN_TARGET_PX + 20)
                btn.setMinimumWidth(theme.MIN_TARGET_PX * 2)
                btn.setSizePolicy(QSizePolicy.Policy.Minimum, QSizePolicy.Policy.Fixed)
                btn.clicked.connect(lambda _c=False, n=name: self.press(n))
                grid.addWidget(btn, r, c if len(names) == 3 else (0 if c == 0 else 1), 1,
                               1 if len(names) == 3 or c == 0 else 2)
                self.pad_buttons[name] = btn
        pad.addLayout(grid)
        pad.addStretch(1)
        row.addLayout(pad, 0)

        status = QVBoxLayout()
        status.setSpacing(16)       # six status lines in English and a two-line SMS share the column
        self.status_title = label()
        self.status_label = label("muted")
        self.status_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.phone_title = label()
        self.phone_label = label()
        status.addWidget(self.status_title)
        status.addWidget(self.status_label)
        status.addWidget(self.phone_title)
        status.addWidget(self.phone_label)
        status.addStretch(1)
        row.addLayout(status, 2)
        self._sms_text: str | None = None
        self.faces_ready = False
        from ui.field.common import Background

        self._bg = Background(self)

        self.timer = QTimer(self)
        self.timer.setInterval(1000)
        self.timer.timeout.connect(self.refresh)
        self.retranslate()
        self.hide()

    # -- actions ----------------------------------------------------------------------------------
    def _insert(self, **config: Any) -> None:
        cards = getattr(self.services, "virtual_cards", None)
        if cards is None:
            return
        from drivers.smartcard.virtual.card import CardConfig

        tries_left = config.pop("tries_left", None)
        cards.remove_card()
        card = cards.insert_card(CardConfig(**config))
        if tries_left is not None:
            card.tries_left = tries_left
        self.refresh()

    @staticmethod
    def _holder(key: str) -> Any:
        from drivers.smartcard.virtual.card import sample_holder

        name, id_number = DEMO_HOLDERS[key]
        return sample_holder(name=name, ssn=id_number)

    def insert_normal(self) -> None:
        self._insert(pin=DEMO_PIN, holder=self._holder("normal"))

    def insert_initial(self) -> None:
        self._insert(holder=self._holder("initial"))    # the card's default: still on its initial PIN

    def insert_locked(self) -> None:
        self._insert(pin=DEMO_PIN, tries_left=0, holder=self._holder("normal"))

    def insert_second_gen(self) -> None:
        self._insert(pin=DEMO_PIN, generation=2, holder=self._holder("second_gen"))

    def remove_card(self) -> None:
        cards = getattr(self.services, "virtual_cards", None)
        if cards is not None:
            cards.remove_card()
        self.refresh()

    def toggle_headphones(self) -> None:
        jack = getattr(self.services, "headphone_simulator", None)
        if jack is not None:
            jack.unplug() if jack.plugged else jack.plug()
            self.retranslate()

    def press(self, key: str) -> None:
        simulator = getattr(self.services, "pinpad_simulator", None)
        if simulator is not None:
            simulator.press(key)

    # -- showing ----------------------------------------------------------------------------------
    def show_panel(self) -> None:
        parent = self.parentWidget()
        if parent is not None:
            self.setGeometry(parent.rect().adjusted(40, 110, -40, -20))
        self.refresh()
        self.timer.start()
        self.show()
        self.raise_()
        self.opened.emit()

    def hide_panel(self) -> None:
        self.timer.stop()
        self.hide()
        self.closed.emit()

    def refresh(self) -> None:
        lines = status_lines(self.services, compact=True)
        if self.faces_ready:
            lines.append(_(FACES_READY))
        self.status_label.setText("\n".join(lines))
        self.phone_label.setText(self._sms_text or _(NO_SMS))
        if self.layout() is not None:
            self.layout().activate()        # the new lines get their height now, not on a later pass
        backend = getattr(self.services, "embedded_backend", None)
        if backend is not None and not self._bg.busy:
            self._bg.run(lambda: latest_sms(backend), self._sms_done)

    def _sms_done(self, result: object) -> None:
        if isinstance(result, str):
            self._sms_text = result
            self.phone_label.setText(result)

    def enroll_demo_faces(self) -> None:
        """Register the demo camera's picture as the demo people's face (embedded backend only), so
        the face services can be tried with the simulated camera."""
        if getattr(self.services, "embedded_backend", None) is None or self.services.face is None:
            return
        self._bg.run(lambda: enroll_demo_faces(self.services), self._faces_done)

    def _faces_done(self, result: object) -> None:
        if isinstance(result, Exception):
            log.warning("demo faces not registered", extra={"error": str(result)})
            return
        self.faces_ready = True

    def retranslate(self) -> None:
        self.simulated.setText(f"{theme.ICON_INFO} {_(SIMULATED)}")
        self.cards_title.setText(_(CARDS))
        for key, msgid in (("normal", NORMAL), ("initial", INITIAL), ("locked", LOCKED),
                           ("second_gen", SECOND_GEN), ("remove", REMOVE)):
            self.card_buttons[key].setText(_(msgid))
        jack = getattr(self.services, "headphone_simulator", None)
        self.headphones_button.setText(_(UNPLUG_HEADPHONES if jack is not None and jack.plugged else PLUG_HEADPHONES))
        self.keys_title.setText(_(KEYS))
        names = {"enter": _("Enter"), "cancel": _("Cancel"), "clear": _("Clear"), "backspace": _("Backspace")}
        for name, btn in self.pad_buttons.items():
            btn.setText(names.get(name, name))
        self.status_title.setText(_(STATUS))
        self.phone_title.setText(_(PHONE))
        self.close_button.setText(_(CLOSE))
        if self.isVisible():
            self.refresh()


def latest_sms(backend: Any) -> str:
    """The newest message of the embedded backend's development SMS gateway (the demo's phone)."""
    import httpx

    answer = httpx.get(f"{backend.url}/v1/dev/sms-outbox", timeout=3,
                       headers={"Authorization": f"Bearer {backend.operator_token}"})
    answer.raise_for_status()
    messages = answer.json()["messages"]
    if not messages:
        return ""
    last = messages[-1]
    return f"{last['phone']}: {last['text']}"


def enroll_demo_faces(services: Any) -> int:
    """Demo only: the demo people of backend/demo_seed.json get the demo camera's picture as their
    registered face, through the embedded backend's development seed endpoint."""
    import base64
    import json

    import cv2
    import httpx

    from kiosk.config import PROJECT_ROOT, resolve_path

    source = services.config.camera.source
    image = cv2.imread(str(resolve_path(source))) if source else None
    if image is None:
        raise RuntimeError(f"the demo camera picture {source!r} cannot be read")
    done = services.face.template_from_image(image).wait(30)
    if not done.ok or done.result is None:
        raise RuntimeError(f"no face template from the demo picture: {done.error_code or done.code}")
    template = base64.b64encode(done.result.to_bytes()).decode()
    done.result.wipe()
    seed = json.loads((PROJECT_ROOT / "backend" / "demo_seed.json").read_text(encoding="utf-8"))
    persons = [{**p, "face_template": template} for p in seed.get("persons", []) if not p.get("deceased")]
    backend = services.embedded_backend
    answer = httpx.post(f"{backend.url}/v1/operator/seed", json={"persons": persons}, timeout=10,
                        headers={"Authorization": f"Bearer {backend.operator_token}"})
    answer.raise_for_status()
    return len(persons)


def attach_demo(window: Any, services: Any) -> tuple[DemoPanel, QPushButton]:
    """A visible "Demo" button (bottom centre, where no screen has a button) that opens the panel over the kiosk window."""
    panel = DemoPanel(services, window)
    opener = button("secondary", parent=window)
    opener.setObjectName("demoButton")
    opener.clicked.connect(panel.show_panel)
    panel.opened.connect(opener.hide)

    def place() -> None:
        opener.setText(f"{theme.ICON_INFO} {_(DEMO)}")
        opener.adjustSize()
        opener.move((window.width() - opener.width()) // 2, window.height() - opener.height() - 16)
        opener.raise_()

    panel.enroll_demo_faces()
    place()
    # The attract screen keeps the bottom strip free for the button (it covered the card hint and
    # the notice there); the other screens have no button at the bottom centre.
    attract_layout = window.attract.layout()
    if attract_layout is not None:
        margins = attract_layout.contentsMargins()
        attract_layout.setContentsMargins(margins.left(), margins.top(), margins.right(),
                                          max(margins.bottom(), opener.height() + 32))
    opener.show()
    window.relayout_hooks.append(place)
    from kiosk import i18n

    def on_language(_language: str) -> None:      # the button's words follow the language too
        if shiboken6.isValid(opener) and shiboken6.isValid(window):
            place()

    i18n.on_language_changed(on_language)
    panel.closed.connect(place)
    panel.closed.connect(opener.show)
    return panel, opener
