"""The case list's search box with what an operator should not be able to break it with."""

from __future__ import annotations

from app.ui.main_window import MainWindow
from tests.ui.conftest import make_desk, settle


def open_window(qtbot, ctx) -> MainWindow:
    desk = make_desk(ctx, "op1")
    window = MainWindow(desk, "op1")
    qtbot.addWidget(window)
    window.show()
    settle(qtbot, desk)
    return window


def type_in(qtbot, window, text: str) -> None:
    window.cases.search.clear()
    settle(qtbot, window.desk)
    window.cases.search.insert(text)
    qtbot.waitUntil(lambda: window.cases.model.query.text == text, timeout=3000)
    settle(qtbot, window.desk)


def test_a_pasted_control_character_shows_a_message_not_a_crash(ui_app, qtbot, ui_ctx):
    window = open_window(qtbot, ui_ctx)
    type_in(qtbot, window, "山田\x00")
    assert window.cases.model.rows == []
    [message] = window.desk.prompter.errors
    assert "制御文字" in message and "U+0000" in message


def test_a_wildcard_after_h_lists_no_case(ui_app, qtbot, ui_ctx):
    window = open_window(qtbot, ui_ctx)
    assert window.cases.model.rows  # the demo's cases
    type_in(qtbot, window, "H-%")
    assert window.cases.model.rows == []
    assert window.desk.prompter.errors == []
