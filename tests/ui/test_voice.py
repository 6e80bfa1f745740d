"""The voice in the shell: every screen spoken from the voice pack in natural Mandarin (English
from the pack too), the controls (mute for the visit, volume, speed, repeat), the voice stopping
the moment the screen changes, a kiosk without its voice pack, and real playback to ALSA's null
device with the kiosk staying responsive."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

from PySide6.QtCore import QCoreApplication, Qt, QTimer

from kiosk.doctor import Verdict
from kiosk.doctor import voice as voice_doctor
from kiosk.session import EndReason
from kiosk.voice.pack import SAMPLE_RATE
from ui.voice import VOLUMES, AudioSink, RecordingSink, VoicePrompter, make_prompter

ATTRACT = "请插入社保卡或触摸屏幕开始"


def _wait_spoken(qtbot, sink: RecordingSink, text: str) -> None:
    qtbot.waitUntil(lambda: bool(sink.utterances) and sink.utterances[-1].text == text, timeout=8000)


class _TwoSteps:
    def __init__(self, host) -> None:
        self.host = host

    def start(self) -> None:
        self.host.enter_step("a", "Card status", "Insert your card or touch the screen to start", 1, 2)

    def next(self) -> None:
        self.host.enter_step("b", "Change PIN", "Set a new six-digit PIN", 2, 2)

    def stop(self) -> None:
        pass


def test_every_screen_and_step_is_spoken_from_the_voice_pack(qtbot, make_window, sink):
    window = make_window(flows={"retiree_certification": _TwoSteps})
    assert window.prompter.engine_name == "pack"
    _wait_spoken(qtbot, sink, ATTRACT)
    first = sink.utterances[-1]
    assert first.engine == "pack" and first.voice == "sscard-kiosk-voice" and first.language == "zh_CN"
    assert first.rate == SAMPLE_RATE and 1.0 < len(first.pcm) / 2 / SAMPLE_RATE < 6.0   # real speech
    assert first.audio.startswith(b"RIFF")

    qtbot.mouseClick(window.attract, Qt.MouseButton.LeftButton)
    _wait_spoken(qtbot, sink, window.home.title_label.text())

    qtbot.mouseClick(window.home.service_buttons["retiree_certification"], Qt.MouseButton.LeftButton)
    step_one = f"{window.step.title_label.text()} {window.step.instruction_label.text()}"
    assert step_one == "查询卡状态 请插入社保卡或触摸屏幕开始"
    _wait_spoken(qtbot, sink, f"第 1 步，共 2 步 {step_one}")          # the step count is said first
    assert "第一步，共两步" in window.prompter.compose(sink.texts[-1], "zh_CN").transcript
    window.flow.next()
    step_two = f"{window.step.title_label.text()} {window.step.instruction_label.text()}"
    _wait_spoken(qtbot, sink, f"第 2 步，共 2 步 {step_two}")

    window.step.show_error("Something went wrong", window.host.counter_text(), [window.host.home_action()])
    said = "办理未成功 请携带身份证和社保卡到服务窗口办理，或拨打 12333 咨询。"
    _wait_spoken(qtbot, sink, said)
    composed = window.prompter.compose(said, "zh_CN")
    assert composed.complete and "幺二三三三" in composed.transcript       # the hotline, digit by digit

    window.toggle_language()                    # the current screen is said again, in English
    _wait_spoken(qtbot, sink, "Something went wrong Please go to a service counter with your ID card and "
                              "social security card, or call 12333 for help.")
    assert sink.utterances[-1].engine == "pack" and sink.utterances[-1].language == "en"


def test_voice_stops_the_moment_the_screen_changes(qtbot, window, sink):
    _wait_spoken(qtbot, sink, ATTRACT)
    stops = sink.stops
    qtbot.mouseClick(window.attract, Qt.MouseButton.LeftButton)
    assert sink.stops > stops                   # synchronously, before the next prompt is ready
    _wait_spoken(qtbot, sink, window.home.title_label.text())


def test_controls_volume_speed_repeat_and_mute_last_for_the_visit_only(qtbot, window, sink):
    _wait_spoken(qtbot, sink, ATTRACT)
    controls = window.voice_controls
    assert controls.isVisible() and window.topbar.mute_button.isVisible()
    normal = sink.utterances[-1]
    assert normal.volume == VOLUMES[1] and controls.volume_button.text() == "音量 ●●○"

    qtbot.mouseClick(controls.volume_button, Qt.MouseButton.LeftButton)      # louder, said again
    qtbot.waitUntil(lambda: sink.utterances[-1].volume == VOLUMES[2], timeout=8000)
    assert controls.volume_button.text() == "音量 ●●●" and controls.volume_button.accessibleName() == "音量：高"

    qtbot.mouseClick(controls.speed_button, Qt.MouseButton.LeftButton)       # slower, said again
    qtbot.waitUntil(lambda: sink.utterances[-1].speed == "slow", timeout=8000)
    slow = sink.utterances[-1]
    assert slow.text == ATTRACT and len(slow.pcm) > len(normal.pcm) * 1.1 and controls.speed_button.text() == "语速：慢"

    count = len(sink.utterances)
    qtbot.mouseClick(controls.repeat_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(sink.utterances) > count, timeout=8000)
    assert sink.utterances[-1].text == ATTRACT

    qtbot.mouseClick(window.attract, Qt.MouseButton.LeftButton)               # a visit starts
    qtbot.mouseClick(window.topbar.mute_button, Qt.MouseButton.LeftButton)
    assert window.prompter.muted and window.topbar.mute_button.text() == "✕ 声音：关"
    count = len(sink.utterances)
    qtbot.mouseClick(window.home.service_buttons["card_status"], Qt.MouseButton.LeftButton)
    qtbot.wait(400)
    assert len(sink.utterances) == count        # muted: nothing said

    window.core.end_visit(EndReason.FINISHED)
    qtbot.waitUntil(lambda: window.current_page == "attract", timeout=5000)
    # The next citizen hears the kiosk again, at the default volume and speed.
    assert not window.prompter.muted and window.topbar.mute_button.text() == "♪ 声音：开"
    qtbot.waitUntil(lambda: len(sink.utterances) > count, timeout=8000)
    assert sink.utterances[-1].text == ATTRACT
    assert sink.utterances[-1].volume == VOLUMES[1] and sink.utterances[-1].speed == "normal"


def test_latest_prompt_wins(qtbot, qapp):
    sink = RecordingSink()
    prompter = make_prompter("pack", sink=sink)
    try:
        for n in range(5):
            prompter.say(f"第 {n + 1} 步，共 5 步", "zh_CN")
        _wait_spoken(qtbot, sink, "第 5 步，共 5 步")
        qtbot.wait(300)
        assert sink.texts[-1] == "第 5 步，共 5 步" and len(sink.texts) <= 2     # stale prompts dropped
    finally:
        prompter.close()


def test_engine_none_is_silent(qapp):
    none = make_prompter("none")
    assert none.engine is None and none.engine_name == "none"
    none.say("anything", "en")
    assert isinstance(none.sink, RecordingSink) and none.sink.utterances == []
    assert make_prompter("pack", enabled=False).engine is None


def test_kiosk_runs_without_the_voice_pack_captions_stay(qtbot, make_window, config, sink, tmp_path: Path):
    missing = dataclasses.replace(config, ui=dataclasses.replace(config.ui, voice_pack_dir=str(tmp_path / "gone")))
    window = make_window(config=missing)
    assert window.attract.prompt() == ATTRACT                          # the caption is there
    qtbot.wait(600)
    assert sink.utterances == []                                       # no Mandarin noise instead
    window.toggle_language()                                           # English: live espeak-ng fallback
    qtbot.waitUntil(lambda: bool(sink.utterances), timeout=8000)
    assert sink.utterances[-1].engine == "espeak" and sink.utterances[-1].language == "en"
    results = {r.name: r for r in voice_doctor.checks(missing)}
    assert results["voice pack"].verdict is Verdict.WARN and "no voice pack" in results["voice pack"].detail
    assert "scripts/build_voice.py" in results["voice pack"].todo
    ok = {r.name: r for r in voice_doctor.checks(config)}
    assert ok["voice pack"].verdict is Verdict.OK and "non-commercial" in ok["voice pack"].detail
    assert ok["voice output"].verdict is Verdict.OK


def test_real_audio_to_alsa_null_keeps_the_kiosk_responsive(qtbot, make_window, alsa_null):
    """Issue 19's freeze: audio played while the screens change fast; the GUI thread never waits."""
    audio = AudioSink("default")
    assert audio.player is not None
    prompter: VoicePrompter = make_prompter("pack", sink=audio)
    window = make_window(prompter=prompter)
    ticks: list[float] = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start(10)
    try:
        qtbot.waitUntil(lambda: audio.player.played >= 1, timeout=8000)
        for n in range(60):                     # tap in, choose, cancel, switch language: fast
            qtbot.mouseClick(window.attract, Qt.MouseButton.LeftButton)
            if window.current_page == "home":
                window.start_service("card_status")
                qtbot.wait(15)
                window.go_home()
            if n % 10 == 9:
                window.toggle_language()
            prompter.repeat()
            qtbot.wait(15)
        answered: list[bool] = []
        QTimer.singleShot(0, lambda: answered.append(True))
        qtbot.waitUntil(lambda: bool(answered), timeout=2000)          # the event loop still answers
        qtbot.waitUntil(lambda: not audio.player.busy, timeout=10000)
        assert audio.player.played >= 3 and audio.player.failures == 0
        assert len(ticks) > 50                                         # the GUI thread kept running
        QCoreApplication.processEvents()
    finally:
        timer.stop()


def test_old_engine_name_qt_means_the_pack(qapp):
    """Site files written for the QTextToSpeech engine keep working: "qt" is the pack now."""
    prompter = make_prompter("qt", sink=RecordingSink())
    try:
        assert prompter.engine_name == "pack"
    finally:
        prompter.close()
