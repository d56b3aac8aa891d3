"""The demo runs on its own day: the clock starts on 26 August 2019 09:00 and moves
with real time; the status bar shows it (pytest-qt)."""

from __future__ import annotations

from datetime import datetime

from app.core.clock import JST, DemoClock, FixedClock, to_jst
from app.ui.main_window import MainWindow
from tests.ui.conftest import make_desk, settle


def test_the_demo_clock_starts_on_the_demo_day_and_moves_with_real_time():
    real = FixedClock(datetime(2026, 12, 3, 21, 59, tzinfo=JST))
    clock = DemoClock(real=real)
    assert to_jst(clock.now()) == datetime(2019, 8, 26, 9, 0, tzinfo=JST)
    real.advance(minutes=90)
    assert to_jst(clock.now()) == datetime(2019, 8, 26, 10, 30, tzinfo=JST)


def test_the_status_bar_shows_the_demo_time(ui_app, qtbot, ui_ctx):
    ui_ctx.clock = DemoClock(real=FixedClock(datetime(2026, 12, 3, 21, 59, tzinfo=JST)))
    desk = make_desk(ui_ctx, "op1")
    window = MainWindow(desk, "op1")
    qtbot.addWidget(window)
    window.show()
    settle(qtbot, desk)
    assert window.clock_label.text() == "デモの時刻：2019/08/26 09:00"
    assert "2026" not in window.clock_label.text()
