"""The queue page driven as an operator would: Next, the attempt form, the lists apart."""

from __future__ import annotations

from PySide6.QtCore import Qt

from app.services import queue
from app.services.outreach import Outcome
from app.ui.queue_page import QueuePage
from tests.ui.conftest import make_desk, settle


def open_page(qtbot, ctx, login="op1", answers=None) -> QueuePage:
    desk = make_desk(ctx, login, answers)
    page = QueuePage(desk)
    qtbot.addWidget(page)
    page.resize(1300, 700)
    page.show()
    settle(qtbot, desk)
    return page


def shown_numbers(table) -> list[str]:
    return [table.item(row, 0).text() for row in range(table.rowCount())]


def test_queue_lists_in_calling_order_and_next_holds_the_first(ui_app, qtbot, ui_ctx):
    page = open_page(qtbot, ui_ctx)
    expected = [r.case_number for r in queue.list_queue(ui_ctx, 0, 100)]
    assert expected and shown_numbers(page.queue_table) == expected
    assert f"{queue.count_queue(ui_ctx):,}" in page.summary.text()
    assert not page.record_button.isEnabled()
    qtbot.mouseClick(page.next_button, Qt.MouseButton.LeftButton)
    settle(qtbot, page.desk)
    assert page.held is not None and page.held.case_number == expected[0]
    assert expected[0] in page.held_label.text()
    assert page.record_button.isEnabled()


def test_recording_a_failed_attempt_moves_the_queue_on(ui_app, qtbot, ui_ctx, clock):
    page = open_page(qtbot, ui_ctx)
    changed = []
    page.desk.changed.connect(changed.append)
    page.take_next()
    settle(qtbot, page.desk)
    held = page.held
    page.outcome.setCurrentIndex(page.outcome.findData(Outcome.NO_ANSWER.value))
    assert not page.call_back.isEnabled()
    qtbot.mouseClick(page.record_button, Qt.MouseButton.LeftButton)
    settle(qtbot, page.desk)
    settle(qtbot, page.desk)
    assert page.held is None and changed
    clock.advance(minutes=121)  # offered again after the retry interval
    row = next(r for r in queue.list_queue(ui_ctx, 0, 1000) if r.case_id == held.case_id)
    assert row.failed_attempts == 1 and row.holder_id is None


def test_call_back_needs_a_time_and_leaves_the_queue_until_then(ui_app, qtbot, ui_ctx):
    page = open_page(qtbot, ui_ctx)
    page.take_next()
    settle(qtbot, page.desk)
    held = page.held
    page.outcome.setCurrentIndex(page.outcome.findData(Outcome.CALL_BACK.value))
    assert page.call_back.isEnabled()
    page.record()
    settle(qtbot, page.desk)
    settle(qtbot, page.desk)
    assert held.case_number not in shown_numbers(page.queue_table)


def test_two_desks_pressing_next_get_different_cases(ui_app, qtbot, ui_ctx):
    first, second = open_page(qtbot, ui_ctx, "op1"), open_page(qtbot, ui_ctx, "op2")
    first.take_next()
    second.take_next()
    settle(qtbot, first.desk)
    settle(qtbot, second.desk)
    assert first.held and second.held and first.held.case_id != second.held.case_id


def test_put_back_and_sweep(ui_app, qtbot, ui_ctx):
    page = open_page(qtbot, ui_ctx, answers=[True])
    page.take_next()
    settle(qtbot, page.desk)
    held = page.held
    page.release()
    settle(qtbot, page.desk)
    assert page.held is None
    assert queue.next_case(ui_ctx, make_desk(ui_ctx, "op2").actor).case_id == held.case_id
    page.sweep()
    settle(qtbot, page.desk)
    assert page.desk.prompter.infos and "unreachable" not in page.desk.prompter.errors
