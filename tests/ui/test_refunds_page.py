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


# -- the decisions the page offers beyond identity (issue #17 items 3 and 4) ----------


@pytest.fixture
def decisions(tmp_path, clock, ui_ctx, files):
    """On top of ``files``: a member nobody applied for yet (the unmatched A3 is theirs),
    a member who is a compensation victim with a charge case (held for the overlap),
    and two app applications paid by 払出証書."""
    from app.domain.roles import SYSTEM_ACTOR
    from app.services import intake
    from app.services.refunds_import import import_applications, import_balances
    from tests.services.helpers import incident, victim

    intake.take_phone_intake(ui_ctx, SYSTEM_ACTOR,
                             victim(member_id="C1", phone="03-0000-0000"),
                             incident(amount=30_000))
    import_balances(ui_ctx, SYSTEM_ACTOR, files[0])
    import_balances(ui_ctx, SYSTEM_ACTOR, write_csv(tmp_path / "残高2.csv", BALANCE_HEADER, [
        member("R5", 6000, kana="サトウ ハナコ", phone="080-5555-6666"),
        member("C1", 10_000), member("P1", 7000), member("P2", 8000)]))
    import_applications(ui_ctx, SYSTEM_ACTOR, files[1])
    import_applications(ui_ctx, SYSTEM_ACTOR, write_csv(
        tmp_path / "申出2.csv", APPLICATION_HEADER, [
            application("O1", "C1"), application("PO1", "P1", method="払出証書"),
            application("PO2", "P2", method="払出証書")]))


def select(page: RefundsPage, table, application_id: str) -> None:
    page.tabs.setCurrentWidget(table)
    table.selectRow(rows(table).index(application_id))


def test_an_operator_matches_an_unmatched_application_to_a_member(ui_app, qtbot, ui_ctx,
                                                                 decisions):
    from app.ui.refund_decision_dialogs import MatchMemberDialog

    page = open_page(qtbot, ui_ctx, "op1")
    assert rows(page.lists["unmatched"]) == ["A3"]
    page.tabs.setCurrentIndex(1)  # not the unmatched list: said, nothing opened
    qtbot.mouseClick(page.match_button, Qt.MouseButton.LeftButton)
    assert "会員未特定" in page.message.text() and page.findChild(MatchMemberDialog) is None
    select(page, page.lists["unmatched"], "A3")
    qtbot.mouseClick(page.match_button, Qt.MouseButton.LeftButton)
    dialog = page.findChild(MatchMemberDialog)
    assert dialog is not None and dialog.isVisible()
    settle(qtbot, page.desk)
    assert dialog.results.rowCount() >= 1  # searched by the applicant's name at once
    dialog.search.setText("０８０-５５５５")  # the phone, typed as a caller reads it
    qtbot.mouseClick(dialog.search_button, Qt.MouseButton.LeftButton)
    settle(qtbot, page.desk)
    assert rows(dialog.results) == ["R5"]
    assert dialog.results.item(0, 1).text() == "山田 太郎"
    assert dialog.results.item(0, 4).text() == "6,000円"
    dialog.submit()  # nobody chosen yet: said, nothing done
    assert "会員を選んで" in dialog.message.text()
    dialog.results.selectRow(0)
    dialog.submit()  # no reason
    assert "理由" in dialog.message.text() and dialog.isVisible()
    dialog.reason.setText("登録電話番号に架電し、会員IDを確認")
    dialog.adjustSize()
    shoot(dialog, "refunds_match_member.png")
    with qtbot.waitSignal(dialog.accepted, timeout=5000):
        dialog.submit()
    settle(qtbot, page.desk)
    assert dialog.matched.member_id == "R5" and dialog.matched.state == "awaiting_identity"
    assert page.message.text() == "A3: 本人確認待ち"
    qtbot.waitUntil(lambda: rows(page.lists["unmatched"]) == [], timeout=5000)
    assert "A3" in rows(page.lists["awaiting_identity"])  # on to the next list
    assert dialog.matched.refundable_amount == 6000


def test_an_unmatched_application_refused_with_a_reason(ui_app, qtbot, ui_ctx, decisions):
    from app.services import refunds

    page = open_page(qtbot, ui_ctx, "op1")
    page.desk.prompter.answers = ["申出の電話番号・会員IDとも該当なし、登録連絡先も不明"]
    select(page, page.lists["unmatched"], "A3")
    qtbot.mouseClick(page.refuse_button, Qt.MouseButton.LeftButton)
    settle(qtbot, page.desk)
    assert page.message.text() == "A3: 払戻不可"
    qtbot.waitUntil(lambda: rows(page.lists["unmatched"]) == [], timeout=5000)
    refused = refunds.get_application(ui_ctx, _refs(ui_ctx, "A3")[0])
    assert refused.state == "refused" and refused.state_reason.startswith("申出の電話番号")


def test_a_supervisor_settles_an_overlap_with_a_code(ui_app, qtbot, ui_ctx, decisions):
    from app.services import refunds
    from tests.conftest import step_up_code

    operator = open_page(qtbot, ui_ctx, "op1")
    assert operator.settle_button.isHidden()  # a supervisor's decision
    page = open_page(qtbot, ui_ctx, "sv1")
    assert not page.settle_button.isHidden()
    assert rows(page.lists["held_overlap"]) == ["O1"]
    page.tabs.setCurrentIndex(0)  # the unmatched list: not an overlap
    qtbot.mouseClick(page.settle_button, Qt.MouseButton.LeftButton)
    assert "補償と重複" in page.message.text() and page.desk.prompter.asked == []
    select(page, page.lists["held_overlap"], "O1")
    shoot(page, "refunds_overlap.png")
    page.desk.prompter.answers = [6000, "カード会社が30,000円のチャージを取消。うち6,000円が残存",
                                  step_up_code(ui_ctx, page.desk.actor)]
    qtbot.mouseClick(page.settle_button, Qt.MouseButton.LeftButton)
    settle(qtbot, page.desk)
    asked = page.desk.prompter.asked
    assert [kind for kind, _text in asked] == ["amount", "text", "code"]
    assert "10,000円" in asked[0][1]  # the balance the supervisor divides
    assert page.message.text() == "O1: 本人確認済", page.message.text()
    qtbot.waitUntil(lambda: rows(page.lists["held_overlap"]) == [], timeout=5000)
    settled = refunds.get_application(ui_ctx, _refs(ui_ctx, "O1")[0])
    assert settled.refundable_amount == 4000 and settled.state == "confirmed"


def test_an_overlap_with_a_wrong_code_or_amount_stays_held(ui_app, qtbot, ui_ctx, decisions):
    page = open_page(qtbot, ui_ctx, "sv1")
    select(page, page.lists["held_overlap"], "O1")
    page.desk.prompter.answers = [6000, "理由", "000000"]  # not the authenticator's code
    qtbot.mouseClick(page.settle_button, Qt.MouseButton.LeftButton)
    settle(qtbot, page.desk)
    assert "確認コード" in page.message.text()
    assert rows(page.lists["held_overlap"]) == ["O1"]
    page.desk.prompter.answers = [20_000]  # more than the balance: said before the code
    qtbot.mouseClick(page.settle_button, Qt.MouseButton.LeftButton)
    assert "0円から残高（10,000円）まで" in page.message.text()
    assert page.desk.prompter.answers == [] and rows(page.lists["held_overlap"]) == ["O1"]


def _refs(ctx, *numbers: str) -> list[int]:
    from sqlalchemy import select as query

    from app.storage.models import RefundApplication

    with ctx.db.read() as session:
        return list(session.execute(query(RefundApplication.id).where(
            RefundApplication.application_id.in_(numbers))).scalars())


def postal_status(page: RefundsPage, application_id: str) -> str:
    return page.postal.item(rows(page.postal).index(application_id), 4).text()


def test_a_postal_order_requested_issued_returned_then_paid_by_transfer(
        ui_app, qtbot, ui_ctx, decisions, tmp_path):
    from app.services import refunds
    from app.ui.refund_decision_dialogs import PostalIssuedDialog, RefundMethodDialog
    from tests.conftest import step_up_code

    operator = open_page(qtbot, ui_ctx, "op1")
    assert operator.request_list_button.isHidden()  # the list is a supervisor's
    page = open_page(qtbot, ui_ctx, "sv1")
    page.tabs.setCurrentWidget(page.postal)
    assert page.postal_actions.isVisible() and not page.decisions.isVisible()
    assert rows(page.postal) == ["PO1", "PO2"]
    assert postal_status(page, "PO1") == "発行依頼リスト待ち"
    assert "払出証書 (2)" in page.tabs.tabText(page.tabs.indexOf(page.postal))
    # The request list for Japan Post: confirmed first (the applications are then the
    # 払出証書's only), then written where the supervisor says.
    out = tmp_path / "依頼.csv"
    page.desk.prompter.answers = [False]
    qtbot.mouseClick(page.request_list_button, Qt.MouseButton.LeftButton)
    assert not out.exists() and page.desk.prompter.file_asks == []
    # Names and addresses leave the program in it: a fresh code, as for every export.
    page.desk.prompter.answers, page.desk.prompter.files = [True, None], [out]
    qtbot.mouseClick(page.request_list_button, Qt.MouseButton.LeftButton)
    settle(qtbot, page.desk)
    assert not out.exists() and postal_status(page, "PO1") == "発行依頼リスト待ち"
    page.desk.prompter.answers = [True, step_up_code(ui_ctx, page.desk.actor)]
    page.desk.prompter.files = [out]
    qtbot.mouseClick(page.request_list_button, Qt.MouseButton.LeftButton)
    settle(qtbot, page.desk)
    assert "2件" in page.desk.prompter.asked[-2][1]
    assert "2" in page.message.text() and str(out) in page.message.text()
    text = out.read_bytes().decode("utf-8-sig")
    assert text.splitlines()[0] == "申出番号,会員ID,氏名,郵便番号,住所,金額"
    assert "PO1,P1,山田 太郎,100-0005,東京都千代田区丸の内1-1-1,7000" in text
    qtbot.waitUntil(lambda: postal_status(page, "PO1") == "発行依頼済", timeout=5000)
    page.postal.selectRow(0)
    shoot(page, "refunds_postal_requested.png")  # the supervisor's view of the rail
    # Japan Post issued both: an operator records them.
    page = open_page(qtbot, ui_ctx, "op1")
    for number, certificate in (("PO1", "00120-3-456789"), ("PO2", "00120-3-456790")):
        select(page, page.postal, number)
        qtbot.mouseClick(page.issued_button, Qt.MouseButton.LeftButton)
        dialog = page.findChildren(PostalIssuedDialog)[-1]
        assert dialog.isVisible()
        dialog.submit()  # no number
        assert "証書番号" in dialog.message.text()
        dialog.number.setText(certificate)
        if number == "PO1":
            shoot(dialog, "refunds_postal_issued.png")
        with qtbot.waitSignal(dialog.accepted, timeout=5000):
            dialog.submit()
        settle(qtbot, page.desk)
    qtbot.waitUntil(lambda: postal_status(page, "PO1") == "発行済", timeout=5000)
    assert page.postal.item(0, 5).text() == "00120-3-456789"
    assert page.postal.item(0, 6).text()  # the day it can be cashed by
    # PO2 cashed: confirmed first, then paid and off the rail's list.
    select(page, page.postal, "PO2")
    page.desk.prompter.answers = [True]
    qtbot.mouseClick(page.cashed_button, Qt.MouseButton.LeftButton)
    settle(qtbot, page.desk)
    assert "8,000円" in page.desk.prompter.asked[-1][1]
    assert page.message.text() == "PO2: 払出証書で払戻済"
    qtbot.waitUntil(lambda: rows(page.postal) == ["PO1"], timeout=5000)
    assert refunds.get_application(ui_ctx, _refs(ui_ctx, "PO2")[0]).state == "paid"
    # PO1 expired and came back: confirmed, with what happened.
    select(page, page.postal, "PO1")
    page.desk.prompter.answers = [True, "払出期限切れで返戻"]
    qtbot.mouseClick(page.returned_button, Qt.MouseButton.LeftButton)
    settle(qtbot, page.desk)
    qtbot.waitUntil(lambda: postal_status(page, "PO1").startswith("期限切れ"), timeout=5000)
    assert page.postal.item(0, 5).text() == "00120-3-456789"  # the one that came back
    shoot(page, "refunds_postal_orders.png")
    # A new method: a bank transfer, confirmed through the phone on record.
    select(page, page.postal, "PO1")
    qtbot.mouseClick(page.method_button, Qt.MouseButton.LeftButton)
    dialog = page.findChild(RefundMethodDialog)
    assert dialog is not None and dialog.isVisible()
    settle(qtbot, page.desk)
    dialog.method.setCurrentIndex(dialog.method.findData("bank_transfer"))
    dialog.bank_search.setText("0005")
    dialog.branch_search.setText("002")
    dialog.account_number.setText("7654321")
    dialog.holder_kana.setText("ヤマダ タロウ")
    dialog.submit()  # how it was confirmed not said
    assert "登録されている連絡先" in dialog.message.text()
    dialog.how.setCurrentIndex(dialog.how.findData("phone_on_record"))
    dialog.adjustSize()
    shoot(dialog, "refunds_new_method.png")
    with qtbot.waitSignal(dialog.accepted, timeout=5000):
        dialog.submit()
    settle(qtbot, page.desk)
    assert dialog.saved.method == "bank_transfer" and dialog.saved.state == "confirmed"
    assert page.message.text() == "PO1: 本人確認済"
    qtbot.waitUntil(lambda: rows(page.postal) == [], timeout=5000)


def test_the_postal_buttons_say_what_they_need(ui_app, qtbot, ui_ctx, decisions):
    page = open_page(qtbot, ui_ctx, "op1")
    page.tabs.setCurrentWidget(page.postal)
    qtbot.mouseClick(page.cashed_button, Qt.MouseButton.LeftButton)  # nothing selected
    assert "払出証書" in page.message.text() and page.desk.prompter.asked == []
    select(page, page.postal, "PO1")
    page.desk.prompter.answers = [True]
    qtbot.mouseClick(page.cashed_button, Qt.MouseButton.LeftButton)  # not yet requested
    settle(qtbot, page.desk)
    assert "払出証書はありません" in page.message.text()
    qtbot.mouseClick(page.method_button, Qt.MouseButton.LeftButton)  # not returned
    assert "返戻" in page.message.text()


def test_the_demos_unmatched_applicants_are_found_by_name(ui_app, qtbot, ui_ctx):
    """The demo (its own refund programme, not emptied): a few applicants gave no member
    ID and a phone not on record; the operator finds the member by the name."""
    from app.ui.refund_decision_dialogs import MatchMemberDialog

    page = open_page(qtbot, ui_ctx, "op1")
    unmatched = page.lists["unmatched"]
    assert unmatched.rowCount() > 0
    name = unmatched.item(0, 2).text()
    assert name != "デモ 会員" and " " in name
    select(page, unmatched, unmatched.item(0, 0).text())
    qtbot.mouseClick(page.match_button, Qt.MouseButton.LeftButton)
    dialog = page.findChild(MatchMemberDialog)
    settle(qtbot, page.desk)
    names = [dialog.results.item(r, 1).text() for r in range(dialog.results.rowCount())]
    assert name in names
    shoot(dialog, "refunds_match_member_demo.png")
