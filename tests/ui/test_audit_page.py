"""The audit log page driven as a supervisor would: filters, pages, before/after,
the export for an auditor; an operator is refused; the start-up check warns an admin."""

from __future__ import annotations

import csv
import sqlite3
from datetime import date

from PySide6.QtCore import QDate, Qt

from app.core.clock import to_jst
from app.services import audit_log
from app.ui.audit_page import PAGE_SIZE, AuditPage, warn_if_audit_broken
from app.ui.labels import action_label
from tests.conftest import step_up_code
from tests.ui.conftest import make_desk, settle


def open_page(qtbot, ctx, login="sv1") -> AuditPage:
    desk = make_desk(ctx, login)
    page = AuditPage(desk)
    qtbot.addWidget(page)
    page.resize(1300, 760)
    with qtbot.waitSignal(page.loaded, timeout=10_000):
        page.show()
    return page


def search(qtbot, page: AuditPage) -> None:
    with qtbot.waitSignal(page.loaded, timeout=10_000):
        qtbot.mouseClick(page.search_button, Qt.MouseButton.LeftButton)


def column(page: AuditPage, index: int) -> list[str]:
    return [page.table.item(r, index).text() for r in range(page.table.rowCount())]


def actions(page: AuditPage) -> list[str]:
    return [row.action for row in page.rows]


def total_events(ctx) -> int:
    with sqlite3.connect(ctx.db.path) as conn:
        return conn.execute("SELECT count(*) FROM audit_event").fetchone()[0]


def test_newest_first_a_page_at_a_time(ui_app, qtbot, ui_ctx):
    page = open_page(qtbot, ui_ctx)
    total = total_events(ui_ctx)
    assert total > PAGE_SIZE
    assert page.table.rowCount() == PAGE_SIZE
    seqs = [int(s) for s in column(page, 0)]
    assert seqs == sorted(seqs, reverse=True) and seqs[0] == total
    assert f"{total:,}" in page.status.text()
    assert not page.prev_button.isEnabled()
    with qtbot.waitSignal(page.loaded):
        qtbot.mouseClick(page.next_button, Qt.MouseButton.LeftButton)
    assert int(column(page, 0)[0]) == total - PAGE_SIZE
    assert page.prev_button.isEnabled()


def test_filter_by_case_shows_its_history_with_before_and_after(ui_app, qtbot, ui_ctx):
    page = open_page(qtbot, ui_ctx)
    with sqlite3.connect(ui_ctx.db.path) as conn:
        number, count = conn.execute(
            "SELECT c.case_number, count(*) FROM audit_event e JOIN case_file c "
            "ON c.id = e.case_id GROUP BY c.case_number HAVING sum(e.action = 'case.approve') "
            "LIMIT 1").fetchone()
    page.case_edit.setText(number.lower())
    search(qtbot, page)
    assert page.table.rowCount() == count and set(column(page, 4)) == {number}
    row = actions(page).index("case.approve")
    assert column(page, 3)[row] == action_label("case.approve") != "case.approve"
    page.table.selectRow(row)
    change = page.change.toPlainText()  # in words, like the timeline: no raw JSON
    assert "状態: 確認済 → 承認済" in change
    assert "{" not in change and '"' not in change


def test_filter_by_action_operator_and_dates_in_japan_time(ui_app, qtbot, ui_ctx):
    page = open_page(qtbot, ui_ctx)
    page.action_combo.setEditText("case.approve")
    search(qtbot, page)
    approvals = actions(page)
    assert approvals and set(approvals) == {"case.approve"}
    assert page.table.item(0, 3).toolTip() == "case.approve"
    login = column(page, 2)[0]
    page.operator_edit.setText(login)
    page.from_on.setChecked(True)
    page.to_on.setChecked(True)
    page.from_edit.setDate(QDate(2019, 8, 1))
    page.to_edit.setDate(QDate(2019, 8, 10))
    search(qtbot, page)
    flt = page.current_filter()
    expected = audit_log.list_events(ui_ctx, page.desk.actor, flt)
    assert len(expected) == page.table.rowCount() > 0
    assert set(column(page, 2)) == {login}
    for row in expected:
        assert date(2019, 8, 1) <= to_jst(row.at).date() <= date(2019, 8, 10)
    shown = column(page, 1)
    assert all("2019/08/" in s for s in shown)


def test_export_for_an_auditor(ui_app, qtbot, ui_ctx, tmp_path):
    page = open_page(qtbot, ui_ctx)
    page.action_combo.setEditText("case.verify")
    search(qtbot, page)
    out = tmp_path / "auditor.csv"
    page.desk.prompter.files = [out]
    # The trail holds personal data: the page asks for a fresh authenticator code.
    page.desk.prompter.answers = [step_up_code(ui_ctx, page.desk.actor)]
    with qtbot.waitSignal(page.exported, timeout=10_000) as signal:
        qtbot.mouseClick(page.export_button, Qt.MouseButton.LeftButton)
    assert page.desk.prompter.asked[0][0] == "code"
    rows = list(csv.reader(out.read_text(encoding="utf-8-sig").splitlines()))
    assert signal.args == [len(rows) - 1] and len(rows) - 1 == page.total
    assert {r[3] for r in rows[1:]} == {"case.verify"}
    assert page.desk.prompter.infos
    page.action_combo.setEditText("audit.export")
    search(qtbot, page)
    assert column(page, 2) == ["sv1"] and actions(page) == ["audit.export"]


def test_a_cancelled_code_writes_nothing(ui_app, qtbot, ui_ctx, tmp_path):
    page = open_page(qtbot, ui_ctx)
    out = tmp_path / "auditor.csv"
    page.desk.prompter.files = [out]
    page.desk.prompter.answers = [None]  # the code dialog cancelled
    qtbot.mouseClick(page.export_button, Qt.MouseButton.LeftButton)
    settle(qtbot, page.desk)
    assert [kind for kind, _text in page.desk.prompter.asked] == ["code"]
    assert not out.exists() and not page.desk.prompter.errors
    assert audit_log.count_events(ui_ctx, page.desk.actor,
                                  audit_log.AuditFilter(action="audit.export")) == 0


def test_a_wrong_code_is_refused_and_writes_nothing(ui_app, qtbot, ui_ctx, tmp_path):
    page = open_page(qtbot, ui_ctx)
    out = tmp_path / "auditor.csv"
    page.desk.prompter.files = [out]
    page.desk.prompter.answers = ["000000"]
    qtbot.mouseClick(page.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(page.desk.prompter.errors), timeout=10_000)
    assert "確認コード" in page.desk.prompter.errors[0]
    assert not out.exists() and not list(tmp_path.glob(".auditor.csv*"))


def test_an_operator_is_refused_the_trail(ui_app, qtbot, ui_ctx):
    page = open_page(qtbot, ui_ctx, login="op1")
    assert page.table.rowCount() == 0
    assert "スーパーバイザー" in page.status.text()
    assert page.export_button.isHidden()


def test_start_up_check_warns_only_when_the_chain_is_broken(ui_app, qtbot, ui_ctx):
    desk = make_desk(ui_ctx, "sv1")
    warn_if_audit_broken(desk)
    settle(qtbot, desk)
    assert desk.prompter.errors == []
    with sqlite3.connect(ui_ctx.db.path) as conn:
        conn.execute("DROP TRIGGER audit_event_no_delete")
        conn.execute("DELETE FROM audit_event WHERE seq = 40")
    warn_if_audit_broken(desk)
    settle(qtbot, desk)
    assert len(desk.prompter.errors) == 1
    assert "40" in desk.prompter.errors[0] and "39" in desk.prompter.errors[0]


def test_actions_are_offered_by_their_japanese_names(ui_app, qtbot, ui_ctx):
    page = open_page(qtbot, ui_ctx)
    combo = page.action_combo
    qtbot.waitUntil(lambda: combo.count() > 1, timeout=3000)
    offered = [combo.itemText(i) for i in range(1, combo.count())]
    assert action_label("case.approve") in offered and "case.approve" not in offered
    combo.setCurrentIndex(combo.findData("case.approve"))
    search(qtbot, page)
    assert page.current_filter().action == "case.approve"
    assert set(actions(page)) == {"case.approve"}


def test_the_export_runs_as_a_task_and_shows_its_progress(ui_app, qtbot, ui_ctx, tmp_path):
    """The export is long work: off the desk's lane, its progress (done, total) in the
    page's bar as the window's other long work shows it, the page usable meanwhile."""
    page = open_page(qtbot, ui_ctx)
    out = tmp_path / "whole_trail.csv"
    page.desk.prompter.files = [out]
    page.desk.prompter.answers = [step_up_code(ui_ctx, page.desk.actor)]
    seen = []
    page.task.progressed.connect(lambda done, total: seen.append((done, total)))
    with qtbot.waitSignal(page.exported, timeout=20_000) as signal:
        qtbot.mouseClick(page.export_button, Qt.MouseButton.LeftButton)
    written = signal.args[0]
    rows = list(csv.reader(out.read_text(encoding="utf-8-sig").splitlines()))
    assert written == len(rows) - 1 > PAGE_SIZE
    assert seen and seen[-1] == (written, written)
    assert page.progress.maximum() == written and page.progress.value() == written
    assert not page.task.running and page.export_button.isEnabled()
