"""The operator exit: hidden corner gesture, secret checked with verify_secret, lockout."""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import Qt
from shell_helpers import DEMO_SECRET, FakeClock, visible_texts

from ui.operator import OperatorLock


def _tap_corner(qtbot, window, times: int = 5) -> None:
    for _ in range(times):
        qtbot.mouseClick(window.operator.corner, Qt.MouseButton.LeftButton)


def _type(qtbot, dialog, secret: str) -> None:
    keys = {k.text(): k for k in dialog.findChildren(type(dialog.ok_button)) if k.text().isdigit()}
    for digit in secret:
        qtbot.mouseClick(keys[digit], Qt.MouseButton.LeftButton)


def test_four_taps_do_nothing_five_open_the_dialog(qtbot, window):
    _tap_corner(qtbot, window, 4)
    assert window.operator.dialog is None
    assert window.core.visit is None            # the corner does not start a visit either
    _tap_corner(qtbot, window, 1)
    assert window.operator.dialog is not None and window.operator.dialog.isVisible()


def test_wrong_then_right_secret_exits(qtbot, window):
    qtbot.mouseClick(window.attract, Qt.MouseButton.LeftButton)
    _tap_corner(qtbot, window)
    dialog = window.operator.dialog
    _type(qtbot, dialog, "1234")
    assert dialog.secret_edit.text() == "1234"
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert dialog.secret_edit.text() == ""      # cleared as soon as it was read
    qtbot.waitUntil(lambda: "密码错误。再错 2 次将锁定退出功能。" in visible_texts(dialog), timeout=5000)
    assert window.isVisible()

    _type(qtbot, dialog, DEMO_SECRET)
    with qtbot.waitSignal(window.exit_requested, timeout=5000):
        qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert not window.isVisible()
    assert window.core.visit is None            # the visit ended (reason: operator) and was wiped


def test_lockout_after_repeated_failures(qtbot, window):
    _tap_corner(qtbot, window)
    dialog = window.operator.dialog
    for _ in range(3):
        qtbot.waitUntil(dialog.ok_button.isEnabled, timeout=5000)
        dialog.secret_edit.setText("0000")
        dialog.submit()
    qtbot.waitUntil(lambda: any("已锁定" in t for t in visible_texts(dialog)), timeout=5000)
    assert not dialog.ok_button.isEnabled()
    dialog.secret_edit.setText(DEMO_SECRET)
    dialog.submit()                             # even the right secret is refused while locked
    qtbot.wait(300)
    assert window.isVisible() and window.operator.dialog is dialog


def test_lock_expires_and_counts_from_zero_again():
    clock = FakeClock()
    lock = OperatorLock(max_failures=3, lockout_s=300, clock=clock)
    lock.record_failure()
    lock.record_failure()
    assert lock.locked_for() == 0 and lock.tries_left == 1
    lock.record_failure()
    assert lock.locked_for() == 300
    clock.advance(299)
    assert lock.locked_for() == 1
    clock.advance(1)
    assert lock.locked_for() == 0 and lock.tries_left == 3


def test_no_secret_configured_means_no_exit(qtbot, make_window, config):
    window = make_window(config=dataclasses.replace(config, ui=dataclasses.replace(config.ui, operator_secret_hash="")))
    _tap_corner(qtbot, window)
    dialog = window.operator.dialog
    assert not dialog.ok_button.isEnabled()
    assert any("未配置管理员密码" in t for t in visible_texts(dialog))
    qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    assert window.operator.dialog is None and window.isVisible()
