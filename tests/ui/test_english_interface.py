"""The English interface: plurals, roles and flag details in English (pytest-qt)."""

from __future__ import annotations

from app.core.i18n import set_locale
from tests.ui.conftest import settle
from tests.ui.test_main_screens import search, window_for


def test_english_counts_roles_and_plurals(ui_app, qtbot, ui_ctx):
    set_locale("en")
    window = window_for(qtbot, ui_ctx, "sv1")
    signed_in = window.findChild(type(window.cases.count_label), "signed_in").text()
    assert "Supervisor" in signed_in and "スーパーバイザー" not in signed_in
    first = window.cases.model.rows[0]
    search(qtbot, window, first.case_number)
    settle(qtbot, window.desk)
    assert window.cases.count_label.text() == "1 case shown"
    window.cases.search.clear()
    search(qtbot, window, "H-000000")
    settle(qtbot, window.desk)
    assert window.cases.count_label.text().endswith("cases shown")


def test_japanese_count_has_one_form(ui_app, qtbot, ui_ctx):
    window = window_for(qtbot, ui_ctx)
    search(qtbot, window, window.cases.model.rows[0].case_number)
    settle(qtbot, window.desk)
    assert window.cases.count_label.text() == "1件を表示"
