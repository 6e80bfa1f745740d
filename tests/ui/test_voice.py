"""Voice prompts: the same words as on screen, per step, through the real espeak-ng engine; mute."""

from __future__ import annotations

import io
import wave

from PySide6.QtCore import Qt

from ui.voice import EspeakEngine, RecordingSink, VoicePrompter, make_prompter


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


def test_every_screen_and_step_is_spoken_with_its_on_screen_words(qtbot, make_window, sink):
    window = make_window(flows={"retiree_certification": _TwoSteps})
    assert window.prompter.engine_name == "espeak"
    _wait_spoken(qtbot, sink, "请插入社保卡或触摸屏幕开始")
    first = sink.utterances[-1]
    assert first.voice == "cmn" and first.language == "zh_CN"
    assert first.audio.startswith(b"RIFF") and len(first.audio) > 10_000      # real synthesis
    with wave.open(io.BytesIO(first.audio)) as wav:                             # sizes in the header are real
        assert wav.getnframes() * wav.getsampwidth() == len(first.audio) - 44

    qtbot.mouseClick(window.attract, Qt.MouseButton.LeftButton)
    _wait_spoken(qtbot, sink, window.home.title_label.text())

    qtbot.mouseClick(window.home.service_buttons["retiree_certification"], Qt.MouseButton.LeftButton)
    step_one = f"{window.step.title_label.text()} {window.step.instruction_label.text()}"
    assert step_one == "查询卡状态 请插入社保卡或触摸屏幕开始"
    _wait_spoken(qtbot, sink, step_one)

    window.flow.next()
    step_two = f"{window.step.title_label.text()} {window.step.instruction_label.text()}"
    assert step_two == "修改密码 设置新的六位数字密码"
    _wait_spoken(qtbot, sink, step_two)

    window.step.show_error("Something went wrong", window.host.counter_text(), [window.host.home_action()])
    _wait_spoken(qtbot, sink, "办理未成功 请携带身份证和社保卡到服务窗口办理，或拨打 12333 咨询。")

    window.toggle_language()                    # the current screen is said again, in English
    _wait_spoken(qtbot, sink, "Something went wrong Please go to a service counter with your ID card and "
                              "social security card, or call 12333 for help.")
    assert sink.utterances[-1].voice == "en"


def test_mute_is_on_every_screen_and_silences(qtbot, window, sink):
    _wait_spoken(qtbot, sink, "请插入社保卡或触摸屏幕开始")
    assert window.topbar.mute_button.isVisible()
    qtbot.mouseClick(window.topbar.mute_button, Qt.MouseButton.LeftButton)
    assert window.prompter.muted and window.topbar.mute_button.text() == "✕ 声音：关"
    assert sink.stops >= 1                      # whatever was playing stopped at once
    count = len(sink.utterances)
    qtbot.mouseClick(window.attract, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(window.home.service_buttons["card_status"], Qt.MouseButton.LeftButton)
    assert window.topbar.mute_button.isVisible()
    qtbot.wait(400)
    assert len(sink.utterances) == count
    qtbot.mouseClick(window.topbar.mute_button, Qt.MouseButton.LeftButton)
    window.speak_current()
    _wait_spoken(qtbot, sink, window.error.prompt())


def test_latest_prompt_wins(qtbot, qapp):
    sink = RecordingSink()
    prompter = VoicePrompter(EspeakEngine(), sink)
    try:
        for n in range(5):
            prompter.say(f"第 {n} 步", "zh_CN")
        _wait_spoken(qtbot, sink, "第 4 步")
        qtbot.wait(300)
        assert sink.texts[-1] == "第 4 步" and len(sink.texts) <= 2     # stale prompts were dropped
    finally:
        prompter.close()


def test_engine_choice_falls_back_and_none_is_silent(qapp):
    none = make_prompter("none")
    assert none.engine is None and none.engine_name == "none"
    none.say("anything", "en")                  # no engine: nothing happens, nothing raises
    disabled = make_prompter("espeak", enabled=False)
    assert disabled.engine is None
    qt = make_prompter("qt", sink=RecordingSink())
    try:
        # This machine has no working Qt speech backend (no speech-dispatcher): espeak takes over.
        assert qt.engine_name in ("qt", "espeak")
    finally:
        qt.close()
