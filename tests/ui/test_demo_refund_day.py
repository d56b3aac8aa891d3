"""The demo's two days (issue #17): the compensation programme stands on 26 August 2019
(the demo clock), the balance refund on its own day, 20 December 2019, the day its
applications are as of (its applications open only on 1 October 2019). The refund page
says so, from the data; and nothing of the refund programme is judged by the
compensation's day: a phone application taken "now", an applications file of November
and December, a refusal, a letter's date all agree with the programme's data.

Set HOSHO_SCREENSHOTS=1 to refresh docs/screenshots/refunds_demo_day.png."""

from __future__ import annotations

import os
from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.core.clock import JST, DemoClock, FixedClock, to_jst, today_jst
from app.core.i18n import set_locale
from app.domain.roles import SYSTEM_ACTOR
from app.letters.model import COMPENSATION, REFUND
from app.services import letters, refunds, refunds_stats
from app.services.demo_refunds import DEMO_AS_OF, demo_refund_clock, stands
from app.services.refunds_import import import_applications
from app.services.refunds_intake import FormProblems, take_phone_application
from app.storage.models import RefundApplication
from app.ui.refunds_page import RefundsPage
from tests.services.refund_helpers import APPLICATION_HEADER, application, write_csv
from tests.ui.conftest import make_desk, settle

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
FORM = {"name": "デモ 会員", "name_kana": "サトウ タロウ", "phone": "090-0000-0000",
        "method": "postal_order"}


@pytest.fixture
def demo_ctx(ui_ctx):
    """The demo as the window opens it: the demo clock at 26 Aug 2019 17:00 (held
    still), the refund programme's clock where its history ends."""
    ui_ctx.clock = FixedClock(DemoClock.START)
    stand = stands_of(ui_ctx)
    ui_ctx.refund_clock = FixedClock(stand.moment)
    return ui_ctx


def stands_of(ctx):
    with ctx.db.read() as session:
        return stands(session)


def test_the_refund_demo_stands_on_its_own_day_recorded_in_the_data(ui_ctx):
    stand = stands_of(ui_ctx)
    assert stand.as_of == DEMO_AS_OF == date(2019, 12, 20)
    assert to_jst(stand.moment) == datetime(2019, 12, 20, 18, 0, tzinfo=JST)
    clock = demo_refund_clock(ui_ctx)  # the window's: moves with real time from there
    assert isinstance(clock, DemoClock) and clock.start == stand.moment
    with ui_ctx.db.read() as session:
        latest = session.execute(select(func.max(RefundApplication.applied_at))).scalar_one()
    assert latest <= stand.moment  # no application after the programme's day


def test_nothing_of_the_refund_demo_is_judged_by_the_compensation_day(demo_ctx, staff_ui,
                                                                      tmp_path):
    op = staff_ui
    # Nothing is late: the demo's applications all precede the deadline (10 Jan 2020).
    assert refunds.work_list(demo_ctx, "late") == []
    # A phone application taken now is dated the programme's day, not refused as
    # before applications opened (26 Aug 2019).
    phoned = take_phone_application(demo_ctx, op, FORM)
    assert to_jst(phoned.applied_at).date() == DEMO_AS_OF
    # An applications file of November and December is not "later than the import".
    summary = import_applications(demo_ctx, SYSTEM_ACTOR, write_csv(
        tmp_path / "a.csv", APPLICATION_HEADER,
        [application("NOV-1", "", applied="2019-11-15 10:00", phone="080-1234-0000"),
         application("DEC-1", "", applied="2019-12-19 10:00", phone="080-1234-0001")]))
    assert (summary.accepted, summary.rejected) == (2, 0)
    # A decision is dated after the application it decides.
    waiting = refunds.work_list(demo_ctx, "awaiting_identity")[0]
    decided = refunds.refuse(demo_ctx, op, waiting.id, "登録電話番号に架電したが本人と確認できず")
    with demo_ctx.db.read() as session:
        row = session.get(RefundApplication, decided.id)
        assert row.decided_at >= row.applied_at
    # The refund letters are counted (and dated) on the programme's day; the
    # compensation letters on the demo clock's.
    assert today_jst(letters._clock(demo_ctx, REFUND)) == DEMO_AS_OF
    assert today_jst(letters._clock(demo_ctx, COMPENSATION)) == date(2019, 8, 26)


def test_on_the_compensation_day_alone_the_refund_demo_contradicts_itself(demo_ctx,
                                                                         staff_ui):
    """What the refund programme's own clock prevents: judged by 26 Aug 2019, the
    phone application of "now" falls before applications opened."""
    demo_ctx.refund_clock = None
    with pytest.raises(FormProblems) as caught:
        take_phone_application(demo_ctx, staff_ui, FORM)
    assert "applied_at" in caught.value.problems


@pytest.fixture
def staff_ui(ui_ctx):
    from app.services import operators

    return next(o for o in operators.list_operators(ui_ctx) if o.login == "op1").as_actor()


@pytest.mark.gui
def test_the_refund_page_says_the_demos_day(ui_app, qtbot, demo_ctx):
    desk = make_desk(demo_ctx, "op1")
    page = RefundsPage(desk)
    qtbot.addWidget(page)
    page.resize(1300, 760)
    page.show()
    settle(qtbot, desk)
    assert page.demo_day.isVisible()
    assert page.demo_day.text().startswith("デモ: 2019年12月20日時点の申請")
    assert refunds_stats.figures(demo_ctx)["demo_as_of"] == "2019-12-20"
    if os.environ.get("HOSHO_SCREENSHOTS"):
        page.tabs.setCurrentIndex(1)  # the identity checks waiting on that day
        assert page.grab().save(str(SCREENSHOTS / "refunds_demo_day.png"))
    set_locale("en")
    try:
        page.refresh()
        settle(qtbot, desk)
        assert page.demo_day.text().startswith("Demo: applications as of 20 Dec 2019")
    finally:
        set_locale("ja")


@pytest.mark.gui
def test_outside_a_demo_the_refund_page_names_no_day(ui_app, qtbot, ctx, staff):
    from app.ui.desk import Desk
    from app.ui.prompts import ScriptedPrompter

    desk = Desk(ctx, staff["op1"], ScriptedPrompter())
    page = RefundsPage(desk)
    qtbot.addWidget(page)
    page.show()
    settle(qtbot, desk)
    assert not page.demo_day.isVisible() and page.demo_day.text() == ""
    assert refunds_stats.figures(ctx)["demo_as_of"] is None
