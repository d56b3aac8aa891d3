"""The import wizard on the balance refund's two files, driven as an operator would:
the kind recognised from the header (or chosen), the preview and its column checks,
a dry run, the import with its figures and the applications' states, the refused rows
named by line and field, and a cancel that leaves nothing written.

Set HOSHO_SCREENSHOTS=1 to refresh docs/screenshots/import_wizard_*.png."""

from __future__ import annotations

import csv

import pytest
from PySide6.QtCore import Qt
from sqlalchemy import func, select, text

from app.storage.models import AuditEvent, RefundApplication, RefundMember
from app.ui.import_page import AUTO, STEP_PREVIEW, STEP_RESULT
from tests.services.refund_helpers import (
    APPLICATION_HEADER,
    BALANCE_HEADER,
    application,
    member,
    write_csv,
)
from tests.ui.conftest import settle
from tests.ui.test_import_wizard import (
    LONG,
    cancel_on_first_progress,
    combo_for,
    counts,
    open_file,
    refused_lines,
    shoot,
    validate,
    window_for,
)

pytestmark = pytest.mark.gui


@pytest.fixture
def empty_refunds(ui_ctx, clock):
    # The demo has its own refund programme: these tests start from an empty one.
    with ui_ctx.db.write() as session:
        session.execute(text("DELETE FROM refund_payment"))
        session.execute(text("DELETE FROM postal_order"))
        session.execute(text("DELETE FROM refund_application"))
        session.execute(text("DELETE FROM refund_member"))
    clock.advance(days=200)  # March 2020: the applications are in the past
    return ui_ctx


def stored(ctx, model) -> int:
    with ctx.db.read() as session:
        return session.execute(select(func.count()).select_from(model)).scalar_one()


def balances_file(tmp_path, rows=None):
    rows = rows or [member("R1", 5000), member("R2", "3,000円", 1000), member("R3", 0),
                    member("R4", "x"), member("R1", 5000), member("R2", 2999),
                    member("R5", 100, birth="1800-01-01")]
    return write_csv(tmp_path / "終了時残高.csv", BALANCE_HEADER, rows, "cp932")


def applications_file(tmp_path):
    return write_csv(tmp_path / "払戻申出.csv", APPLICATION_HEADER, [
        application("A1", "R1"), application("A2", "R2", route="Web"),
        application("A3", "R9"), application("A4", "R3"),
        application("A5", "R1", applied="2020-01-12 10:00", route="電話"),
        application("A6", "R2", applied="2019-09-30 10:00"),  # before applications opened
        application("A7", "R2", phone="", email=""),  # neither phone nor e-mail
        application("A8", "R2", applied="2020-01-11 00:00", method="払出証書")])


def badge(page) -> str:
    return page.kind_badge.text()


def test_closing_balances_recognised_checked_validated_and_imported(
        ui_app, qtbot, empty_refunds, tmp_path):
    ctx = empty_refunds
    window = window_for(qtbot, ctx)
    page = open_file(qtbot, window, balances_file(tmp_path))
    assert page.kind == "balances" and page.kind_combo.currentData() == AUTO
    assert "見出しから判別" in badge(page) and "終了時残高" in badge(page)
    assert "残高払戻し" in badge(page)  # the programme the file belongs to
    assert "CP932" in page.format_label.text()
    assert combo_for(page, "残高").currentText() == "終了時残高（必須）"
    assert combo_for(page, "退会日").currentData() == "closed_on"
    assert page.validate_button.isEnabled() and page.problems.text() == ""
    shoot(window, "import_wizard_balances_preview.png")

    validate(qtbot, page)
    assert page.stack.currentIndex() == STEP_RESULT
    assert "書き込まれていません" in page.result_heading.text()
    assert {k: v for k, v in counts(page).items() if v} == {
        "read": "7", "accepted": "3", "duplicate": "1", "conflict": "1", "rejected": "2"}
    assert not page.amounts_box.isVisible() and page.refund_box.isVisible()
    assert page.balance_total.text() == "8,000円"
    assert "会員ID" in page.counts_form.labelForField(page.counts["conflict"]).text()
    assert refused_lines(page) == ["5", "7", "8"]
    assert "残高" in page.refused.item(0, 2).text()  # line 5: the balance "x"
    assert "生年月日" in page.refused.item(2, 2).text()  # line 8: born in 1800
    assert stored(ctx, RefundMember) == 0  # the dry run wrote nothing
    shoot(window, "import_wizard_balances.png")

    with qtbot.waitSignal(window.desk.changed, timeout=10_000):
        qtbot.mouseClick(page.import_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not page.running, timeout=5000)
    assert "取込完了" in page.result_heading.text()
    assert "終了時残高3件" in page.message.text()
    assert stored(ctx, RefundMember) == 3
    with ctx.db.read() as session:
        batch = session.execute(select(AuditEvent.entity_id).where(
            AuditEvent.action == "refund.import_balances")).scalar_one()
    assert batch == page.summary.batch_id

    # The same file again changes nothing: everything accepted is a duplicate.
    qtbot.mouseClick(page.again_button, Qt.MouseButton.LeftButton)
    page = open_file(qtbot, window, balances_file(tmp_path))
    validate(qtbot, page)
    assert counts(page)["accepted"] == "0" and counts(page)["duplicate"] == "4"
    assert not page.import_button.isEnabled()


def test_applications_with_refused_rows_their_states_and_the_refused_file(
        ui_app, qtbot, empty_refunds, tmp_path):
    ctx = empty_refunds
    window = window_for(qtbot, ctx)
    page = open_file(qtbot, window, balances_file(tmp_path))
    validate(qtbot, page)
    with qtbot.waitSignal(window.desk.changed, timeout=10_000):
        qtbot.mouseClick(page.import_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not page.running, timeout=5000)

    qtbot.mouseClick(page.again_button, Qt.MouseButton.LeftButton)
    page = open_file(qtbot, window, applications_file(tmp_path))
    assert page.kind == "applications" and "払戻申出" in badge(page)
    validate(qtbot, page)
    assert {k: v for k, v in counts(page).items() if v} == {
        "read": "8", "accepted": "6", "duplicate": "0", "conflict": "0", "rejected": "2"}
    assert refused_lines(page) == ["7", "8"]
    assert "申出日時" in page.refused.item(0, 2).text()
    assert "2019年10月1日" in page.refused.item(0, 2).text()
    assert "電話番号" in page.refused.item(1, 2).text()
    states = {state: label.text() for state, label in page.states.items()}
    assert states == {"duplicate": "2", "unmatched": "1", "refused_closed": "0",
                      "refused_no_balance": "1", "late": "0", "held_overlap": "0",
                      "confirmed": "1", "awaiting_identity": "1", "refused": "0",
                      "awaiting_method": "0", "paid": "0"}
    assert "状態別" in page.refund_box.title()
    assert stored(ctx, RefundApplication) == 0
    shoot(window, "import_wizard_applications.png")

    with qtbot.waitSignal(window.desk.changed, timeout=10_000):
        qtbot.mouseClick(page.import_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not page.running, timeout=5000)
    assert "申出6件" in page.message.text()
    assert stored(ctx, RefundApplication) == 6
    assert page.summary.states["confirmed"] == 1

    target = tmp_path / "refused.csv"
    window.desk.prompter.files = [target]
    qtbot.mouseClick(page.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: target.exists() and not window.desk.lane.busy, timeout=5000)
    rows = list(csv.reader(target.read_bytes().decode("utf-8-sig").splitlines()))
    assert rows[0][3:] == APPLICATION_HEADER
    assert [r[0] for r in rows[1:]] == ["7", "8"]
    assert "applied_at" not in rows[1][2] and "Applied before" in rows[1][2]  # both languages


def test_a_chosen_kind_shows_its_own_columns_and_what_is_missing(
        ui_app, qtbot, empty_refunds, tmp_path):
    window = window_for(qtbot, empty_refunds)
    page = window.imports
    page.choose_kind("applications")
    page = open_file(qtbot, window, balances_file(tmp_path))
    assert page.kind == "applications" and "払戻申出" in badge(page)
    assert not page.validate_button.isEnabled()
    assert "申出番号" in page.problems.text() and "払戻方法" in page.problems.text()
    # Told it is the balances after all: a fresh preview with the balance fields.
    page.choose_kind("balances")
    qtbot.waitUntil(lambda: page.kind == "balances" and page.validate_button.isEnabled(),
                    timeout=5000)
    assert combo_for(page, "残高").currentData() == "balance"


def test_a_header_of_no_single_kind_asks_for_the_kind(ui_app, qtbot, empty_refunds,
                                                      tmp_path):
    window = window_for(qtbot, empty_refunds)
    path = write_csv(tmp_path / "odd.csv", ["会員ID", "氏名"], [["R1", "山田"]])
    page = open_file(qtbot, window, path)
    assert page.kind == "incidents" and "判別できない" in badge(page)
    assert not page.validate_button.isEnabled()


def test_the_refund_page_opens_the_wizard_on_its_file(ui_app, qtbot, empty_refunds,
                                                      tmp_path):
    window = window_for(qtbot, empty_refunds)
    window.show_page("refunds")
    window.desk.prompter.files = [applications_file(tmp_path)]
    qtbot.mouseClick(window.refunds.import_applications_button, Qt.MouseButton.LeftButton)
    page = window.imports
    assert window.stack.currentWidget() is page
    qtbot.waitUntil(lambda: page.stack.currentIndex() == STEP_PREVIEW, timeout=5000)
    assert page.kind_combo.currentData() == "applications" and page.kind == "applications"
    assert "払戻申出（残高払戻し）" in badge(page)


def test_cancel_a_large_balances_import_leaves_nothing(ui_app, qtbot, empty_refunds,
                                                      tmp_path):
    ctx = empty_refunds
    rows = [member(f"B{i:06d}", 1000 + i, phone=f"090-{i // 10000:04d}-{i % 10000:04d}")
            for i in range(20_000)]
    window = window_for(qtbot, ctx)
    page = open_file(qtbot, window, balances_file(tmp_path, rows))
    with qtbot.waitSignal(page.finished, timeout=LONG):
        qtbot.mouseClick(page.validate_button, Qt.MouseButton.LeftButton)
        assert page.progress_box.isVisible() and not page.kind_combo.isEnabled()
        shown = cancel_on_first_progress(qtbot, page)
    assert 0 < shown < 1000 and "中止" in page.message.text()
    assert page.stack.currentIndex() == STEP_PREVIEW

    validate(qtbot, page, timeout=LONG)
    assert counts(page)["accepted"] == "20,000"
    with qtbot.waitSignal(page.finished, timeout=LONG):
        qtbot.mouseClick(page.import_button, Qt.MouseButton.LeftButton)
        shown = cancel_on_first_progress(qtbot, page)
    assert 0 < shown < 1000
    assert "変更されていません" in page.message.text()
    assert stored(ctx, RefundMember) == 0
    assert page.import_button.isEnabled()  # the validated file can still be imported
    settle(qtbot, window.desk)


def test_a_dropped_file_is_told_by_its_header_whatever_was_chosen(ui_app, qtbot, empty_refunds,
                                                                  tmp_path):
    window = window_for(qtbot, empty_refunds)
    window.imports.choose_kind("applications")
    window._dropped(str(balances_file(tmp_path)))
    page = window.imports
    qtbot.waitUntil(lambda: page.stack.currentIndex() == STEP_PREVIEW, timeout=5000)
    assert page.kind_combo.currentData() == AUTO and page.kind == "balances"
