"""The common step layout every service flow drives: title, instruction, progress, body, back/cancel.

Flows call, on the UI thread::

    layout.set_step(N_("Enter your PIN"), N_("Type the six digits on the PIN pad."), 2, 4)
    layout.set_body(pin_widget)            # any QWidget, or None for text-only steps
    layout.show_error(N_("Wrong PIN"), lambda: _("{n} tries left ...").format(n=2),
                      [ErrorAction(RETRY, retry), ErrorAction(GO_HOME, home, primary=False)])

Texts are msgids (translated now and again on a language switch) or callables returning the
finished string. Progress is shown as words ("Step 2 of 4") and as a bar, never by colour alone.
``prompt_changed`` fires whenever what the voice should say changes; ``back_requested`` and
``cancel_requested`` fire on the two buttons (the shell routes them to the running flow).

``reset()`` drops the body widget (deleted), every text, and the error: the shell calls it at every
end of a visit so nothing personal survives on screen.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QStackedWidget,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from kiosk.i18n import N_, _
from ui.qt_compat import emit
from ui.widgets.common import Text, button, label, render
from ui.widgets.error_panel import ErrorAction, ErrorPanel

STEP_OF = N_("Step {index} of {total}")
BACK = N_("Back")
CANCEL = N_("Cancel")


class StepLayout(QWidget):
    prompt_changed = Signal()
    body_changed = Signal()             # a new body (entry, question...) under the same step
    back_requested = Signal()
    cancel_requested = Signal()

    def __init__(self, hotline: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("screen")
        self._title: Text | None = None
        self._instruction: Text | None = None
        self._index = 0
        self._total = 0
        self._body: QWidget | None = None
        self._error_fallback: ErrorAction | None = None
        self._step_heading: tuple[Text | None, Text | None] = (None, None)

        outer = QVBoxLayout(self)
        outer.setContentsMargins(96, 40, 96, 40)
        outer.setSpacing(24)
        progress_row = QHBoxLayout()
        self.progress_label = label("progress", wrap=False)
        self.progress_bar = QProgressBar()
        self.progress_bar.setTextVisible(False)   # the words are in progress_label
        progress_row.addWidget(self.progress_label)
        progress_row.addSpacing(24)
        progress_row.addWidget(self.progress_bar, 1)
        outer.addLayout(progress_row)
        self.title_label = label("title")
        self.instruction_label = label()
        outer.addWidget(self.title_label)
        outer.addWidget(self.instruction_label)

        self._content = QStackedWidget()
        self._body_holder = QWidget()
        self._body_box = QVBoxLayout(self._body_holder)
        self._body_box.setContentsMargins(0, 0, 0, 0)
        self.error_panel = ErrorPanel(hotline)
        self._content.addWidget(self._body_holder)
        self._content.addWidget(self.error_panel)
        outer.addWidget(self._content, 1)

        nav = QHBoxLayout()
        self.back_button = button("secondary")
        self.cancel_button = button("secondary")
        self.back_button.clicked.connect(self.back_requested)
        self.cancel_button.clicked.connect(self.cancel_requested)
        nav.addWidget(self.back_button)
        nav.addStretch(1)
        nav.addWidget(self.cancel_button)
        outer.addLayout(nav)
        self.retranslate()

    # -- the API flows drive -----------------------------------------------------------------
    def set_step(self, title: Text, instruction: Text, index: int, total: int) -> None:
        if total < 1 or not 1 <= index <= total:
            raise ValueError(f"step {index} of {total}: expected 1 <= index <= total")
        self._title, self._instruction, self._index, self._total = title, instruction, index, total
        self._step_heading = (title, instruction)
        self._content.setCurrentWidget(self._body_holder)
        self._show_heading(True)
        self.retranslate()
        emit(self.prompt_changed)

    def set_heading(self, title: Text, instruction: Text | None = None) -> None:
        """A new heading inside the same step (a question the step did not announce): the title on
        screen always belongs to what is under it."""
        self._title, self._instruction = title, instruction
        self._show_heading(True)
        self.retranslate()

    def restore_heading(self) -> None:
        """Back to the step's own title and instruction (after :meth:`set_heading`)."""
        if (self._title, self._instruction) != self._step_heading:
            self.set_heading(*self._step_heading)

    def _show_heading(self, visible: bool) -> None:
        self.title_label.setVisible(visible)
        self.instruction_label.setVisible(visible and bool(render(self._instruction)))

    def set_body(self, widget: QWidget | None) -> None:
        """Show ``widget`` under the instruction (the layout takes ownership; the old body is deleted)."""
        self._drop_body()
        if widget is not None:
            self._body = widget
            self._body_box.addWidget(widget)
        self._content.setCurrentWidget(self._body_holder)
        self._show_heading(True)
        emit(self.body_changed)

    @property
    def body(self) -> QWidget | None:
        return self._body

    def show_error(self, what_happened: Text, what_to_do: Text, actions: Sequence[ErrorAction]) -> None:
        fallback = self._error_fallback or ErrorAction(CANCEL, lambda: emit(self.cancel_requested))
        self.error_panel.show_error(what_happened, what_to_do, actions, fallback)
        self._content.setCurrentWidget(self.error_panel)
        self._show_heading(False)       # "please wait" above an error would contradict it
        emit(self.prompt_changed)

    def set_navigation(self, *, back: bool = True, cancel: bool = True) -> None:
        """Hide back on a first step or while a device is busy; cancel should almost always stay."""
        self.back_button.setVisible(back)
        self.cancel_button.setVisible(cancel)

    @property
    def showing_error(self) -> bool:
        return self._content.currentWidget() is self.error_panel

    # -- shell side ------------------------------------------------------------------------------
    def retranslate(self) -> None:
        self.progress_label.setText(_(STEP_OF).format(index=self._index, total=self._total) if self._total else "")
        self.progress_bar.setRange(0, max(self._total, 1))
        self.progress_bar.setValue(self._index)
        self.progress_bar.setVisible(self._total > 0)
        self.title_label.setText(render(self._title))
        self.instruction_label.setText(render(self._instruction))
        self.back_button.setText(_(BACK))
        self.cancel_button.setText(_(CANCEL))
        self.error_panel.retranslate()
        body_retranslate = getattr(self._body, "retranslate", None)
        if callable(body_retranslate):
            body_retranslate()

    def prompt(self) -> str:
        if self.showing_error:
            return self.error_panel.prompt()
        body_prompt = getattr(self._body, "prompt", None)
        extra = body_prompt() if callable(body_prompt) else ""
        return " ".join(t for t in (render(self._title), render(self._instruction), extra) if t)

    def reset(self) -> None:
        self._title = self._instruction = None
        self._step_heading = (None, None)
        self._index = self._total = 0
        self._drop_body()
        self.error_panel.reset()
        self.set_navigation(back=True, cancel=True)
        self._content.setCurrentWidget(self._body_holder)
        self._show_heading(True)
        self.retranslate()

    def _drop_body(self) -> None:
        body, self._body = self._body, None
        if body is None:
            return
        wipe = getattr(body, "wipe", None)     # a body's own data (typed digits) goes first
        if callable(wipe):
            wipe()
        # Blank every text in the body before it goes, so nothing personal lingers until the
        # deferred delete runs (setText also clears QLineEdit's undo history).
        for child in [body, *body.findChildren(QWidget)]:
            if isinstance(child, QLineEdit):
                child.setText("")
            elif isinstance(child, QLabel):
                child.clear()
            elif isinstance(child, QTextEdit):
                child.clear()
        self._body_box.removeWidget(body)
        body.hide()
        # It stays parented (C++ owns it) until the deferred delete runs on this thread: unparented,
        # Python would own it and free it wherever its last reference goes (a device thread).
        body.deleteLater()
