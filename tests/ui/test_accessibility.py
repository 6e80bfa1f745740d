"""Age-friendly rules (适老化), measured on live widgets of every screen at 1920x1080."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase, QFontInfo
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget
from shell_helpers import check_screen

from ui import theme


def test_every_text_colour_pair_has_contrast_of_at_least_4_5():
    assert theme.contrast_ratio("#000000", "#FFFFFF") == 21.0      # the formula itself
    assert round(theme.contrast_ratio("#767676", "#FFFFFF"), 2) == 4.54
    for name, (fg, bg) in theme.TEXT_PAIRS.items():
        assert theme.contrast_ratio(fg, bg) >= 4.5, (name, fg, bg, theme.contrast_ratio(fg, bg))


def test_noto_sans_cjk_sc_is_installed_and_used(window):
    assert "Noto Sans CJK SC" in QFontDatabase.families(), "install fonts-noto-cjk (scripts/setup.sh)"
    info = QFontInfo(window.home.title_label.font())
    assert info.family() == "Noto Sans CJK SC"


class _Flow:
    def __init__(self, host) -> None:
        self.host = host

    def start(self) -> None:
        body = QWidget()
        QVBoxLayout(body).addWidget(QLabel("Please note"))
        self.host.enter_step("pin", "Change PIN", "Touch a large button below. You can cancel at any step.", 2, 4, body)

    def stop(self) -> None:
        pass


def test_sizes_on_every_screen_in_both_languages(qtbot, make_window, clock):
    window = make_window(flows={"pin_change": _Flow})
    for language_round in range(2):
        window.core.cancel()
        qtbot.wait(10)
        assert check_screen(window, "attract") >= 4
        qtbot.mouseClick(window.attract, Qt.MouseButton.LeftButton)
        qtbot.wait(10)
        assert window.current_page == "home", (language_round, window.current_page)
        assert check_screen(window, "home") >= 10
        qtbot.mouseClick(window.home.service_buttons["pin_change"], Qt.MouseButton.LeftButton)
        qtbot.wait(10)
        assert check_screen(window, "step") >= 6
        window.step.show_error("Something went wrong", window.host.counter_text(),
                               [window.host.retry_action(lambda: None), window.host.home_action()])
        qtbot.wait(10)
        assert check_screen(window, "step error") >= 6
        window.host.show_result("Done", "Please note", details=["Please note"])
        qtbot.wait(10)
        assert check_screen(window, "result") >= 5
        window.go_home()
        qtbot.mouseClick(window.home.service_buttons["card_status"], Qt.MouseButton.LeftButton)
        qtbot.wait(10)
        assert check_screen(window, "error") >= 5
        clock.advance(61)
        qtbot.waitUntil(window.countdown.isVisible, timeout=2000)
        assert check_screen(window, "countdown") >= 3
        window.core.touch()
        if language_round == 0:
            window.toggle_language()


def test_status_is_never_colour_alone(qtbot, window):
    """Every coloured status badge carries an icon and a word."""
    window.host.show_error("Something went wrong", window.host.counter_text())
    assert window.error.panel._badge.text().startswith(theme.ICON_ERROR + " ")
    window.result.set_result("Done", "Please note", ok=True)
    assert window.result.badge.text() == f"{theme.ICON_OK} 办理完成"
    window.result.set_result("Done", "Please note", ok=False)
    assert window.result.badge.text() == f"{theme.ICON_INFO} 请注意"
    assert window.topbar.mute_button.text().startswith("♪ ")
