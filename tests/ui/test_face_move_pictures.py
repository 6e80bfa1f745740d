"""The face step shows a picture of each challenge movement beside its prompt (ui/widgets/face_moves.py):
driven through FaceBody's own event path, screenshotted, and the pictures checked to differ as the
movements do (a left turn's arrow on the left, a right turn's on the right, closed eyes, open mouth)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtGui import QImage

from kiosk import i18n
from kiosk.messages import face as F
from models.challenge import ChallengeStep
from models.quality import QualityReason
from models.verifier import FaceChallengePrompt, FaceQualityPrompt
from ui.widgets.face_moves import ACCENT, MOVES
from ui.widgets.flow_bodies import FaceBody


def pixels(image: QImage) -> np.ndarray:
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    row = image.bytesPerLine()
    data = np.frombuffer(image.constBits(), np.uint8, row * image.height()).reshape(image.height(), row)
    return data[:, :image.width() * 3].reshape(image.height(), image.width(), 3).copy()


def accent_columns(rgb: np.ndarray) -> np.ndarray:
    """Column indices of the arrow colour in the right half (the moved face and its cue)."""
    target = np.array([ACCENT.red(), ACCENT.green(), ACCENT.blue()])
    mask = np.abs(rgb.astype(int) - target).sum(2) < 30
    height, width = rgb.shape[:2]
    radius = min(height * 0.38, width * 0.16)           # as ui/widgets/face_moves.py draws it
    half = int(width * 0.8 - radius * 1.25) + 2         # right of the big arrow's head
    return np.nonzero(mask[:, half:])[1] + half


def test_each_challenge_step_shows_its_picture_and_a_quality_prompt_hides_it(qtbot: Any, tmp_path: Path) -> None:
    assert set(MOVES) == {s.value for s in ChallengeStep}          # every step has a picture
    i18n.set_language("zh_CN")
    said: list[str] = []
    body = FaceBody(None, say=said.append)
    qtbot.addWidget(body)
    body.show()
    assert not body.move_picture.isVisible()                         # nothing asked yet
    shots: dict[str, np.ndarray] = {}
    for i, step in enumerate(ChallengeStep):
        body.post_event(FaceChallengePrompt("face", step, i, len(ChallengeStep), 0.0))
        qtbot.waitUntil(lambda s=step: body.move_picture.step == s.value, timeout=5000)
        assert body.move_picture.isVisible()
        assert body.prompt_label.text() == i18n._(F.CHALLENGE[step])
        image = body.grab().toImage()
        image.save(str(tmp_path / f"face-move-{step.value}.png"))
        shots[step.value] = pixels(body.move_picture.grab().toImage())
    assert said == [i18n._(F.CHALLENGE[s]) for s in ChallengeStep]  # each prompt spoken once
    for a in MOVES:                                                  # six different pictures
        for b in MOVES:
            if a < b:
                assert np.abs(shots[a].astype(int) - shots[b].astype(int)).sum() > 0, (a, b)
    height, width = shots["turn_left"].shape[:2]
    centre = width * 0.8                                              # the moved face's centre
    radius = min(height * 0.38, width * 0.16)                         # the drawing scales with the widget
    assert accent_columns(shots["turn_left"]).min() < centre - radius / 2    # its cue reaches the left side
    assert accent_columns(shots["turn_right"]).max() > centre + radius / 2
    assert accent_columns(shots["blink"]).size == 0                  # the face itself says it
    assert len(list(tmp_path.glob("face-move-*.png"))) == len(ChallengeStep)
    body.post_event(FaceQualityPrompt("face", QualityReason.TOO_FAR))
    qtbot.waitUntil(lambda: not body.move_picture.isVisible(), timeout=5000)
    i18n.set_language(i18n.DEFAULT_LANGUAGE)
