"""The balance-refund page driven as an operator would: both files checked, then
imported; the work lists filled; an identity confirmed through the contact on record."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from app.ui.refunds_page import RefundsPage
from tests.services.refund_helpers import (
    APPLICATION_HEADER,
    BALANCE_HEADER,
    application,
    member,
    write_csv,
)
from tests.ui.conftest import make_desk, settle

pytestmark = pytest.mark.gui


@pytest.fixture
def files(tmp_path, clock, ui_ctx):
    from sqlalchemy import text

    # The demo has its own refund programme: these tests start from an empty one.
    with ui_ctx.db.write() as session:
        session.execute(text("DELETE FROM refund_application"))
        session.execute(text("DELETE FROM refund_member"))
    clock.advance(days=200)  # March 2020: the applications are in the past
    balances = write_csv(tmp_path / "残高.csv", BALANCE_HEADER, [
        member("R1", 5000), member("R2", 3000), member("R3", 0), member("R4", "x")], "cp932")
    apps = write_csv(tmp_path / "申出.csv", APPLICATION_HEADER, [
        application("A1", "R1"), application("A2", "R2", route="Web"),
        application("A3", "R9"), application("A4", "R3"),
        application("A5", "R1", applied="2020-01-12 10:00", route="電話")])
    return balances, apps


def open_page(qtbot, ctx, login="op1") -> RefundsPage:
    desk = make_desk(ctx, login)
    page = RefundsPage(desk)
    qtbot.addWidget(page)
    page.resize(1300, 760)
    page.show()
    settle(qtbot, desk)
    return page


def import_file(qtbot, page: RefundsPage, kind: str, path) -> None:
    page.kind.setCurrentIndex(page.kind.findData(kind))
    page.path.setText(str(path))
    assert not page.import_button.isEnabled()  # checked first, always
    qtbot.mouseClick(page.check_button, Qt.MouseButton.LeftButton)
    settle(qtbot, page.desk)
    assert "書き込みなし" in page.message.text()
    assert page.import_button.isEnabled()
    qtbot.mouseClick(page.import_button, Qt.MouseButton.LeftButton)
    settle(qtbot, page.desk)


def rows(table) -> list[str]:
    return [table.item(row, 0).text() for row in range(table.rowCount())]


def test_both_files_through_the_page_then_the_work_lists(ui_app, qtbot, ui_ctx, files):
    page = open_page(qtbot, ui_ctx)
    assert "残高払戻し" in page.programme.text()
    balances, apps = files
    import_file(qtbot, page, "balances", balances)
    assert page.summary.accepted == 3 and page.summary.rejected == 1
    assert "不備 1" in page.message.text()
    import_file(qtbot, page, "applications", apps)
    assert page.summary.states["confirmed"] == 1
    assert rows(page.lists["awaiting_identity"]) == ["A2"]
    assert rows(page.lists["unmatched"]) == ["A3"]
    assert rows(page.lists["late"]) == []  # A5 is the same member's second: a duplicate
    assert "本人確認待ち (1)" in page.tabs.tabText(1)
    assert "会員 3人" in page.figures.text()


def test_identity_confirmed_through_the_contact_on_record(ui_app, qtbot, ui_ctx, files):
    page = open_page(qtbot, ui_ctx)
    import_file(qtbot, page, "balances", files[0])
    import_file(qtbot, page, "applications", files[1])
    page.tabs.setCurrentIndex(1)
    page.lists["awaiting_identity"].selectRow(0)
    page.how.setCurrentIndex(page.how.findData("phone_on_record"))
    qtbot.mouseClick(page.confirm_button, Qt.MouseButton.LeftButton)
    settle(qtbot, page.desk)
    assert "A2" in page.message.text() and "本人確認済" in page.message.text()
    assert rows(page.lists["awaiting_identity"]) == []


def test_a_file_refused_whole_says_why(ui_app, qtbot, ui_ctx, tmp_path, files):
    page = open_page(qtbot, ui_ctx)
    bad = write_csv(tmp_path / "bad.csv", ["会員ID"], [["R1"]])
    page.path.setText(str(bad))
    qtbot.mouseClick(page.check_button, Qt.MouseButton.LeftButton)
    settle(qtbot, page.desk)
    assert "残高" in page.message.text() and not page.import_button.isEnabled()


def test_the_dashboard_shows_the_refund_programme_beside_compensation(ui_app, qtbot, ui_ctx):
    from app.services.refunds_stats import figures
    from app.ui.dashboard_page import DashboardPage

    desk = make_desk(ui_ctx, "sv1")
    page = DashboardPage(desk)
    qtbot.addWidget(page)
    page.show()
    settle(qtbot, desk)
    shown = figures(ui_ctx)
    assert f"会員 {shown['members']:,}人" in page.refund_figures.text()
    assert page.channel_table.rowCount() > 0  # compensation's figures beside it
