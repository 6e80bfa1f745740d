"""The face step's movement timer (issue 19): a countdown for each move of the active challenge and
one spoken warning before the move times out. End to end on the demo kiosk with the challenge on:
the still-picture camera never turns its head, so the real verifier times the move out while the
screen counts down; that screen passes the screen audit in both languages."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from screen_audit import audit
from service_helpers import (
    LIVE,
    Kiosk,
    bridge_for,
    flow_factories,
    kiosk_with_templates,
    screen_text,
    wait_until,
    zh,
)

from drivers.api import DeviceStatus
from kiosk import i18n
from kiosk.messages import face as F
from kiosk.messages import flows as M
from models.challenge import ChallengeStep
from models.policy import FaceOutcome
from models.verifier import FaceChallengePrompt, FaceStage
from ui.widgets.flow_bodies import FaceBody
from ui.widgets.move_timer import MOVE_HURRY, MOVE_TIME_LEFT

pytestmark = pytest.mark.gui
MOVE_S = 4.0


def seconds_shown(body: FaceBody) -> int | None:
    found = re.search(r"\d+", body.move_timer.label.text())
    return int(found.group()) if found and body.move_timer.label.isVisible() else None


def test_each_move_gets_its_own_countdown_and_one_warning(qtbot: Any) -> None:
    said: list[str] = []
    body = FaceBody(None, say=said.append, move_time_s=2.5)
    qtbot.addWidget(body)
    body.show()
    assert not body.move_timer.label.isVisible()          # no move yet: no timer
    body.post_event(FaceChallengePrompt("face", ChallengeStep.TURN_LEFT, 0, 2, 0.0))
    qtbot.waitUntil(lambda: seconds_shown(body) == 3, timeout=2000)
    assert zh(MOVE_TIME_LEFT, n=3) in body.move_timer.label.text()
    qtbot.waitUntil(lambda: said[-1:] == [zh(MOVE_HURRY, n=2)], timeout=3000)
    qtbot.waitUntil(lambda: seconds_shown(body) == 0, timeout=4000)
    body.post_event(FaceChallengePrompt("face", ChallengeStep.NOD, 1, 2, 0.0))   # the next move: a fresh count
    qtbot.waitUntil(lambda: seconds_shown(body) == 3, timeout=2000)
    body.post_event(FaceChallengePrompt("face", ChallengeStep.NOD, 1, 2, 1.0))   # done: no warning for it
    qtbot.wait(1500)
    assert body.move_timer.warnings == 1
    i18n.set_language("en")
    try:
        qtbot.waitUntil(lambda: "s left for this movement" in body.move_timer.label.text(), timeout=2000)
    finally:
        i18n.set_language("zh_CN")
    body.post_event(FaceStage("face", "done"))
    qtbot.waitUntil(lambda: not body.move_timer.label.isVisible(), timeout=2000)
    assert not body.move_timer.running


@pytest.fixture(scope="module")
def kiosk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kiosk]:
    k = kiosk_with_templates(tmp_path_factory.mktemp("ui-move-timer"), ui={"idle_timeout_s": 60, "countdown_s": 5},
                             face={"active_challenge": True, "challenge_steps": 2, "challenge_step_timeout_s": MOVE_S,
                                   "decision_timeout_s": 30.0})
    try:
        yield k
    finally:
        k.services.close()


def test_the_real_challenge_counts_down_warns_and_times_out(qtbot: Any, make_window: Any, kiosk: Kiosk,
                                                            sink: Any, tmp_path: Path) -> None:
    services = kiosk.services
    kiosk.camera_shows(LIVE)
    config = dataclasses.replace(services.config, ui=dataclasses.replace(services.config.ui, voice=True,
                                                                         voice_engine="espeak"))
    bridge = bridge_for(services)
    window = make_window(config=config, core=services.session, bridge=bridge, flows=flow_factories(services))
    try:
        id_number, _ = kiosk.person("孟庆华")
        card = kiosk.insert(id_number, "孟庆华")
        card.tries_left = 0
        qtbot.waitUntil(lambda: window.current_page == "home", timeout=10000)
        window.home.service_buttons["pin_reset"].click()
        for choice in (M.CHOICE_RESET, M.AGREE):
            qtbot.waitUntil(lambda c=choice: zh(c) in screen_text(window), timeout=30000)
            next(b for b in window.step.body.buttons.values() if b.text() == zh(choice)).click()
        qtbot.waitUntil(lambda: isinstance(window.step.body, FaceBody) and seconds_shown(window.step.body) is not None,
                        timeout=30000)
        body = window.step.body
        first = seconds_shown(body)
        assert first is not None and first <= MOVE_S
        # The screen with the timer, audited in both languages and grabbed.
        findings: list[str] = []
        for language in ("zh_CN", "en"):
            i18n.set_language(language)
            qtbot.wait(120)            # let the layout settle, as a person would see it (a busy machine: retried)
            try:
                qtbot.waitUntil(lambda lang=language: not audit(window, "face-move-timer", lang), timeout=2000)
            except Exception:
                findings += audit(window, "face-move-timer", language)
            image = window.grab().toImage()
            assert not image.isNull() and image.save(str(tmp_path / f"face-move-timer-{language}.png"))
        i18n.set_language("zh_CN")
        assert not findings, "\n".join(findings)
        qtbot.waitUntil(lambda: (seconds_shown(body) or 99) < first, timeout=5000)        # it counts down
        qtbot.waitUntil(lambda: any(zh(MOVE_HURRY, n=n) in t for n in (1, 2) for t in sink.texts), timeout=10000)
        # A still picture never turns: the verifier ends the move, the screen says so.
        qtbot.waitUntil(lambda: zh(F.OUTCOME[FaceOutcome.CHALLENGE_FAILED]) in screen_text(window), timeout=15000)
        assert sum(zh(MOVE_HURRY, n=n) in t for n in (1, 2) for t in sink.texts) == 1      # said once
    finally:
        i18n.set_language("zh_CN")
        kiosk.remove_card()
        wait_until(lambda: services.card.status is DeviceStatus.NO_MEDIA, 5, "the reader to show no card")
        qtbot.waitUntil(lambda: window.current_page == "attract", timeout=10000)
        services.flows.cancel("test end")
        bridge.detach_all()
