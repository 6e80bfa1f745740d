"""Start-up, home, services without flows, keyboard hardening, the step layout API."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QContextMenuEvent
from PySide6.QtWidgets import QApplication, QLabel, QVBoxLayout, QWidget
from shell_helpers import visible_texts

from drivers.api import DeviceStatus, DeviceWorker, MediaInserted
from ui.bridge import CITIZEN_CARD_READER, DeviceBridge
from ui.services import SERVICES
from ui.widgets.error_panel import ErrorAction


def test_start_shows_attract_then_home_on_touch(qtbot, window):
    assert window.current_page == "attract"
    assert "请插入社保卡或触摸屏幕开始" in visible_texts(window)
    assert window.attract.hint.animation.state().name == "Running"
    qtbot.mouseClick(window.attract, Qt.MouseButton.LeftButton)
    assert window.current_page == "home"
    assert window.core.visit is not None and window.core.visit.trigger == "touch"
    texts = "\n".join(visible_texts(window))
    for title in ("查询卡状态", "修改密码", "密码重置/解锁", "养老金资格认证", "实名注册"):
        assert title in texts


def test_home_has_five_large_service_buttons(qtbot, window):
    qtbot.mouseClick(window.attract, Qt.MouseButton.LeftButton)
    buttons = window.home.service_buttons
    assert list(buttons) == [s.key for s in SERVICES]
    for key, btn in buttons.items():
        assert btn.isVisible(), key
        assert btn.height() >= 60 and btn.width() >= 60, (key, btn.size())


def test_service_without_flow_says_so_and_where_to_go(qtbot, window):
    qtbot.mouseClick(window.attract, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(window.home.service_buttons["pin_change"], Qt.MouseButton.LeftButton)
    assert window.current_page == "error"
    assert window.core.visit.service == "pin_change"
    text = "\n".join(visible_texts(window))
    assert "本终端暂未开通此项业务" in text
    assert "服务窗口" in text and "12333" in text
    back = next(b for b in window.error.panel.buttons if b.text() == "返回首页")
    qtbot.mouseClick(back, Qt.MouseButton.LeftButton)
    assert window.current_page == "home"
    assert window.core.visit.service is None


class _StepFlow:
    """A tiny real flow (the issue-6 flows follow the same contract): two steps, then a result."""

    def __init__(self, host) -> None:
        self.host = host
        self.stopped = False

    def start(self) -> None:
        body = QWidget()
        QVBoxLayout(body).addWidget(QLabel("body text"))
        self.host.enter_step("read_card", "Card status", "Touch a large button below. You can cancel at any step.",
                             1, 2, body=body)

    def fail(self) -> None:
        self.host.step.show_error("Something went wrong", self.host.counter_text(),
                                  [self.host.retry_action(self.start), self.host.home_action()])

    def stop(self) -> None:
        self.stopped = True


def test_service_needing_card_refused_without_reader(qtbot, make_window):
    window = make_window(flows={"card_status": _StepFlow})
    qtbot.mouseClick(window.attract, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(window.home.service_buttons["card_status"], Qt.MouseButton.LeftButton)
    assert window.current_page == "error"
    assert "读卡器暂时无法使用" in "\n".join(visible_texts(window))


def test_flow_drives_step_layout_error_and_result(qtbot, make_window):
    reader = DeviceWorker(CITIZEN_CARD_READER)
    bridge = DeviceBridge()
    bridge.attach(CITIZEN_CARD_READER, reader)
    window = make_window(flows={"card_status": _StepFlow}, bridge=bridge)
    qtbot.mouseClick(window.attract, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(window.home.service_buttons["card_status"], Qt.MouseButton.LeftButton)
    flow = window.flow
    assert window.current_page == "step"
    assert window.core.visit.step.key == "read_card"
    texts = visible_texts(window)
    assert "第 1 步，共 2 步" in texts and "body text" in texts
    assert window.step.progress_bar.value() == 1 and window.step.progress_bar.maximum() == 2
    assert window.step.progress_bar.isVisible()

    flow.fail()
    assert window.step.showing_error
    text = "\n".join(visible_texts(window))
    assert "办理未成功" in text and "12333" in text and "重试" in text

    window.host.show_result("Done", "Please note", details=["detail line"], ok=True)
    assert window.current_page == "result" and window.core.state.value == "result"
    assert "✔ 办理完成" in visible_texts(window)
    qtbot.mouseClick(window.result.home_button, Qt.MouseButton.LeftButton)
    assert window.current_page == "home" and flow.stopped
    assert window.step.body is None


def test_error_without_next_step_is_refused(window):
    import pytest

    with pytest.raises(ValueError, match="what to do next"):
        window.step.show_error("Something went wrong", "", [ErrorAction("Try again", lambda: None)])


def test_keyboard_shortcuts_do_not_close_the_window(qtbot, window):
    qtbot.mouseClick(window.attract, Qt.MouseButton.LeftButton)
    combos = [(Qt.Key.Key_F4, Qt.KeyboardModifier.AltModifier), (Qt.Key.Key_Escape, Qt.KeyboardModifier.NoModifier),
              (Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier), (Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier),
              (Qt.Key.Key_Tab, Qt.KeyboardModifier.AltModifier), (Qt.Key.Key_F11, Qt.KeyboardModifier.NoModifier)]
    blocked_before = window.guard.blocked
    for key, modifier in combos:
        qtbot.keyClick(window, key, modifier)
        qtbot.keyClick(window.home.service_buttons["card_status"], key, modifier)
    assert window.guard.blocked >= blocked_before + len(combos) * 2
    window.close()                      # what a window manager does on Alt+F4
    QApplication.processEvents()
    assert window.isVisible()
    assert window.current_page == "home" and window.core.visit is not None
    menu = QContextMenuEvent(QContextMenuEvent.Reason.Mouse, QPoint(10, 10), QPoint(10, 10))
    before = window.guard.blocked
    QApplication.sendEvent(window.home, menu)
    assert window.guard.blocked == before + 1


def test_card_inserted_on_device_thread_starts_visit_on_ui_thread(qtbot, make_window):
    reader = DeviceWorker(CITIZEN_CARD_READER)
    reader.start()
    bridge = DeviceBridge()
    bridge.attach(CITIZEN_CARD_READER, reader)
    window = make_window(bridge=bridge)
    try:
        # A real reader reports "no card" first: a card it reports without that was already in the
        # slot at start-up, and the kiosk refuses it (tests/ui/test_handback.py).
        reader.submit("empty", lambda ctx: reader.set_status(DeviceStatus.NO_MEDIA))
        reader.submit("insert", lambda ctx: reader.publish(MediaInserted(CITIZEN_CARD_READER)))
        qtbot.waitUntil(lambda: window.current_page == "home", timeout=3000)
        assert window.core.visit.trigger == "card"
        assert "ℹ 您的社保卡已插入。 请点击下方的大按钮。每一步都可以取消。" in visible_texts(window)
    finally:
        reader.stop()


def test_fullscreen_kiosk_has_no_frame_and_stays_on_top(qtbot, window):
    assert not window.isFullScreen()        # the fixture uses --windowed mode
    window.show_kiosk(fullscreen=True, hide_cursor=True, width=1920, height=1080)
    qtbot.waitUntil(window.isVisible)
    flags = window.windowFlags()
    assert flags & Qt.WindowType.FramelessWindowHint and flags & Qt.WindowType.WindowStaysOnTopHint
    assert window.isFullScreen()
    cursor = QApplication.overrideCursor()
    assert cursor is not None and cursor.shape() == Qt.CursorShape.BlankCursor
    window.shutdown()
    assert QApplication.overrideCursor() is None
