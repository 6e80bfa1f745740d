"""How to hold the phone for the e-card code: drawn here with QPainter (no image file).

The camera above the screen at the top, the phone below it held upright with its screen (a QR
code) facing the camera, a dashed line of sight between them and a "about 30 cm" bracket, and a
hand holding the phone from below. The phone rocks gently so the picture reads as "hold it up
and keep it still here", without words or colour-only cues.
"""

from __future__ import annotations

from PySide6.QtCore import QEasingCurve, QPointF, QRectF, Qt, QVariantAnimation
from PySide6.QtGui import QColor, QFont, QPainter, QPainterPath, QPaintEvent, QPen
from PySide6.QtWidgets import QWidget

from ui import theme

# A fixed 21 x 21 QR-like pattern (finder squares in three corners, a few data modules): enough to
# read as "a QR code" at this size; it encodes nothing.
_DATA = (0x1A5, 0x0D2, 0x16B, 0x0B4, 0x1C9, 0x05E, 0x133)


def _pen(color: QColor, width: float, style: Qt.PenStyle = Qt.PenStyle.SolidLine) -> QPen:
    pen = QPen(color)
    pen.setWidthF(width)
    pen.setStyle(style)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    return pen


def _module_on(x: int, y: int) -> bool:
    for fx, fy in ((0, 0), (14, 0), (0, 14)):
        if fx <= x < fx + 7 and fy <= y < fy + 7:
            dx, dy = x - fx, y - fy
            ring = min(dx, dy, 6 - dx, 6 - dy)
            return ring != 1
    if (8 <= x <= 20 and 8 <= y <= 20) or 8 <= x <= 13 or 8 <= y <= 13:
        return bool((_DATA[(x * 3 + y) % len(_DATA)] >> ((x + 2 * y) % 9)) & 1)
    return False


class PhoneHint(QWidget):
    """``scale`` 1.0 draws 360 x 420 px (the sign-in step); smaller for the attract screen."""

    def __init__(self, scale: float = 1.0, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._scale = scale
        self.setFixedSize(int(360 * scale), int(420 * scale))
        self.setAccessibleName("phone-hint")
        self._tilt = 0.0
        self.animation = QVariantAnimation(self)
        self.animation.setStartValue(-1.0)
        self.animation.setEndValue(1.0)
        self.animation.setDuration(2400)
        self.animation.setLoopCount(-1)
        self.animation.setEasingCurve(QEasingCurve.Type.SineCurve)
        self.animation.valueChanged.connect(self._moved)

    def _moved(self, value: float) -> None:
        self._tilt = float(value)
        self.update()

    def showEvent(self, event) -> None:
        self.animation.start()
        super().showEvent(event)

    def hideEvent(self, event) -> None:
        self.animation.stop()
        super().hideEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.scale(self._scale, self._scale)
        ink, primary = QColor(theme.TEXT), QColor(theme.PRIMARY)
        self._camera(p, ink)
        self._line_of_sight(p, primary)
        p.save()
        p.translate(180, 270)
        p.rotate(2.5 * self._tilt)          # a gentle rock: hold it here
        p.scale(0.8, 0.8)
        self._phone(p, ink, primary)
        self._hand(p, ink)
        p.restore()
        p.end()

    @staticmethod
    def _camera(p: QPainter, ink: QColor) -> None:
        """The kiosk's top edge with the camera lens in it."""
        p.setPen(_pen(ink, 6))
        p.drawLine(QPointF(40, 24), QPointF(320, 24))
        p.setBrush(QColor(theme.SURFACE))
        p.drawEllipse(QPointF(180, 30), 22, 22)
        p.setBrush(ink)
        p.drawEllipse(QPointF(180, 30), 9, 9)

    @staticmethod
    def _line_of_sight(p: QPainter, primary: QColor) -> None:
        pen = _pen(primary, 4, Qt.PenStyle.DashLine)
        p.setPen(pen)
        p.drawLine(QPointF(180, 58), QPointF(180, 150))
        # the "about 30 cm" bracket at the side
        p.setPen(_pen(primary, 3))
        p.drawLine(QPointF(300, 40), QPointF(300, 170))
        p.drawLine(QPointF(290, 40), QPointF(310, 40))
        p.drawLine(QPointF(290, 170), QPointF(310, 170))
        font = QFont(p.font())
        font.setPixelSize(20)
        font.setBold(True)
        p.setFont(font)
        p.drawText(QRectF(250, 90, 100, 40), Qt.AlignmentFlag.AlignCenter, "30 cm")

    @staticmethod
    def _phone(p: QPainter, ink: QColor, primary: QColor) -> None:
        """Centred on (0, 0): body, screen, app bar and the QR code."""
        body = QRectF(-80, -140, 160, 280)
        p.setPen(_pen(ink, 6))
        p.setBrush(QColor("#2B2B2B"))
        p.drawRoundedRect(body, 22, 22)
        screen = QRectF(-68, -118, 136, 236)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor("#FFFFFF"))
        p.drawRoundedRect(screen, 8, 8)
        p.setBrush(primary)
        p.drawRect(QRectF(-68, -118, 136, 26))          # the app's bar
        side, origin = 4.8, QPointF(-50.4, -62)
        p.setBrush(QColor("#000000"))
        for y in range(21):
            for x in range(21):
                if _module_on(x, y):
                    p.drawRect(QRectF(origin.x() + x * side, origin.y() + y * side, side, side))

    @staticmethod
    def _hand(p: QPainter, ink: QColor) -> None:
        """Fingers from below and a thumb on the side: the phone is held, screen to the camera."""
        p.setPen(_pen(ink, 5))
        p.setBrush(QColor("#F2C9A0"))
        palm = QPainterPath()
        palm.moveTo(-95, 175)
        palm.cubicTo(-100, 120, -90, 95, -78, 95)
        palm.lineTo(-70, 150)
        palm.lineTo(70, 150)
        palm.lineTo(78, 105)
        palm.cubicTo(95, 110, 100, 140, 95, 175)
        palm.closeSubpath()
        p.drawPath(palm)
        for dx in (-45, -15, 15, 45):                  # fingertips over the bottom edge
            p.drawRoundedRect(QRectF(dx - 13, 118, 26, 40), 12, 12)
