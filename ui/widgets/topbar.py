"""The bar on top of every screen: the service name, the language switch and the mute control.

Language names are shown in their own language ("English" / "中文") on purpose: someone who
cannot read the current language must still recognise the way back to theirs.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QWidget

from kiosk.i18n import N_, _, language
from ui import theme
from ui.widgets.common import button, label

KIOSK_NAME = N_("Social Security Card Self-Service")
SOUND_ON = N_("Sound on")
SOUND_OFF = N_("Sound off")
LANGUAGE_NAMES = {"zh_CN": "中文", "en": "English"}


class TopBar(QWidget):
    language_toggled = Signal()
    mute_toggled = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("topbar")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        self.setFixedHeight(120)
        self._muted = False
        row = QHBoxLayout(self)
        row.setContentsMargins(140, 10, 32, 10)     # the left 120 px is the operator's hot corner
        row.setSpacing(24)
        self.name_label = label(wrap=False)
        row.addWidget(self.name_label)
        row.addStretch(1)
        self.mute_button = button("secondary", height=theme.BUTTON_HEIGHT)
        self.language_button = button("secondary", height=theme.BUTTON_HEIGHT)
        self.mute_button.clicked.connect(self.mute_toggled)
        self.language_button.clicked.connect(self.language_toggled)
        row.addWidget(self.mute_button)
        row.addWidget(self.language_button)
        self.retranslate()

    def set_muted(self, muted: bool) -> None:
        self._muted = muted
        self.retranslate()

    def retranslate(self) -> None:
        self.name_label.setText(_(KIOSK_NAME))
        # Icon and words: the state is never shown by colour alone.
        self.mute_button.setText(f"✕ {_(SOUND_OFF)}" if self._muted else f"♪ {_(SOUND_ON)}")
        other = "en" if language() == "zh_CN" else "zh_CN"
        self.language_button.setText(LANGUAGE_NAMES[other])
        self.language_button.setAccessibleName(LANGUAGE_NAMES[other])
