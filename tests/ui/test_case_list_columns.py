"""At the default window size the case list's amounts are readable without a
horizontal scroll (pytest-qt, the real main window)."""

from __future__ import annotations

from app.core.i18n import _
from app.ui.case_model import COLUMNS
from tests.ui.test_main_screens import window_for


def test_amount_columns_fit_and_are_not_clipped(ui_app, qtbot, ui_ctx):
    window = window_for(qtbot, ui_ctx)
    window.resize(1400, 860)
    qtbot.waitUntil(lambda: window.cases.table.viewport().width() > 400, timeout=2000)
    table = window.cases.table
    metrics = table.fontMetrics()
    visible = table.viewport().width()
    amounts = [i for i, (header, _key, _v) in enumerate(COLUMNS) if "amount" in header]
    assert len(amounts) == 3
    widest = max(metrics.horizontalAdvance(table.model().index(r, c).data() or "")
                 for r in range(table.model().rowCount()) for c in amounts)
    for column in amounts:
        right = table.columnViewportPosition(column) + table.columnWidth(column)
        assert right <= visible, _(COLUMNS[column][0])
        assert table.columnWidth(column) > max(widest, metrics.horizontalAdvance("99,999,999円"))
