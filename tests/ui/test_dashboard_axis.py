"""The payments chart's axis is a calendar: every day between the first and the last
payment, no jump, labels turned so that none is clipped (pytest-qt)."""

from __future__ import annotations

from datetime import date

from PySide6.QtCharts import QBarCategoryAxis

from app.ui.dashboard_page import calendar_days
from tests.ui.test_dashboard_page import open_page


def test_days_without_payments_are_on_the_axis():
    days = calendar_days([(date(2019, 8, 20), 2, 5000), (date(2019, 8, 23), 1, 3000)])
    assert [d for d, _c, _y in days] == [date(2019, 8, n) for n in (20, 21, 22, 23)]
    assert days[1] == (date(2019, 8, 21), 0, 0)
    assert calendar_days([]) == []


def test_the_chart_axis_runs_day_by_day(ui_app, qtbot, ui_ctx):
    page = open_page(qtbot, ui_ctx)
    axis = next(a for a in page.chart.axes() if isinstance(a, QBarCategoryAxis))
    labels = axis.categories()
    assert labels and all(label.startswith(("7/", "8/")) for label in labels)  # no 2026
    assert axis.labelsAngle() == -90
