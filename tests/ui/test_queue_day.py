"""The queue as a hotline operator works it: a victim who did not answer is not rung
again at once, the form starts clean for the next call, a saved attempt says so, and
the case in hand opens in the case detail."""

from __future__ import annotations

from PySide6.QtCore import Qt

from app.services import queue, settings
from app.services.outreach import Outcome
from tests.ui.conftest import settle
from tests.ui.test_queue_page import open_page, shown_numbers


def _no_answer(qtbot, page, note="voicemail"):
    page.outcome.setCurrentIndex(page.outcome.findData(Outcome.NO_ANSWER.value))
    qtbot.keyClicks(page.note, note)
    qtbot.mouseClick(page.record_button, Qt.MouseButton.LeftButton)
    settle(qtbot, page.desk)
    settle(qtbot, page.desk)


def test_a_case_just_attempted_is_not_offered_again_before_the_interval(
        ui_app, qtbot, ui_ctx, clock):
    page = open_page(qtbot, ui_ctx)
    qtbot.mouseClick(page.next_button, Qt.MouseButton.LeftButton)
    settle(qtbot, page.desk)
    first = page.held
    _no_answer(qtbot, page)
    assert first.case_number not in shown_numbers(page.queue_table)
    qtbot.mouseClick(page.next_button, Qt.MouseButton.LeftButton)
    settle(qtbot, page.desk)
    assert page.held is not None and page.held.case_id != first.case_id
    page.release()
    settle(qtbot, page.desk)
    assert settings.get(ui_ctx).queue_retry_minutes == 120
    clock.advance(minutes=119)
    assert first.case_id not in [r.case_id for r in queue.list_queue(ui_ctx, 0, 1000)]
    clock.advance(minutes=2)
    back = [r for r in queue.list_queue(ui_ctx, 0, 1000) if r.case_id == first.case_id]
    assert back and back[0].failed_attempts == 1


def test_an_agreed_call_back_time_governs_even_inside_the_interval(ui_app, qtbot, ui_ctx,
                                                                  clock):
    page = open_page(qtbot, ui_ctx)
    page.take_next()
    settle(qtbot, page.desk)
    held = page.held
    page.outcome.setCurrentIndex(page.outcome.findData(Outcome.CALL_BACK.value))
    page.call_back.setDateTime(page.call_back.dateTime().addSecs(-3600))  # in one hour
    page.record()
    settle(qtbot, page.desk)
    clock.advance(minutes=61)
    ids = [r.case_id for r in queue.list_queue(ui_ctx, 0, 1000)]
    assert ids[0] == held.case_id  # a call-back whose time came goes first


def test_the_form_resets_and_the_save_is_confirmed(ui_app, qtbot, ui_ctx):
    page = open_page(qtbot, ui_ctx)
    page.take_next()
    settle(qtbot, page.desk)
    held = page.held
    _no_answer(qtbot, page)
    assert page.outcome.currentData() == Outcome.REACHED.value
    assert page.method.currentIndex() == 0 and page.note.text() == ""
    assert held.case_number in page.feedback.text() and "記録しました" in page.feedback.text()
    page.take_next()
    settle(qtbot, page.desk)
    assert page.outcome.currentData() == Outcome.REACHED.value


def test_open_case_from_the_queue(ui_app, qtbot, ui_ctx):
    page = open_page(qtbot, ui_ctx)
    assert not page.open_button.isEnabled()
    opened = []
    page.case_opened.connect(opened.append)
    page.take_next()
    settle(qtbot, page.desk)
    qtbot.mouseClick(page.open_button, Qt.MouseButton.LeftButton)
    assert opened == [page.held.case_id]
    page.queue_table.selectRow(1)
    row_case = page.queue_table.item(1, 0).data(Qt.ItemDataRole.UserRole)
    page.queue_table.doubleClicked.emit(page.queue_table.model().index(1, 0))
    assert opened[-1] == row_case
