"""The language switch is on every screen and re-renders every visible text live."""

from __future__ import annotations

from PySide6.QtCore import Qt
from shell_helpers import visible_texts

from kiosk import i18n


def _switch_and_compare(qtbot, window, must_show_en: str, must_show_zh: str) -> None:
    assert window.topbar.language_button.isVisible()
    assert window.topbar.language_button.text() == "English"
    zh = visible_texts(window)
    assert must_show_zh in "\n".join(zh)
    qtbot.mouseClick(window.topbar.language_button, Qt.MouseButton.LeftButton)
    assert i18n.language() == "en"
    en = visible_texts(window)
    assert must_show_en in "\n".join(en)
    assert window.topbar.language_button.text() == "中文"
    # everything translatable changed: no Chinese-only text is left on screen in English
    assert not [t for t in en if any("\u4e00" <= ch <= "\u9fff" for ch in t) and t != "中文"]
    qtbot.mouseClick(window.topbar.language_button, Qt.MouseButton.LeftButton)
    assert i18n.language() == "zh_CN"
    assert visible_texts(window) == zh


def test_attract(qtbot, window):
    _switch_and_compare(qtbot, window, "Insert your card or touch the screen to start", "请插入社保卡或触摸屏幕开始")


def test_home(qtbot, window):
    qtbot.mouseClick(window.attract, Qt.MouseButton.LeftButton)
    _switch_and_compare(qtbot, window, "Retiree certification", "养老金资格认证")


def test_error_screen(qtbot, window):
    qtbot.mouseClick(window.attract, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(window.home.service_buttons["real_name"], Qt.MouseButton.LeftButton)
    _switch_and_compare(qtbot, window, "call 12333", "拨打 12333")


class _Flow:
    def __init__(self, host) -> None:
        self.host = host

    def start(self) -> None:
        self.host.enter_step("choose", "Please choose a service", "Touch a large button below. You can cancel at any step.", 3, 5)

    def stop(self) -> None:
        pass


def test_step_layout_step_error_and_result(qtbot, make_window):
    window = make_window(flows={"retiree_certification": _Flow})
    qtbot.mouseClick(window.attract, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(window.home.service_buttons["retiree_certification"], Qt.MouseButton.LeftButton)
    assert window.current_page == "step"
    _switch_and_compare(qtbot, window, "Step 3 of 5", "第 3 步，共 5 步")
    window.step.show_error("Something went wrong", window.host.counter_text(), [window.host.home_action()])
    _switch_and_compare(qtbot, window, "Need help? Go to a service counter or call 12333.", "返回首页")
    window.host.show_result("Done", "Please note")
    _switch_and_compare(qtbot, window, "Finish and take my card", "结束并取回社保卡")


def test_countdown_overlay(qtbot, window, clock):
    qtbot.mouseClick(window.attract, Qt.MouseButton.LeftButton)
    clock.advance(61)
    qtbot.waitUntil(window.countdown.isVisible, timeout=2000)
    # the language button sits under the overlay; switching is done by the API here, and the
    # overlay's own texts must follow
    seconds = window.countdown.seconds
    window.toggle_language()
    assert f"{seconds} seconds left. Touch the screen to continue." in visible_texts(window)
    window.toggle_language()
    assert f"还剩 {seconds} 秒，触摸屏幕继续" in visible_texts(window)


def test_operator_dialog(qtbot, window):
    dialog = window.operator.open_dialog()
    qtbot.waitUntil(dialog.isVisible)
    assert "请输入管理员密码。" in visible_texts(dialog)
    window.toggle_language()
    assert "Enter the operator secret." in visible_texts(dialog)
    assert "Exit the kiosk" in visible_texts(dialog)
