"""Idle countdown and the wipe: after a timeout nothing personal survives in the core or any widget."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QEvent, Qt
from PySide6.QtWidgets import QApplication, QLabel, QLineEdit, QVBoxLayout, QWidget
from shell_helpers import all_texts, visible_texts

from drivers.api import DeviceWorker, MediaRemoved
from ui.bridge import CITIZEN_CARD_READER, DeviceBridge

NAME = "欧阳秀兰"
ID_NUMBER = "44010619580315482X"      # well-formed (check digit valid), not a real person


class PersonalFlow:
    """Shows the holder's name and ID number the way the card-status flow will."""

    def __init__(self, host) -> None:
        self.host = host

    def start(self) -> None:
        personal = self.host.session.personal
        personal["name"] = NAME
        personal["id_number"] = ID_NUMBER
        personal["card_data"] = bytearray(b"\x01\x02" + ID_NUMBER.encode())
        body = QWidget()
        box = QVBoxLayout(body)
        box.addWidget(QLabel(f"姓名：{NAME}"))
        edit = QLineEdit()
        edit.setText(ID_NUMBER)
        edit.setToolTip(ID_NUMBER)
        box.addWidget(edit)
        self.host.enter_step("confirm_holder", lambda: f"{NAME}，您好", lambda: f"身份证号 {ID_NUMBER}", 2, 4, body=body)

    def stop(self) -> None:
        pass


def _flush_deletes() -> None:
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    QApplication.processEvents()


def _open_personal_step(qtbot, make_window):
    reader = DeviceWorker(CITIZEN_CARD_READER)
    bridge = DeviceBridge()
    bridge.attach(CITIZEN_CARD_READER, reader)
    window = make_window(flows={"card_status": PersonalFlow}, bridge=bridge)
    qtbot.mouseClick(window.attract, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(window.home.service_buttons["card_status"], Qt.MouseButton.LeftButton)
    assert window.current_page == "step"
    texts = "\n".join(visible_texts(window))
    assert NAME in texts and ID_NUMBER in texts     # the test data really is on screen
    return window


def test_timeout_shows_countdown_then_wipes_everything(qtbot, make_window, core, clock, sink):
    window = _open_personal_step(qtbot, make_window)
    personal = core.personal
    card_data = personal["card_data"]
    window.host.show_result("Done", lambda: f"{NAME} {ID_NUMBER}", details=[lambda: ID_NUMBER])
    window.history.append("step")               # any navigation history must go too

    clock.advance(25)                           # result_timeout_s=20 -> countdown running
    qtbot.waitUntil(window.countdown.isVisible, timeout=2000)
    left = window.countdown.seconds
    assert 1 <= left <= 15
    assert f"还剩 {left} 秒，触摸屏幕继续" in visible_texts(window)
    qtbot.waitUntil(lambda: any("触摸屏幕继续" in t for t in sink.texts), timeout=5000)

    clock.advance(16)
    qtbot.waitUntil(lambda: core.visit is None, timeout=2000)
    _flush_deletes()
    assert window.current_page == "attract"
    assert not window.countdown.isVisible()
    assert "ℹ 上一位市民长时间未操作，业务已结束，信息均已清除。" in visible_texts(window)
    # the core
    assert core.state.value == "idle" and len(personal) == 0
    assert card_data == bytearray(len(card_data))           # zeroed, not just dropped
    # every widget in the application, visible or not, and the window's own state
    for widget in QApplication.allWidgets():
        for text in all_texts(widget):
            assert NAME not in text and ID_NUMBER not in text, (type(widget).__name__, text)
    assert window.history == []
    assert window.step.body is None and window.flow is None
    assert window.step.prompt() == "" and window.result.prompt() == ""
    clipboard = QApplication.clipboard()
    assert NAME not in clipboard.text() and ID_NUMBER not in clipboard.text()


def test_touch_during_countdown_keeps_the_visit(qtbot, window, core, clock):
    qtbot.mouseClick(window.attract, Qt.MouseButton.LeftButton)
    clock.advance(62)
    qtbot.waitUntil(window.countdown.isVisible, timeout=2000)
    assert window.countdown.continue_button.height() >= 60
    qtbot.mouseClick(window.countdown, Qt.MouseButton.LeftButton, pos=window.countdown.rect().topLeft())
    assert not window.countdown.isVisible()
    assert core.visit is not None and window.current_page == "home"
    clock.advance(30)                           # the idle timer restarted at the touch
    qtbot.wait(600)
    assert not window.countdown.isVisible() and core.visit is not None


def test_any_key_or_touch_resets_idle(qtbot, window, core, clock):
    qtbot.mouseClick(window.attract, Qt.MouseButton.LeftButton)
    clock.advance(50)
    qtbot.keyClick(window, Qt.Key.Key_5)        # a key anywhere counts (the guard sees it first)
    clock.advance(50)
    qtbot.wait(600)
    assert not window.countdown.isVisible() and core.visit is not None


def test_card_pulled_ends_visit_with_wipe(qtbot, make_window, core):
    window = _open_personal_step(qtbot, make_window)
    window.bridge.post_event(MediaRemoved(CITIZEN_CARD_READER))
    qtbot.waitUntil(lambda: core.visit is None, timeout=2000)
    _flush_deletes()
    assert window.current_page == "attract"
    assert "ℹ 社保卡已取出，业务已结束，信息均已清除。" in visible_texts(window)
    for widget in QApplication.allWidgets():
        for text in all_texts(widget):
            assert NAME not in text and ID_NUMBER not in text
