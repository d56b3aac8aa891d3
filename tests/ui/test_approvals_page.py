"""The approvals page as a supervisor uses it: the cases waiting for a second pair of eyes
(never their own verifications) with their flags, the suspicious patterns, and opening
a case; an operator is refused."""

from __future__ import annotations

import sqlite3

from PySide6.QtCore import Qt

from app.domain.states import Status
from app.services import cases, suspicion
from app.services.cases import MoveRequest
from app.ui.approvals_page import ApprovalsPage, flag_label
from tests.ui.conftest import make_desk


def open_page(qtbot, ctx, login="sv1") -> ApprovalsPage:
    desk = make_desk(ctx, login)
    page = ApprovalsPage(desk)
    qtbot.addWidget(page)
    page.resize(1300, 700)
    with qtbot.waitSignal(page.loaded, timeout=10_000):
        page.show()
    return page


def numbers(table) -> list[str]:
    return [table.item(r, 0).text() for r in range(table.rowCount())]


def ready_to_verify(ctx) -> tuple[int, str, int]:
    """A case with its documents in and complete payout details, from the demo."""
    with sqlite3.connect(ctx.db.path) as conn:
        return conn.execute(
            "SELECT c.id, c.case_number, c.claimed_amount FROM case_file c JOIN payout_detail p "
            "ON p.case_id = c.id WHERE c.status = 'documents_received' "
            "AND c.channel = 'debit_charge' ORDER BY c.id LIMIT 1").fetchone()


def test_waiting_list_leaves_out_own_verifications(ui_app, qtbot, ui_ctx):
    case_id, number, claimed = ready_to_verify(ui_ctx)
    sv1 = make_desk(ui_ctx, "sv1").actor
    cases.move_case(ui_ctx, sv1, case_id, MoveRequest(Status.VERIFIED, verified_amount=claimed))
    mine = open_page(qtbot, ui_ctx, "sv1")
    other = open_page(qtbot, ui_ctx, "sv2")
    assert number not in numbers(mine.waiting_table)
    assert number in numbers(other.waiting_table)
    expected = [w.case_number for w in suspicion.waiting_for_approval(ui_ctx, sv1)]
    assert numbers(mine.waiting_table) == expected and expected
    row = numbers(other.waiting_table).index(number)
    assert other.waiting_table.item(row, 5).text() == "sv1"


def test_flags_are_shown_on_waiting_cases_and_listed(ui_app, qtbot, ui_ctx):
    with sqlite3.connect(ui_ctx.db.path) as conn:  # two waiting victims share one phone
        victims = [v for (v,) in conn.execute(
            "SELECT victim_id FROM case_file WHERE status = 'verified' ORDER BY id LIMIT 2")]
        conn.execute("UPDATE victim SET phone_digits = '09099998888' WHERE id IN (?, ?)",
                     victims)
    page = open_page(qtbot, ui_ctx)
    flagged = [page.waiting_table.item(r, 7).text() for r in range(page.waiting_table.rowCount())]
    assert sum(flag_label("shared_phone") in text for text in flagged) == 2
    page.tabs.setCurrentIndex(1)
    listed = [(page.flag_table.item(r, 1).text(), page.flag_table.item(r, 2).text())
              for r in range(page.flag_table.rowCount())]
    assert listed.count((flag_label("shared_phone"), "*******8888 × 2")) == 2
    assert f"({len(listed)})" in page.tabs.tabText(1)


def test_opening_a_row_emits_the_case(ui_app, qtbot, ui_ctx):
    page = open_page(qtbot, ui_ctx)
    page.waiting_table.selectRow(0)
    expected = page.waiting[0].case_id
    with qtbot.waitSignal(page.case_opened) as opened:
        qtbot.mouseClick(page.open_button, Qt.MouseButton.LeftButton)
    assert opened.args == [expected]


def test_an_operator_is_refused(ui_app, qtbot, ui_ctx):
    page = open_page(qtbot, ui_ctx, "op1")
    assert page.waiting_table.rowCount() == 0
    assert "スーパーバイザー" in page.note.text()
