"""The balance-refund page at a centre (issue 15): real widgets (pytest-qt) against a
real server on loopback, on PostgreSQL when HOSHO_TEST_PG_URL is set (else SQLite).

Both files are imported through the server (uploaded as the wizard does), the work
lists show their counts, an operator confirms an identity through the contact on
record and refuses an application with a reason; the server refuses an operator the
supervisor's late decision (whatever the desk says of itself), and a supervisor with a
fresh code takes the late application in. Each decision is in the audit trail under
the operator the server bound from the session.

One server and one database for the module (a PostgreSQL server is expensive): the
files are imported once, and each test decides on applications of its own.
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import datetime

import pytest
from PySide6.QtCore import Qt
from sqlalchemy import select

from app.core.clock import JST, FixedClock
from app.core.errors import PermissionDenied
from app.core.i18n import set_locale
from app.domain.roles import SYSTEM_ACTOR, Role
from app.services import audit_log, intake, operators, refunds
from app.services.context import AppContext
from app.services.gateway import FileIn, FileOut
from app.services.import_errors import import_refunds_spooling_refused
from app.storage.db import Database
from app.storage.models import AuditEvent, RefundApplication
from app.ui.application import centre_desk
from app.ui.fonts import apply_ui_font
from app.ui.prompts import ScriptedPrompter
from app.ui.refunds_page import RefundsPage
from tests.conftest import PASSWORD, PG_URL, _empty_pg, enrol_second_factor, step_up_code
from tests.server.conftest import running_server, sign_in
from tests.services.helpers import incident, victim
from tests.services.refund_helpers import (
    APPLICATION_HEADER,
    BALANCE_HEADER,
    application,
    member,
    write_csv,
)
from tests.ui.conftest import settle
from tests.ui.test_import_wizard import shoot

pytestmark = [pytest.mark.gui, pytest.mark.slow]


@pytest.fixture(scope="module")
def centre(request, tmp_path_factory):
    """(ctx, staff, url): the server's database and clock, one account of each role,
    and the server in front of them, for the whole module."""
    if PG_URL:
        db = _empty_pg(request.getfixturevalue("pg_database"))
    else:
        path = tmp_path_factory.mktemp("centre") / "centre.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        db = Database(str(path))
    # March 2020: the refund programme's applications are in the past.
    ctx = AppContext(db, FixedClock(datetime(2020, 3, 7, 10, 0, tzinfo=JST)))
    staff = {}
    for login, role in (("op1", Role.OPERATOR), ("op2", Role.OPERATOR),
                        ("sv1", Role.SUPERVISOR)):
        view = operators.add_operator(ctx, SYSTEM_ACTOR, login, login.upper(), role, PASSWORD)
        staff[login] = view.as_actor()
        if view.totp_required:
            enrol_second_factor(ctx, staff[login], minutes_before=10)
    with running_server(ctx) as url:
        yield ctx, staff, url
    db.dispose()


@pytest.fixture(scope="module")
def imported(centre, tmp_path_factory):
    """Both files, uploaded by an operator's desk through the server as the wizard sends
    them; the import summaries as the desk got them back."""
    ctx, staff, url = centre
    # A member with a compensation case too: the page's "both programmes" list.
    intake.take_phone_intake(ctx, SYSTEM_ACTOR, victim(member_id="C1", phone="03-0000-0000"),
                             incident(amount=30_000))
    folder = tmp_path_factory.mktemp("files")
    balances = write_csv(folder / "残高.csv", BALANCE_HEADER, [
        member("WEB", 5000), member("WEB2", 4500), member("LATE", 4000),
        member("C1", 10_000), member("BAD", "x")], "cp932")
    applications = write_csv(folder / "申出.csv", APPLICATION_HEADER, [
        application("W1", "WEB", route="Web"), application("W2", "WEB2", route="Web"),
        application("L1", "LATE", applied="2020-02-01 10:00"), application("O1", "C1"),
        application("U1", "", phone="070-1234-0000")])
    desk = sign_in(ctx, url, staff, "op1")
    summaries = {}
    for kind, path in (("balances", balances), ("applications", applications)):
        summaries[kind] = desk.write(
            import_refunds_spooling_refused, FileIn(str(path)), kind=kind, mapping=None,
            dry_run=False, spool=FileOut(str(folder / f"{kind}-refused.csv")), header=[])
    desk.close()
    with ctx.db.read() as session:
        refs = dict(session.execute(select(RefundApplication.application_id,
                                           RefundApplication.id)).all())
    return summaries, refs


@pytest.fixture
def open_page(qapp, qtbot, centre, imported):
    """open_page("op1", answers): the refunds page of a centre desk signed in as op1,
    its prompter answering ``answers``; the desks closed after the test."""
    ctx, staff, url = centre
    apply_ui_font(qapp)
    set_locale("ja")
    gateways = []

    def opened(login: str, answers=None) -> RefundsPage:
        gateway = sign_in(ctx, url, staff, login).gateway
        gateways.append(gateway)
        page = RefundsPage(centre_desk(gateway, ScriptedPrompter(answers)))
        qtbot.addWidget(page)
        page.resize(1300, 760)
        page.show()
        settle(qtbot, page.desk)
        return page

    yield opened
    for gateway in gateways:
        gateway.close()


def rows(table) -> list[str]:
    return [table.item(row, 0).text() for row in range(table.rowCount())]


def select_application(page: RefundsPage, work_list: str, application_id: str) -> None:
    page.tabs.setCurrentWidget(page.lists[work_list])
    page.lists[work_list].selectRow(rows(page.lists[work_list]).index(application_id))


def decided_by(ctx, action: str, ref: int) -> list[str]:
    """Who the audit trail says made the decision on application ``ref``."""
    with ctx.db.read() as session:
        return list(session.execute(select(AuditEvent.actor_login).where(
            AuditEvent.action == action, AuditEvent.entity == "refund",
            AuditEvent.entity_id == ref)).scalars())


def test_the_files_imported_through_the_server_fill_the_work_lists(open_page, imported):
    summaries, _refs = imported
    assert summaries["balances"].accepted == 4 and summaries["balances"].rejected == 1
    assert summaries["applications"].read == 5
    page = open_page("op1")
    assert "残高払戻し" in page.programme.text() and "会員 4人" in page.figures.text()
    assert rows(page.lists["awaiting_identity"]) == ["W1", "W2"]
    assert rows(page.lists["unmatched"]) == ["U1"]
    assert rows(page.lists["late"]) == ["L1"]
    assert rows(page.lists["held_overlap"]) == ["O1"]
    assert [page.tabs.tabText(i) for i in range(4)] == [
        "会員未特定 (1)", "本人確認待ち (2)", "期限後申出 (1)", "補償と重複（保留） (1)"]
    assert page.both.rowCount() == 1 and page.both.item(0, 0).text() == "C1"
    assert page.accept_late_button.isHidden()  # a supervisor's decision
    select_application(page, "awaiting_identity", "W1")
    shoot(page, "refunds_at_centre.png")  # HOSHO_SCREENSHOTS=1


def test_an_operator_confirms_identity_and_refuses_with_a_reason(qtbot, centre, imported,
                                                                 open_page):
    ctx, _staff, _url = centre
    refs = imported[1]
    page = open_page("op2", answers=["登録電話番号に3回架電し不通"])
    select_application(page, "awaiting_identity", "W1")
    page.how.setCurrentIndex(page.how.findData("phone_on_record"))
    qtbot.mouseClick(page.confirm_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "本人確認済" in page.message.text(), timeout=5000)
    assert page.message.text().startswith("W1")
    qtbot.waitUntil(lambda: rows(page.lists["awaiting_identity"]) == ["W2"], timeout=5000)
    select_application(page, "unmatched", "U1")
    qtbot.mouseClick(page.refuse_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.message.text().startswith("U1"), timeout=5000)
    assert page.desk.prompter.asked[0][0] == "text"
    qtbot.waitUntil(lambda: rows(page.lists["unmatched"]) == [], timeout=5000)
    assert refunds.get_application(ctx, refs["U1"]).state == "refused"
    assert refunds.get_application(ctx, refs["U1"]).state_reason == "登録電話番号に3回架電し不通"
    # The trail: each decision under the operator of the session, as the server bound it.
    assert decided_by(ctx, "refund.identity_confirmed", refs["W1"]) == ["op2"]
    assert decided_by(ctx, "refund.refuse", refs["U1"]) == ["op2"]


def test_late_is_a_supervisors_decision_with_a_fresh_code(qtbot, centre, imported, open_page):
    ctx, staff, url = centre
    refs = imported[1]
    # An operator's desk asking anyway is refused by the server, even a desk that
    # claims to be the supervisor: the server binds the operator of its session.
    operator = sign_in(ctx, url, staff, "op1")
    try:
        operator.gateway.actor = replace(operator.gateway.actor, role=Role.SUPERVISOR,
                                         login="sv1")
        with pytest.raises(PermissionDenied):
            operator.write(refunds.accept_late, refs["L1"], "事情あり",
                           second_factor=step_up_code(ctx, staff["sv1"]))
    finally:
        operator.close()
    assert refunds.get_application(ctx, refs["L1"]).state == "late"
    # The supervisor, on the page: a reason, then a fresh code.
    page = open_page("sv1")
    assert not page.accept_late_button.isHidden()
    # (the code after the sign-in's own: a code counts once)
    page.desk.prompter.answers = ["入院のため申出が遅れた", step_up_code(ctx, staff["sv1"])]
    select_application(page, "late", "L1")
    qtbot.mouseClick(page.accept_late_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.message.text().startswith("L1"), timeout=5000)
    assert [kind for kind, _text in page.desk.prompter.asked] == ["text", "code"]
    qtbot.waitUntil(lambda: rows(page.lists["late"]) == [], timeout=5000)
    assert refunds.get_application(ctx, refs["L1"]).state == "confirmed"
    assert decided_by(ctx, "refund.accept_late", refs["L1"]) == ["sv1"]
    # The supervisor reads the same trail through the server.
    trail = page.desk.gateway.write(audit_log.list_events, audit_log.AuditFilter(
        action="refund.accept_late"), 0, 10).value
    assert [(row.actor_login, row.entity_id) for row in trail] == [("sv1", refs["L1"])]


def test_a_phone_application_and_the_person_at_a_centre(qtbot, centre, imported, open_page):
    """The intake form's problems come back from the server field by field, as in
    process; the person in both programmes opens from an application."""
    from app.ui.person_dialog import PersonDialog
    from app.ui.refund_intake_dialog import RefundIntakeDialog

    refs = imported[1]
    page = open_page("op1")
    dialog = page.take_phone_application()
    qtbot.addWidget(dialog)
    assert isinstance(dialog, RefundIntakeDialog)
    dialog.edits["name"].setText("山田 太郎")
    dialog.edits["applied_at"].setText("2019/09/01 10:00")  # before the programme opened
    dialog.submit()
    qtbot.waitUntil(lambda: "申出日時" in dialog.message.text(), timeout=5000)
    assert "電話" in dialog.message.text() and dialog.isVisible()
    dialog.edits["member_id"].setText("WEB2")
    dialog.edits["applied_at"].setText("2020/03/06 14:00")
    dialog.edits["name_kana"].setText("ヤマダ タロウ")
    dialog.edits["phone"].setText("090-1111-2222")
    dialog.method.setCurrentIndex(dialog.method.findData("postal_order"))
    with qtbot.waitSignal(dialog.accepted, timeout=5000):
        dialog.submit()
    assert dialog.created.application_id.startswith("TEL-")
    assert dialog.created.application_id in page.message.text()
    select_application(page, "held_overlap", "O1")
    person = page.show_person()
    qtbot.addWidget(person)
    assert isinstance(person, PersonDialog)
    qtbot.waitUntil(lambda: person.person is not None, timeout=5000)
    assert person.person.member_id == "C1" and len(person.person.cases) == 1
    assert [a.id for a in person.person.applications] == [refs["O1"]]


def test_an_unmatched_application_matched_then_the_postal_rail_at_a_centre(
        qtbot, centre, imported, open_page, tmp_path):
    """The member found through the server, the request list written by the server and
    downloaded to the desk, the certificate issued, returned, and a transfer instead:
    each decision under the operator the server bound from the session."""
    from app.services.refunds_import import import_applications, import_balances
    from app.ui.refund_decision_dialogs import (
        MatchMemberDialog,
        PostalIssuedDialog,
        RefundMethodDialog,
    )

    ctx, staff, _url = centre
    import_balances(ctx, SYSTEM_ACTOR, write_csv(tmp_path / "残高.csv", BALANCE_HEADER, [
        member("MP", 6000, kana="スズキ ハナコ", phone="080-7777-0000")]))
    import_applications(ctx, SYSTEM_ACTOR, write_csv(tmp_path / "申出.csv", APPLICATION_HEADER, [
        application("UP", "", route="Web", method="払出証書", kana="スズキ ハナコ",
                    phone="050-0000-1111")]))
    with ctx.db.read() as session:
        ref = session.execute(select(RefundApplication.id).where(
            RefundApplication.application_id == "UP")).scalar_one()
    page = open_page("op1")
    select_application(page, "unmatched", "UP")
    qtbot.mouseClick(page.match_button, Qt.MouseButton.LeftButton)
    dialog = page.findChild(MatchMemberDialog)
    qtbot.addWidget(dialog)
    dialog.search.setText("080-7777")
    qtbot.mouseClick(dialog.search_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: rows(dialog.results) == ["MP"], timeout=5000)
    dialog.results.selectRow(0)
    dialog.reason.setText("登録電話番号に架電し本人と確認、会員IDを聴取")
    with qtbot.waitSignal(dialog.accepted, timeout=5000):
        dialog.submit()
    qtbot.waitUntil(lambda: page.message.text() == "UP: 本人確認待ち", timeout=5000)
    qtbot.waitUntil(lambda: "UP" in rows(page.lists["awaiting_identity"]), timeout=5000)
    assert decided_by(ctx, "refund.match", ref) == ["op1"]
    select_application(page, "awaiting_identity", "UP")
    page.how.setCurrentIndex(page.how.findData("phone_on_record"))
    qtbot.mouseClick(page.confirm_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "UP" in rows(page.postal), timeout=5000)
    assert page.request_list_button.isHidden()
    # The supervisor's request list: the server writes it, the desk receives it.
    supervisor = open_page("sv1")  # signed in first: the sign-in spends its code's step
    supervisor.desk.prompter.answers = [True, step_up_code(ctx, staff["sv1"])]
    out = tmp_path / "依頼リスト.csv"
    supervisor.desk.prompter.files = [out]
    supervisor.tabs.setCurrentWidget(supervisor.postal)
    qtbot.mouseClick(supervisor.request_list_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: str(out) in supervisor.message.text(), timeout=5000)
    assert "UP,MP,山田 太郎,100-0005" in out.read_bytes().decode("utf-8-sig")
    with ctx.db.read() as session:
        listed = session.execute(select(AuditEvent.actor_login).where(
            AuditEvent.action == "refund.postal_list")).scalars().all()
    assert listed == ["sv1"]
    # Issued, then expired and returned, then a transfer to the member's account.
    qtbot.waitUntil(lambda: rows(page.postal) == ["UP"] and page.postal.item(0, 4).text()
                    == "発行依頼済", timeout=5000)
    page.tabs.setCurrentWidget(page.postal)
    page.postal.selectRow(0)
    qtbot.mouseClick(page.issued_button, Qt.MouseButton.LeftButton)
    issued = page.findChild(PostalIssuedDialog)
    issued.number.setText("00120-9-000001")
    with qtbot.waitSignal(issued.accepted, timeout=5000):
        issued.submit()
    qtbot.waitUntil(lambda: page.postal.item(0, 4).text() == "発行済", timeout=5000)
    page.postal.selectRow(0)
    page.desk.prompter.answers = [True, "払出期限切れ"]
    qtbot.mouseClick(page.returned_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.postal.item(0, 4).text().startswith("期限切れ"),
                    timeout=5000)
    page.postal.selectRow(0)
    qtbot.mouseClick(page.method_button, Qt.MouseButton.LeftButton)
    method = page.findChild(RefundMethodDialog)
    settle(qtbot, page.desk)
    method.method.setCurrentIndex(method.method.findData("bank_transfer"))
    method.bank_search.setText("0005")
    method.branch_search.setText("002")
    method.account_number.setText("7654321")
    method.holder_kana.setText("スズキ ハナコ")
    method.how.setCurrentIndex(method.how.findData("phone_on_record"))
    with qtbot.waitSignal(method.accepted, timeout=5000):
        method.submit()
    qtbot.waitUntil(lambda: rows(page.postal) == [], timeout=5000)
    assert refunds.get_application(ctx, ref).method == "bank_transfer"
    assert decided_by(ctx, "refund.postal_issued", ref) == ["op1"]
    assert decided_by(ctx, "refund.change_method", ref) == ["op1"]


def test_a_supervisor_settles_the_overlap_at_a_centre(qtbot, centre, imported, open_page):
    ctx, staff, _url = centre
    refs = imported[1]
    assert open_page("op1").settle_button.isHidden()
    page = open_page("sv1")
    select_application(page, "held_overlap", "O1")
    page.desk.prompter.answers = [10_000, "残高の全額が補償で返金済のチャージ由来",
                                  step_up_code(ctx, staff["sv1"])]
    qtbot.mouseClick(page.settle_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.message.text().startswith("O1"), timeout=5000)
    assert page.message.text() == "O1: 払戻不可"  # nothing left to refund
    qtbot.waitUntil(lambda: rows(page.lists["held_overlap"]) == [], timeout=5000)
    assert decided_by(ctx, "refund.settle_overlap", refs["O1"]) == ["sv1"]
