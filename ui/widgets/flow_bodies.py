"""Step bodies the service flows show through ui.presenter: a question with large buttons, a PIN or
plain-digit entry, the face check (camera preview and prompts).

All built and driven on the UI thread, except the marked thread-safe entry points
(``FaceBody.post_event``, ``FaceBody.frame_listener``). Each body has ``retranslate()`` (the step
layout calls it on a language switch) and ``prompt()`` (what the voice says with the step).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from PySide6.QtCore import QRectF, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QColor, QImage, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from drivers.pinpad.api import EntryMode
from kiosk.flows.base import Choice
from kiosk.i18n import N_, _
from ui import dispatch, theme
from ui.qt_compat import emit
from ui.widgets.common import Text, button, label, render
from ui.widgets.face_moves import MoveIllustration
from ui.widgets.move_timer import MoveTimer
from ui.widgets.pin_entry import PinEntryWidget

NOT_AVAILABLE = N_("Not available")
RESEND_IN = N_("Send a new code (in {n} s)")
RESEND_NOW = N_("No code? Send a new code")
RECORDING = N_("Demonstration: this is a recording, not a live camera.")
COMPACT_PX = 76                  # still well above the 60 px touch minimum
KEY_PX = 68
PREVIEW_W, PREVIEW_H = 640, 480
DEMO_KEYS = [["1", "2", "3", "clear"], ["4", "5", "6", "cancel"], ["7", "8", "9", "0"], ["enter"]]

# Answers that step back or decline look secondary (outlined), so the way forward stands out.
SECONDARY_CHOICES = frozenset({"decline", "no", "leave", "stop", "status_only"})
# (min digits, max digits, extra hint) per plain-entry kind
ENTRY_KINDS: dict[str, tuple[int, int, str]] = {
    "pin": (6, 6, ""),
    "phone": (11, 11, ""),
    "sms_code": (6, 6, ""),           # the flow's instruction says how to get a new code
    "bank_card": (16, 19, ""),
    "id_number": (17, 18, ""),
}


class ChoiceBody(QWidget):
    """A question with one large button per choice; a disabled choice stays visible, greyed, with an
    icon and its reason in words (colour is never the only cue)."""

    def __init__(self, key: str, question: Text, options: Sequence[Choice], fmt: Mapping[str, Any],
                 answer: Callable[[str], None], parent: QWidget | None = None, *,
                 show_question: bool = True) -> None:
        super().__init__(parent)
        self.setObjectName(f"ask-{key}")
        self._question = question
        self._show_question = show_question     # False: the step layout's heading says it
        self._options = list(options)
        self._fmt = dict(fmt)
        layout = QVBoxLayout(self)
        layout.setSpacing(20)
        self.question_label = label()
        layout.addWidget(self.question_label)
        self.question_label.setVisible(show_question)
        self.buttons: dict[str, QPushButton] = {}
        self.notes: dict[str, QLabel] = {}
        # A long list (the banks) is a grid of buttons with the notes in full lines under it; a short
        # question has one full-width button per choice with its note right under it.
        columns = 4 if len(self._options) > 6 else 2 if len(self._options) > 3 else 1
        grid = QGridLayout()
        grid.setHorizontalSpacing(24)
        grid.setVerticalSpacing(12)
        layout.addLayout(grid)
        notes_below = QVBoxLayout()
        row = 0
        for i, option in enumerate(self._options):
            btn = button("secondary" if not option.enabled or option.key in SECONDARY_CHOICES else "")
            btn.setEnabled(option.enabled)
            btn.setProperty("choice", option.key)
            if columns > 2:                     # 12 banks and the navigation fit 1080 px
                btn.setStyleSheet(f"min-height: {COMPACT_PX}px;")
            btn.clicked.connect(lambda _c=False, k=option.key: answer(k))
            self.buttons[option.key] = btn
            if columns == 1:
                grid.addWidget(btn, row, 0)
                row += 1
            else:
                grid.addWidget(btn, i // columns, i % columns)
            if option.note:
                note = label("muted")
                self.notes[option.key] = note
                if columns == 1:
                    grid.addWidget(note, row, 0)
                    row += 1
                else:
                    notes_below.addWidget(note)
        layout.addLayout(notes_below)
        layout.addStretch(1)
        self.retranslate()

    def _text(self, msgid: str) -> str:
        try:
            return _(msgid).format(**self._fmt) if self._fmt else _(msgid)
        except (KeyError, IndexError, ValueError):
            return _(msgid)

    def retranslate(self) -> None:
        self.question_label.setText(render(self._question))
        for option in self._options:
            text = self._text(option.label)
            if not option.enabled:
                text = f"{theme.ICON_ERROR} {text} ({_(NOT_AVAILABLE)})"
            self.buttons[option.key].setText(text)
            if option.key in self.notes:
                prefix = "" if option.enabled else f"{theme.ICON_INFO} {self._text(option.label)} — "
                self.notes[option.key].setText(prefix + self._text(option.note))

    def prompt(self) -> str:
        return render(self._question) if self._show_question else ""


class EntryBody(QWidget):
    """The PIN pad's entry shown on screen: dots for a PIN, digits as typed for everything else.
    Demo profile: a simulated pad's keys beside it (and the PC keyboard), out of ``key_requested``."""

    key_requested = Signal(str)

    def __init__(self, kind: str, tries_left: int | None, demo_keys: bool, parent: QWidget | None = None,
                 pin_title: str | None = None) -> None:
        super().__init__(parent)
        self.kind = kind
        min_len, max_len, hint = ENTRY_KINDS.get(kind, (1, 19, ""))
        self._hint = hint
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.pin = PinEntryWidget(keyboard_keys=demo_keys)
        if pin_title is not None:
            self.pin.pin_title = pin_title
        self.pin.key_requested.connect(self.key_requested)
        mode = EntryMode.PIN if kind == "pin" else EntryMode.PLAIN
        self.pin.start(mode, min_len, max_len, tries_left)
        self.hint_label = label("muted")
        self.hint_label.setVisible(bool(hint))
        self.keys: dict[str, QPushButton] = {}
        row = QHBoxLayout()
        row.setSpacing(48)
        row.addWidget(self.pin, 3)
        if demo_keys:
            row.addLayout(self._demo_pad(), 2)
        layout.addLayout(row)
        layout.addWidget(self.hint_label)
        self.retranslate()

    def _demo_pad(self) -> QVBoxLayout:
        box = QVBoxLayout()
        box.setSpacing(8)
        grid = QGridLayout()
        grid.setSpacing(6)
        for r, names in enumerate(DEMO_KEYS):
            for c, name in enumerate(names):
                key = button("secondary", height=KEY_PX)
                key.setStyleSheet(f"min-height: {KEY_PX}px;")     # the style sheet's 96 px is too tall here
                key.setMinimumWidth(theme.MIN_TARGET_PX + 20)
                key.clicked.connect(lambda _c=False, n=name: emit(self.key_requested, n))
                grid.addWidget(key, r, c, 1, 4 if len(names) == 1 else 1)
                self.keys[name] = key
        box.addLayout(grid)
        box.addStretch(1)
        return box

    def retranslate(self) -> None:
        self.pin.retranslate()
        self._resend_render()
        self.hint_label.setText(_(self._hint) if self._hint else "")
        names = {"enter": _("Enter"), "cancel": _("Cancel"), "clear": _("Clear")}
        for name, key in self.keys.items():
            key.setText(names.get(name, name))

    def prompt(self) -> str:
        return _(self._hint) if self._hint else ""

    def add_resend(self, seconds: int, on_click: Callable[[], None]) -> None:
        """SMS code: a "send a new code" button, counting down until a new code may be sent."""
        self._resend_left = max(0, seconds)
        self.resend_button = button("secondary")
        self.resend_button.clicked.connect(lambda _c=False: on_click())
        self.layout().addWidget(self.resend_button)
        self._resend_timer = QTimer(self)
        self._resend_timer.setInterval(1000)
        self._resend_timer.timeout.connect(self._resend_tick)
        if self._resend_left > 0:
            self._resend_timer.start()
        self._resend_render()

    def _resend_tick(self) -> None:
        self._resend_left = max(0, self._resend_left - 1)
        if self._resend_left == 0:
            self._resend_timer.stop()
        self._resend_render()

    def _resend_render(self) -> None:
        button_ = getattr(self, "resend_button", None)
        if button_ is None:
            return
        if self._resend_left > 0:
            button_.setText(_(RESEND_IN).format(n=self._resend_left))
        else:
            button_.setText(_(RESEND_NOW))
        button_.setEnabled(self._resend_left == 0)

    def wipe(self) -> None:
        """Drop the digits typed so far (a bank card or phone number) before the body is deleted."""
        self.pin.clear()


def draw_face_frame(pixmap: QPixmap) -> None:
    """The frame "put your face in the frame" speaks of: an oval guide drawn on the preview, thick
    and in the primary colour with a dashed white inner line (visible on dark and light pictures)."""
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    w, h = pixmap.width(), pixmap.height()
    oval = QRectF(w * 0.28, h * 0.12, w * 0.44, h * 0.76)
    painter.setPen(QPen(QColor(theme.PRIMARY), 8))
    painter.drawEllipse(oval)
    dashed = QPen(QColor("#FFFFFF"), 3, Qt.PenStyle.DashLine)
    painter.setPen(dashed)
    painter.drawEllipse(oval.adjusted(6, 6, -6, -6))
    painter.end()


def entry_widget(kind: str, tries_left: int | None, *, demo_keys: bool = False,
                 pin_title: str | None = None) -> EntryBody:
    return EntryBody(kind, tries_left, demo_keys, pin_title=pin_title)


class FaceBody(QWidget):
    """Camera preview (latest frame wins; frames arriving while one waits to be drawn replace it) and
    the verifier's prompts, shown and spoken."""

    def __init__(self, camera: Any, say: Callable[[str], None], parent: QWidget | None = None, *,
                 move_time_s: float = 0.0) -> None:
        super().__init__(parent)
        self._say = say
        self.move_timer = MoveTimer(self, move_time_s, say)
        self._prompt: str | None = None
        self._events: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._latest: QImage | None = None
        self._frame_lock = threading.Lock()
        self._frame_pending = False
        self.frames_shown = 0
        layout = QHBoxLayout(self)
        layout.setSpacing(40)
        self.preview = QLabel()
        self.preview.setFixedSize(PREVIEW_W, PREVIEW_H)
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setStyleSheet("background: #20252B;")
        layout.addWidget(self.preview)
        side = QVBoxLayout()
        side.setSpacing(12)           # prompt, move timer, move picture and the recording note share 480 px
        self.prompt_label = label("title")
        self.recording_label = label("muted")
        kind = getattr(camera, "kind", None)
        self._recording = camera is not None and str(getattr(kind, "value", kind)) != "webcam"
        self.recording_label.setVisible(self._recording)
        side.addWidget(self.prompt_label)
        side.addWidget(self.move_timer.label)
        self.move_picture = MoveIllustration()      # a picture of the movement asked for, if any
        side.addWidget(self.move_picture)
        side.addStretch(1)
        side.addWidget(self.recording_label)
        layout.addLayout(side, 1)
        self.retranslate()

    # -- any thread -------------------------------------------------------------------------------
    def post_event(self, event: Any) -> None:
        self._events.put(event)
        dispatch.post(lambda: self._drain() if dispatch.alive(self) else None)   # see ui/dispatch.py

    def frame_listener(self, bridge: Any, device: str) -> Callable[[Any], None]:
        """A Camera.on_frame listener (capture thread): a small RGB copy goes to the UI through the
        bridge, at most one waiting at a time, so a slow UI never piles frames up or blocks capture."""
        from ui.bridge import qimage_from_array

        def on_frame(frame: Any) -> None:
            with self._frame_lock:
                if self._frame_pending:
                    return
                self._frame_pending = True
            image = frame.image
            step = max(1, image.shape[1] // PREVIEW_W)
            rgb = np.ascontiguousarray(image[::step, ::step, ::-1])     # BGR -> RGB, downscaled
            bridge.post_frame(device, qimage_from_array(rgb))

        return on_frame

    # -- UI thread --------------------------------------------------------------------------------
    def show_frame(self, _device: str, image: QImage) -> None:
        with self._frame_lock:
            self._frame_pending = False
        pixmap = QPixmap.fromImage(image).scaled(PREVIEW_W, PREVIEW_H, Qt.AspectRatioMode.KeepAspectRatio)
        draw_face_frame(pixmap)
        self.preview.setPixmap(pixmap)
        self.frames_shown += 1

    @Slot()
    def _drain(self) -> None:
        from kiosk.messages import face as face_messages
        from models.verifier import FaceChallengePrompt, FaceQualityPrompt, FaceStage

        while True:
            try:
                event = self._events.get_nowait()
            except queue.Empty:
                return
            msgid = None
            if isinstance(event, FaceQualityPrompt):
                msgid = face_messages.QUALITY.get(event.reason)
                self.move_picture.set_step(None)
            elif isinstance(event, FaceChallengePrompt):
                msgid = face_messages.CHALLENGE.get(event.step)
                self._timed_move(event)
                self.move_picture.set_step(event.step.value)
            elif isinstance(event, FaceStage) and event.stage != "challenge":
                self.move_timer.stop()          # a new attempt, or the decision: no move is timed
            if msgid and msgid != self._prompt:
                self._prompt = msgid
                self.retranslate()
                self._say(_(msgid))

    def _timed_move(self, event: Any) -> None:
        """A new move starts its countdown; a move whose target is reached is warned about no more."""
        if event.index != self.move_timer.index:
            self.move_timer.start(event.index)
        if event.progress >= 1.0:
            self.move_timer.reached()

    def retranslate(self) -> None:
        self.move_timer.retranslate()
        self.prompt_label.setText(_(self._prompt) if self._prompt else _("Please face the camera."))
        self.recording_label.setText(f"{theme.ICON_INFO} {_(RECORDING)}" if self._recording else "")

    def prompt(self) -> str:
        return _(self._prompt) if self._prompt else ""
