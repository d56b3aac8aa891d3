"""The phone desk from the keyboard: Enter or ↓ in the search box opens the first match;
a case number with a misheard check digit offers the numbers one digit away (pytest-qt)."""

from __future__ import annotations

from PySide6.QtCore import Qt

from app.domain.case_number import luhn_digit, one_digit_away, parse_case_number
from tests.ui.conftest import settle
from tests.ui.test_main_screens import window_for


def test_enter_in_the_search_box_opens_the_first_match(ui_app, qtbot, ui_ctx):
    window = window_for(qtbot, ui_ctx)
    target = window.cases.model.rows[5]
    qtbot.keyClicks(window.cases.search, target.case_number)
    qtbot.keyClick(window.cases.search, Qt.Key.Key_Return)  # before the search delay ends
    qtbot.waitUntil(lambda: window.cases.detail.case is not None
                    and window.cases.detail.case.id == target.id, timeout=5000)
    assert window.cases.table.hasFocus() or window.cases.table.currentIndex().row() == 0


def test_down_arrow_in_the_search_box_opens_the_first_match(ui_app, qtbot, ui_ctx):
    window = window_for(qtbot, ui_ctx)
    target = window.cases.model.rows[3]
    qtbot.keyClicks(window.cases.search, target.case_number)
    qtbot.keyClick(window.cases.search, Qt.Key.Key_Down)
    qtbot.waitUntil(lambda: window.cases.detail.case is not None
                    and window.cases.detail.case.id == target.id, timeout=5000)


def test_a_misheard_check_digit_offers_the_numbers_one_digit_away(ui_app, qtbot, ui_ctx):
    window = window_for(qtbot, ui_ctx)
    target = window.cases.model.rows[7].case_number  # H-0000008-x
    wrong = target[:-1] + str((int(target[-1]) + 1) % 10)
    qtbot.keyClicks(window.cases.search, wrong)
    qtbot.keyClick(window.cases.search, Qt.Key.Key_Return)
    qtbot.waitUntil(window.cases.suggestion.isVisible, timeout=5000)
    settle(qtbot, window.desk)
    text = window.cases.suggestion.text()
    assert target in text and "チェック数字" in text
    window.cases.suggestion.linkActivated.emit(target)
    qtbot.waitUntil(lambda: window.cases.detail.case is not None
                    and window.cases.detail.case.case_number == target, timeout=5000)
    assert not window.cases.suggestion.isVisible()


def test_one_digit_away_lists_only_valid_numbers():
    wrong = f"H-0000123-{(luhn_digit('0000123') + 1) % 10}"
    near = one_digit_away(wrong)
    assert len(near) == 8 and all(parse_case_number(n) for n in near)  # 7 digits + check
    assert f"H-0000123-{luhn_digit('0000123')}" in near
    assert one_digit_away(f"H-0000123-{luhn_digit('0000123')}") == []
    assert one_digit_away("山田") == []
