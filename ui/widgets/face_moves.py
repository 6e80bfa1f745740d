"""A picture of each challenge movement, drawn with QPainter (no image files): the face at rest, an
arrow, the face doing the movement. Shown beside the prompt on the face step.

The face is drawn as the person would see themselves in a mirror, so "turn your head to the left"
(the person's own left) shows the face turning towards the screen's left, with the arrow that way.
Steps are named by their ``models.challenge.ChallengeStep`` values (plain strings, so the widget does
not depend on the models package).
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen, QPolygonF
from PySide6.QtWidgets import QSizePolicy, QWidget

MOVES = ("turn_left", "turn_right", "nod", "look_up", "blink", "open_mouth")

SKIN = QColor("#F2C9A0")
LINE = QColor("#3A3F45")
ACCENT = QColor("#1E6FD9")


class MoveIllustration(QWidget):
    """Rest face -> arrow -> moved face for one step; empty (and hidden) for no step."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._step: str | None = None
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.setVisible(False)

    def sizeHint(self) -> QSize:
        return QSize(420, 120)       # shares the column with a three-line prompt and the move timer

    def minimumSizeHint(self) -> QSize:
        return self.sizeHint()

    @property
    def step(self) -> str | None:
        return self._step

    def set_step(self, step: str | None) -> None:
        """Unknown steps show nothing rather than a wrong picture."""
        self._step = step if step in MOVES else None
        self.setVisible(self._step is not None)
        self.update()

    def paintEvent(self, _event: object) -> None:
        if self._step is None:
            return
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        w, h = self.width(), self.height()
        r = min(h * 0.38, w * 0.16)
        left, right = QPointF(w * 0.2, h / 2), QPointF(w * 0.8, h / 2)
        try:
            draw_face(p, left, r, "rest")
            draw_face(p, right, r, self._step)
            _arrow(p, QPointF(w * 0.2 + r * 1.25, h / 2), QPointF(w * 0.8 - r * 1.25, h / 2), r * 0.22)
            _move_cue(p, right, r, self._step)
        finally:
            p.end()              # an open painter on a backing store crashes Qt


def _pen(color: QColor, width: float) -> QPen:
    pen = QPen(color, width)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    return pen


def draw_face(p: QPainter, c: QPointF, r: float, pose: str) -> None:
    """A simple head: an oval, eyes, nose, mouth; features shifted for turns and nods."""
    dx = {"turn_left": -0.26, "turn_right": 0.26}.get(pose, 0.0) * r
    dy = {"nod": 0.25, "look_up": -0.25}.get(pose, 0.0) * r
    p.setPen(QPen(LINE, max(2.0, r * 0.05)))
    p.setBrush(SKIN)
    p.drawEllipse(QRectF(c.x() - r * 0.8, c.y() - r, r * 1.6, r * 2.0))
    # hair line, so up / down reads at a glance
    hair = QPainterPath()
    hair.moveTo(c.x() - r * 0.72, c.y() - r * 0.5 + dy)
    hair.quadTo(c.x() + dx * 0.5, c.y() - r * 1.35 + dy, c.x() + r * 0.72, c.y() - r * 0.5 + dy)
    p.setBrush(LINE)
    p.drawPath(hair)
    ex, ey = r * 0.32, c.y() - r * 0.12 + dy
    eye_w, eye_h = r * 0.22, r * 0.13
    for side in (-1, 1):
        centre = QPointF(c.x() + side * ex + dx, ey)
        if pose == "blink":
            p.setPen(_pen(LINE, max(2.0, r * 0.06)))
            p.drawLine(QPointF(centre.x() - eye_w / 2, centre.y()), QPointF(centre.x() + eye_w / 2, centre.y()))
        else:
            p.setPen(QPen(LINE, max(1.5, r * 0.03)))
            p.setBrush(QColor("white"))
            p.drawEllipse(centre, eye_w / 2, eye_h / 2)
            p.setBrush(LINE)
            p.drawEllipse(QPointF(centre.x() + dx * 0.15, centre.y() + dy * 0.1), eye_h * 0.3, eye_h * 0.3)
    p.setPen(_pen(LINE, max(2.0, r * 0.05)))
    nose_x = c.x() + dx * 1.3
    p.drawLine(QPointF(nose_x, ey + r * 0.08), QPointF(nose_x + (dx * 0.2 or r * 0.04), c.y() + r * 0.22 + dy))
    mouth_y = c.y() + r * 0.5 + dy
    if pose == "open_mouth":
        p.setBrush(QColor("#7A2E2E"))
        p.drawEllipse(QPointF(c.x() + dx, mouth_y + r * 0.04), r * 0.2, r * 0.17)
    else:
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawLine(QPointF(c.x() - r * 0.2 + dx, mouth_y), QPointF(c.x() + r * 0.2 + dx, mouth_y))


def _arrow(p: QPainter, a: QPointF, b: QPointF, head: float) -> None:
    p.setPen(_pen(ACCENT, max(3.0, head * 0.35)))
    p.drawLine(a, QPointF(b.x() - head, b.y()))
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(ACCENT)
    p.drawPolygon(QPolygonF([b, QPointF(b.x() - head * 1.4, b.y() - head), QPointF(b.x() - head * 1.4, b.y() + head)]))


def _move_cue(p: QPainter, c: QPointF, r: float, step: str) -> None:
    """A curved arrow on the moved face showing the direction of the movement (and back)."""
    pen = _pen(ACCENT, max(3.0, r * 0.07))
    p.setPen(pen)
    p.setBrush(Qt.BrushStyle.NoBrush)
    head = r * 0.2
    if step in ("turn_left", "turn_right"):
        sign = -1 if step == "turn_left" else 1
        y = c.y() - r * 1.12
        path = QPainterPath(QPointF(c.x() - sign * r * 0.6, y))
        path.quadTo(QPointF(c.x(), y - r * 0.25), QPointF(c.x() + sign * r * 0.6, y))
        p.drawPath(path)
        tip = QPointF(c.x() + sign * r * 0.68, y + r * 0.02)
        tri = [tip, QPointF(tip.x() - sign * head, tip.y() - head * 0.8), QPointF(tip.x() - sign * head, tip.y() + head * 0.8)]
    elif step in ("nod", "look_up"):
        sign = 1 if step == "nod" else -1
        x = c.x() + r * 1.05
        p.drawLine(QPointF(x, c.y() - sign * r * 0.5), QPointF(x, c.y() + sign * r * 0.45))
        tip = QPointF(x, c.y() + sign * r * 0.6)
        tri = [tip, QPointF(x - head * 0.8, tip.y() - sign * head), QPointF(x + head * 0.8, tip.y() - sign * head)]
    else:
        return                                          # blink / open mouth: the face itself says it
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(ACCENT)
    p.drawPolygon(QPolygonF(tri))
