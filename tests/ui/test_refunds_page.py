"""The balance-refund page driven as an operator would: both files checked, then
imported; the work lists filled; an identity confirmed through the contact on record."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from app.ui.refund_intake_dialog import RefundIntakeDialog
from app.ui.refunds_page import RefundsPage
from tests.services.refund_helpers import (
    APPLICATION_HEADER,
    BALANCE_HEADER,
    application,
    member,
    write_csv,
)
from tests.ui.conftest import make_desk, settle
from tests.ui.test_import_wizard import shoot

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
    """Through the same service the wizard calls (tests/ui/test_import_wizard_refunds.py
    drives the wizard itself); the page refreshes from the desk's changed."""
    from app.services.import_errors import import_refunds_spooling_refused

    done = []
    with qtbot.waitSignal(page.desk.changed, timeout=10_000):
        page.desk.act(import_refunds_spooling_refused, str(path), kind=kind, mapping=None,
                      dry_run=False, spool=str(path.with_suffix(".refused.csv")), header=[],
                      on_done=done.append)
    settle(qtbot, page.desk)
    page.summary = done[0]


def rows(table) -> list[str]:
    return [table.item(row, 0).text() for row in range(table.rowCount())]


def test_both_files_through_the_page_then_the_work_lists(ui_app, qtbot, ui_ctx, files):
    page = open_page(qtbot, ui_ctx)
    assert "残高払戻し" in page.programme.text()
    balances, apps = files
    import_file(qtbot, page, "balances", balances)
    assert page.summary.accepted == 3 and page.summary.rejected == 1
    import_file(qtbot, page, "applications", apps)
    assert page.summary.states["confirmed"] == 1
    assert rows(page.lists["awaiting_identity"]) == ["A2"]
    assert rows(page.lists["unmatched"]) == ["A3"]
    assert rows(page.lists["late"]) == []  # A5 is the same member's second: a duplicate
    assert "本人確認待ち (1)" in page.tabs.tabText(1)
    assert "会員 3人" in page.figures.text()
    page.tabs.setCurrentIndex(1)
    page.lists["awaiting_identity"].selectRow(0)
    shoot(page, "refunds_work_lists.png")


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


def test_an_application_by_phone_is_taken_in_the_intake_form(ui_app, qtbot, ui_ctx, files):
    page = open_page(qtbot, ui_ctx)
    import_file(qtbot, page, "balances", files[0])
    qtbot.mouseClick(page.phone_button, Qt.MouseButton.LeftButton)
    dialog = page.findChild(RefundIntakeDialog)
    assert dialog is not None and dialog.isVisible()
    assert "残高払戻し" in dialog.programme.text()
    # A form that breaks the file's rules: every problem named, nothing stored.
    dialog.edits["name"].setText("山田 太郎")
    dialog.edits["applied_at"].setText("2019/09/01 10:00")
    dialog.method.setCurrentIndex(dialog.method.findData("bank_transfer"))
    dialog.submit()
    settle(qtbot, page.desk)
    problems = dialog.message.text()
    assert "申出日時" in problems and "2019年10月1日" in problems
    assert "電話番号またはメールアドレス" in problems or "電話・メール" in problems
    assert "口座番号" in problems and dialog.isVisible()
    dialog.adjustSize()
    shoot(dialog, "refund_phone_application.png")  # every problem of the form at once
    # Corrected, with the member ID the caller reads out.
    dialog.edits["member_id"].setText("Ｒ1")  # typed full width: folded as in the files
    dialog.edits["applied_at"].setText("2019/12/20 14:00")  # the call, noted then
    dialog.edits["name_kana"].setText("やまだ たろう")
    dialog.edits["phone"].setText("090-1111-2222")
    dialog.method.setCurrentIndex(dialog.method.findData("postal_order"))
    assert not dialog.edits["account_number"].isVisibleTo(dialog)
    with qtbot.waitSignal(dialog.accepted, timeout=5000):
        dialog.submit()
    settle(qtbot, page.desk)
    assert dialog.created.application_id.startswith("TEL-")
    assert dialog.created.route == "phone" and dialog.created.state == "awaiting_identity"
    assert dialog.created.application_id in page.message.text()
    qtbot.waitUntil(lambda: rows(page.lists["awaiting_identity"]) == [
        dialog.created.application_id], timeout=5000)


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


def test_accept_late_is_offered_to_a_supervisor_on_the_late_list_only(ui_app, qtbot, ui_ctx,
                                                                       files):
    assert open_page(qtbot, ui_ctx, "op1").accept_late_button.isHidden()
    page = open_page(qtbot, ui_ctx, "sv1")
    assert not page.accept_late_button.isHidden()
    page.tabs.setCurrentIndex(1)  # awaiting identity: not a late application
    qtbot.mouseClick(page.accept_late_button, Qt.MouseButton.LeftButton)
    assert "期限後" in page.message.text() and page.desk.prompter.asked == []
