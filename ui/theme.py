"""Colours, type sizes and the style sheet: age-friendly (适老化) by default, on a 1920x1080 screen.

The numbers here are the accessibility rules; tests/ui/test_accessibility.py checks them (contrast
computed from these colours, font pixel sizes and touch-target heights measured on live widgets).
Colour is never the only cue: every status colour comes with an icon character and words.
"""

from __future__ import annotations

import logging

from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import QApplication

log = logging.getLogger(__name__)

# -- sizes (pixels on the 1080p panel) ---------------------------------------------------------
# Style-sheet min-height wins over setMinimumHeight(), so button heights live in style_sheet().
BODY_PX = 34          # >= 32: body text read at arm's length
TITLE_PX = 56         # >= 48
BUTTON_PX = 38        # text on buttons
SMALL_PX = 32         # the smallest text anywhere (top bar, hints) is still body size
HERO_PX = 72          # the attract screen's welcome line
MIN_TARGET_PX = 60    # minimum touch target (height and width)
BUTTON_HEIGHT = 96    # ordinary buttons: well above the minimum
SERVICE_BUTTON_HEIGHT = 180

# -- colours ---------------------------------------------------------------------------------
BACKGROUND = "#FFFFFF"
SURFACE = "#F1F4F8"          # panels and the top bar
TEXT = "#1A1A1A"
TEXT_MUTED = "#3D4651"       # secondary text, still far above 4.5:1 on both backgrounds
PRIMARY = "#0B4F9C"          # buttons: white text on it
PRIMARY_PRESSED = "#083A73"
ON_PRIMARY = "#FFFFFF"
SECONDARY = "#FFFFFF"        # outlined buttons (back, cancel): primary text on white
ERROR = "#A4161A"            # with the ✖ icon and the word 出错 / error
SUCCESS = "#1B5E20"          # with the ✔ icon
WARNING_BG = "#FFF4CE"       # countdown panel; dark text on it
OVERLAY_RGBA = "rgba(0, 0, 0, 170)"
FOCUS = "#E8A33D"            # focus ring, not a carrier of meaning

# Every foreground/background pair the style sheet uses for text: the contrast test walks this.
TEXT_PAIRS: dict[str, tuple[str, str]] = {
    "body": (TEXT, BACKGROUND),
    "body on surface": (TEXT, SURFACE),
    "muted": (TEXT_MUTED, BACKGROUND),
    "muted on surface": (TEXT_MUTED, SURFACE),
    "primary button": (ON_PRIMARY, PRIMARY),
    "pressed button": (ON_PRIMARY, PRIMARY_PRESSED),
    "secondary button": (PRIMARY, SECONDARY),
    "error title": (ERROR, BACKGROUND),
    "success title": (SUCCESS, BACKGROUND),
    "error badge": (ON_PRIMARY, ERROR),
    "success badge": (ON_PRIMARY, SUCCESS),
    "countdown": (TEXT, WARNING_BG),
}

ICON_OK = "✔"
ICON_ERROR = "✖"
ICON_INFO = "ℹ"
ICON_WARNING = "⚠"


def _channel(c: int) -> float:
    s = c / 255.0
    return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4


def relative_luminance(hex_colour: str) -> float:
    """WCAG 2.x relative luminance of ``#RRGGBB``."""
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast_ratio(foreground: str, background: str) -> float:
    """WCAG contrast ratio, 1.0 .. 21.0; the kiosk requires >= 4.5 for all text."""
    lighter, darker = sorted((relative_luminance(foreground), relative_luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def font_available(family: str) -> bool:
    return family in QFontDatabase.families()


def apply_font(app: QApplication, family: str) -> QFont:
    """Body font for the whole application. Missing CJK fonts are a setup problem, logged loudly."""
    if not font_available(family):
        log.error("font missing; Chinese text will fall back to another font",
                  extra={"font": family, "fix": "install fonts-noto-cjk (scripts/setup.sh)"})
    font = QFont(family)
    font.setPixelSize(BODY_PX)
    font.setStyleStrategy(QFont.StyleStrategy.PreferAntialias)
    app.setFont(font)
    return font


def style_sheet(family: str) -> str:
    """One style sheet; widgets pick roles with ``setObjectName`` / the ``role`` property."""
    return f"""
    * {{ font-family: "{family}"; font-size: {BODY_PX}px; color: {TEXT}; }}
    QMainWindow, QStackedWidget, QWidget#screen {{ background: {BACKGROUND}; }}
    QLabel[role="title"] {{ font-size: {TITLE_PX}px; font-weight: bold; }}
    QLabel[role="hero"] {{ font-size: {HERO_PX}px; font-weight: bold; color: {PRIMARY}; }}
    QLabel[role="muted"] {{ color: {TEXT_MUTED}; }}
    QLabel[role="progress"] {{ color: {TEXT_MUTED}; }}
    QLabel[role="error-title"] {{ font-size: {TITLE_PX}px; font-weight: bold; color: {ERROR}; }}
    QLabel[role="success-title"] {{ font-size: {TITLE_PX}px; font-weight: bold; color: {SUCCESS}; }}
    QLabel[role="badge-error"] {{ background: {ERROR}; color: {ON_PRIMARY}; border-radius: 12px;
                                 padding: 8px 20px; font-weight: bold; }}
    QLabel[role="badge-success"] {{ background: {SUCCESS}; color: {ON_PRIMARY}; border-radius: 12px;
                                   padding: 8px 20px; font-weight: bold; }}
    QLabel[role="badge-info"] {{ background: {PRIMARY}; color: {ON_PRIMARY}; border-radius: 12px;
                                padding: 8px 20px; font-weight: bold; }}
    QWidget#topbar {{ background: {SURFACE}; }}
    QWidget#topbar QLabel {{ font-size: {SMALL_PX}px; color: {TEXT_MUTED}; }}
    QWidget#panel {{ background: {SURFACE}; border-radius: 16px; }}
    QPushButton {{ background: {PRIMARY}; color: {ON_PRIMARY}; font-size: {BUTTON_PX}px;
                  border: none; border-radius: 14px; padding: 12px 36px;
                  min-height: {BUTTON_HEIGHT - 24}px; min-width: {MIN_TARGET_PX}px; }}
    QPushButton:pressed {{ background: {PRIMARY_PRESSED}; }}
    QPushButton:focus {{ outline: none; border: 4px solid {FOCUS}; }}
    QPushButton:disabled {{ background: #5B6470; color: {ON_PRIMARY}; }}
    QPushButton[role="secondary"] {{ background: {SECONDARY}; color: {PRIMARY};
                                    border: 3px solid {PRIMARY}; }}
    QPushButton[role="secondary"]:pressed {{ background: {SURFACE}; }}
    QPushButton[role="secondary"]:disabled {{ background: {SURFACE}; color: {TEXT_MUTED};
                                             border: 3px dashed {TEXT_MUTED}; }}
    QPushButton[role="service"] {{ padding: 0px; border-radius: 20px; min-height: {SERVICE_BUTTON_HEIGHT}px; }}
    QLabel[role="service-title"] {{ font-size: {TITLE_PX}px; font-weight: bold; color: {ON_PRIMARY};
                                   background: transparent; }}
    QLabel[role="service-subtitle"] {{ color: {ON_PRIMARY}; background: transparent; }}
    QProgressBar {{ background: {SURFACE}; border: 2px solid {TEXT_MUTED}; border-radius: 10px;
                   min-height: 24px; max-height: 24px; text-align: center; }}
    QProgressBar::chunk {{ background: {PRIMARY}; border-radius: 8px; }}
    QLineEdit {{ font-size: {BODY_PX}px; min-height: {MIN_TARGET_PX}px; padding: 4px 16px;
                border: 3px solid {TEXT_MUTED}; border-radius: 10px; background: {BACKGROUND}; }}
    QWidget#countdownPanel {{ background: {WARNING_BG}; border: 4px solid {TEXT}; border-radius: 24px; }}
    QWidget#countdownPanel QLabel {{ background: transparent; }}
    QDialog {{ background: {BACKGROUND}; border: 4px solid {PRIMARY}; }}
    """
