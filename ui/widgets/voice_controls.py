"""The voice's controls on every screen (in the top bar): repeat, volume, speed.

One tap each, no menus: "repeat" says the current screen again, volume cycles low/medium/high
(shown as ●○○ dots and words for screen readers, never by colour), speed toggles normal/slow
(slower for older listeners). Mute sits beside them (the top bar's own button). All of it lasts
for the visit only: the next citizen starts with the defaults (VoicePrompter.end_visit).
"""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QSizePolicy, QWidget

from kiosk.i18n import N_, _
from ui import theme
from ui.voice import VOLUMES, VoicePrompter
from ui.widgets.common import button

REPEAT = N_("Repeat")
VOLUME = N_("Volume")
VOLUME_NAMES = (N_("Volume: low"), N_("Volume: medium"), N_("Volume: high"))
SPEED_NORMAL = N_("Speed: normal")
SPEED_SLOW = N_("Speed: slow")


class VoiceControls(QWidget):
    def __init__(self, prompter: VoicePrompter, repeat, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.prompter = prompter
        self.setSizePolicy(QSizePolicy.Policy.Minimum, QSizePolicy.Policy.Fixed)   # never squeezed
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(8)
        self.repeat_button = button("secondary", height=theme.BUTTON_HEIGHT)
        self.volume_button = button("secondary", height=theme.BUTTON_HEIGHT)
        self.speed_button = button("secondary", height=theme.BUTTON_HEIGHT)
        for widget in (self.repeat_button, self.volume_button, self.speed_button):
            widget.setMinimumWidth(theme.MIN_TARGET_PX * 2)
            # Three more buttons share the top bar with mute and language: tighter padding and the
            # smallest allowed type keep the English labels unclipped at 1920 px.
            widget.setStyleSheet(f"font-size: {theme.SMALL_PX}px; padding-left: 14px; padding-right: 14px;")
            row.addWidget(widget)
        self.repeat_button.clicked.connect(repeat)
        self.volume_button.clicked.connect(prompter.next_volume)
        self.speed_button.clicked.connect(prompter.toggle_speed)
        prompter.settings_changed.connect(self.retranslate)
        self.retranslate()

    def retranslate(self) -> None:
        level = self.prompter.volume_index
        self.repeat_button.setText(f"↻ {_(REPEAT)}")
        self.volume_button.setText(f"{_(VOLUME)} {'●' * (level + 1)}{'○' * (len(VOLUMES) - level - 1)}")
        self.volume_button.setAccessibleName(_(VOLUME_NAMES[level]))
        self.speed_button.setText(_(SPEED_SLOW if self.prompter.speed == "slow" else SPEED_NORMAL))
