"""The demo runs on its own day: the clock starts on 26 August 2019 at 17:00, where the
demo's history ends, and moves with real time; the status bar shows it (pytest-qt).
Nothing of the demo happened after the clock's start: no "future" events."""

from __future__ import annotations

import shutil
import threading
from datetime import UTC, datetime

from PySide6.QtCore import QTimer
from sqlalchemy import text

from app.core.clock import JST, DemoClock, FixedClock, to_jst
from app.core.errors import EnvironmentProblem
from app.services import demo
from app.services.context import AppContext
from app.services.gateway import InProcessGateway
from app.storage.db import Database
from app.storage.models import SQLModel
from app.ui.desk import Desk
from app.ui.main_window import MainWindow
from app.ui.prompts import ScriptedPrompter
from tests.ui.conftest import make_desk, settle

# The balance-refund programme's demo stands on its own later day (demo_refunds.DEMO_AS_OF).
REFUND_TABLES = {"refund_member", "refund_application"}


def test_the_demo_clock_starts_on_the_demo_day_and_moves_with_real_time():
    real = FixedClock(datetime(2026, 12, 3, 21, 59, tzinfo=JST))
    clock = DemoClock(real=real)
    assert to_jst(clock.now()) == datetime(2019, 8, 26, 17, 0, tzinfo=JST)
    real.advance(minutes=90)
    assert to_jst(clock.now()) == datetime(2019, 8, 26, 18, 30, tzinfo=JST)
    assert demo.AS_OF == DemoClock.START  # the history stands where the clock starts


def _as_utc(value) -> datetime:
    moment = datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def test_nothing_in_the_demo_happened_after_the_clock_starts(tmp_path, sqlite_template):
    path = tmp_path / "demo.sqlite3"
    shutil.copy(sqlite_template, path)
    db = Database(str(path))
    try:
        demo.build_demo(AppContext(db), victims=200, seed=5)  # built on today's wall clock
        latest = {}
        with db.engine.connect() as conn:
            for table in SQLModel.metadata.sorted_tables:
                if table.name in REFUND_TABLES:
                    continue
                for column in table.columns:
                    if column.name.endswith("_at") or column.name == "at":
                        query = f"SELECT MAX({column.name}) FROM {table.name}"
                        if table.name == "audit_event":
                            query += " WHERE action != 'refund.demo'"
                        value = conn.execute(text(query)).scalar()
                        if value is not None:
                            latest[f"{table.name}.{column.name}"] = _as_utc(value)
    finally:
        db.dispose()
    assert "payment.paid_at" in latest and "setting.updated_at" in latest
    future = {name: to_jst(at) for name, at in latest.items() if at > DemoClock.START}
    assert future == {}
    # The day itself is in the history: the last events are on the 26th.
    assert to_jst(max(latest.values())).date() == DemoClock.START.date()


def test_the_status_bar_shows_the_demo_time(ui_app, qtbot, ui_ctx):
    ui_ctx.clock = DemoClock(real=FixedClock(datetime(2026, 12, 3, 21, 59, tzinfo=JST)))
    desk = make_desk(ui_ctx, "op1")
    window = MainWindow(desk, "op1")
    qtbot.addWidget(window)
    window.show()
    settle(qtbot, desk)
    assert window.clock_label.text() == "デモの時刻：2019/08/26 17:00"
    assert "2026" not in window.clock_label.text()


class SlowToTellTheTime:
    """A centre desk's gateway whose server answers the services but is slow to tell
    the time (or out of reach): ``now`` waits until released, or fails."""

    def __init__(self, inner: InProcessGateway) -> None:
        self.inner, self.actor = inner, inner.actor
        self.released, self.asked, self.reachable = threading.Event(), 0, True
        self.demo_clock = True  # a demo server, as its /time says

    def read(self, service, *args, **kwargs):
        return self.inner.read(service, *args, **kwargs)

    def write(self, service, *args, **kwargs):
        return self.inner.write(service, *args, **kwargs)

    def sign_out(self) -> None:
        self.inner.sign_out()

    def now(self):
        self.asked += 1
        self.released.wait(30)
        if not self.reachable:
            raise EnvironmentProblem("サーバーに接続できません。", "Cannot reach the server.")
        return self.inner.now()


def test_a_server_slow_to_tell_the_time_never_holds_the_window(ui_app, qtbot, ui_ctx):
    ui_ctx.clock = DemoClock(real=FixedClock(datetime(2026, 12, 3, 21, 59, tzinfo=JST)))
    actor = make_desk(ui_ctx, "op1").actor
    gateway = SlowToTellTheTime(InProcessGateway(ui_ctx, actor))
    desk = Desk(gateway, prompter=ScriptedPrompter())
    window = MainWindow(desk, "op1")  # returns at once: the time is asked off the GUI thread
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: not desk.lane.busy, timeout=10_000)  # the pages have read
    # The event loop runs (a timer fires, a page answers a click) while the clock waits.
    fired = []
    QTimer.singleShot(0, lambda: fired.append(True))
    qtbot.waitUntil(lambda: bool(fired), timeout=5000)
    assert desk.clock.busy and window.clock_label.text() == ""
    window.desk.clock.refresh()  # the 15-second tick meanwhile: no second question queued
    assert gateway.asked == 1
    desk.now()  # a page stamping a file name does not wait either
    gateway.released.set()
    qtbot.waitUntil(lambda: window.clock_label.text() == "デモの時刻：2019/08/26 17:00",
                    timeout=5000)
    # Out of reach later: the last time heard stays, and nothing is reported.
    gateway.reachable = False
    desk.clock.refresh()
    qtbot.waitUntil(lambda: not desk.clock.busy, timeout=5000)
    assert gateway.asked == 2 and window.clock_label.text() == "デモの時刻：2019/08/26 17:00"
    assert not desk.prompter.errors
    assert abs(to_jst(desk.now()) - datetime(2019, 8, 26, 17, 0, tzinfo=JST)).days == 0
    window.close()
