"""The letters page for the balance-refund programme: the refund kinds in the same
list, the applications due shown, a batch produced and mailed, its programme beside it.

Set HOSHO_SCREENSHOTS=1 to refresh docs/screenshots/letters_refund.png."""

from __future__ import annotations

import os
from pathlib import Path

from sqlmodel import select

from app.domain.roles import SYSTEM_ACTOR
from app.letters import LetterKind
from app.services.refunds_import import import_applications, import_balances
from app.storage.models import Letter
from tests.services.refund_helpers import (
    APPLICATION_HEADER,
    BALANCE_HEADER,
    application,
    member,
    write_csv,
)
from tests.ui.conftest import settle
from tests.ui.test_letters_page import open_page

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def test_refund_confirmation_batch_from_the_letters_page(ui_app, qtbot, ui_ctx, clock,
                                                          tmp_path):
    from sqlalchemy import text

    with ui_ctx.db.write() as session:  # the demo's own refund programme left out
        session.execute(text("DELETE FROM refund_application"))
        session.execute(text("DELETE FROM refund_member"))
    clock.advance(days=200)
    import_balances(ui_ctx, SYSTEM_ACTOR, write_csv(tmp_path / "b.csv", BALANCE_HEADER, [
        member("LT1", 5000), member("LT2", 7200), member("LT3", 0)]))
    import_applications(ui_ctx, SYSTEM_ACTOR, write_csv(
        tmp_path / "a.csv", APPLICATION_HEADER,
        [application("UI-1", "LT1"), application("UI-2", "LT2"), application("UI-3", "LT3")]))
    page = open_page(qtbot, ui_ctx, tmp_path, answers=[True])
    page.kind.setCurrentIndex(page.kind.findData(LetterKind.REFUND_CONFIRMATION.value))
    settle(qtbot, page.desk)
    assert not page.channel.isVisibleTo(page) and page.due_label.isVisibleTo(page)
    assert "2 件" in page.due_label.text()
    page.by_number.setChecked(True)
    page.produce_button.click()  # no number typed: said, nothing run
    assert not page.running and "申出番号" in page.status.text()
    page.by_rule.setChecked(True)
    page.produce_button.click()
    qtbot.waitUntil(lambda: not page.running, timeout=30000)
    settle(qtbot, page.desk)
    assert page.produced.rowCount() == 2
    assert page.produced.horizontalHeaderItem(0).text() == "申出番号"
    assert {page.produced.item(r, 0).text() for r in range(2)} == {"UI-1", "UI-2"}
    assert page.batch_table.item(0, 1).text() == "残高払戻し"
    assert "0 件" in page.due_label.text()
    if os.environ.get("HOSHO_SCREENSHOTS"):
        qtbot.wait(300)  # QPdfView renders its pages asynchronously
        assert page.grab().save(str(SCREENSHOTS / "letters_refund.png"))
    with qtbot.waitSignal(page.desk.changed, timeout=5000):
        page.mail_button.click()
    settle(qtbot, page.desk)
    assert "2 通" in page.desk.prompter.infos[0]
    with ui_ctx.db.read() as session:
        assert all(x.mailed_at for x in session.exec(
            select(Letter).where(Letter.application_ref.is_not(None))))
    # a compensation kind brings back the case rules
    page.kind.setCurrentIndex(page.kind.findData(LetterKind.GUIDANCE.value))
    assert page.channel.isVisibleTo(page) and not page.due_label.isVisibleTo(page)
    assert page.produced.horizontalHeaderItem(0).text() == "申出番号"  # until a case batch


def test_a_refund_decision_changes_the_letters_due_without_a_restart(ui_app, qtbot, ui_ctx,
                                                                     clock, tmp_path):
    """The window's pages share one desk: a refusal on the refund page makes the
    application due a refusal letter, and the letters page (hidden meanwhile, as behind
    another page of the window) says so when it is shown again."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QTabWidget
    from sqlalchemy import text

    from app.ui.letters_page import LettersPage
    from app.ui.refunds_page import RefundsPage
    from tests.ui.conftest import make_desk

    with ui_ctx.db.write() as session:  # the demo's own refund programme left out
        session.execute(text("DELETE FROM refund_application"))
        session.execute(text("DELETE FROM refund_member"))
    clock.advance(days=200)
    import_balances(ui_ctx, SYSTEM_ACTOR, write_csv(tmp_path / "b.csv", BALANCE_HEADER, [
        member("R1", 5000), member("R2", 3000), member("R3", 0)]))
    import_applications(ui_ctx, SYSTEM_ACTOR, write_csv(tmp_path / "a.csv", APPLICATION_HEADER, [
        application("A1", "R1"), application("A2", "R2", route="Web"),
        application("A4", "R3")]))
    desk = make_desk(ui_ctx, "op1", answers=["登録電話番号に架電したが本人と確認できず"])
    window = QTabWidget()
    qtbot.addWidget(window)
    refunds_page, letters = RefundsPage(desk), LettersPage(desk)
    window.addTab(refunds_page, "refunds")
    window.addTab(letters, "letters")
    window.resize(1300, 800)
    window.show()
    window.setCurrentWidget(letters)
    settle(qtbot, desk)
    letters.kind.setCurrentIndex(letters.kind.findData(LetterKind.REFUND_REFUSAL.value))
    settle(qtbot, desk)
    assert "1 件" in letters.due_label.text()  # A4: no balance
    window.setCurrentWidget(refunds_page)
    settle(qtbot, desk)
    refunds_page.tabs.setCurrentIndex(1)
    table = refunds_page.lists["awaiting_identity"]
    assert [table.item(r, 0).text() for r in range(table.rowCount())] == ["A2"]
    table.selectRow(0)
    with qtbot.waitSignal(desk.changed, timeout=5000):
        qtbot.mouseClick(refunds_page.refuse_button, Qt.MouseButton.LeftButton)
    settle(qtbot, desk)
    assert "A2" in refunds_page.message.text()
    window.setCurrentWidget(letters)
    settle(qtbot, desk)
    assert "2 件" in letters.due_label.text()


def test_the_demo_has_refund_letters_due_to_members_with_an_address(ui_app, qtbot, ui_ctx,
                                                                    tmp_path):
    """The demo's members carry a contact on record like a real closing-balance file (a
    victim's own, or a synthetic person's, most with a postal address): its confirmed and
    refused applications are due their letters, and its applicants have varied names."""
    from dataclasses import replace

    from sqlalchemy import func

    from app.core.clock import FixedClock
    from app.services import letters as service
    from app.services.demo_refunds import stands
    from app.storage.models import RefundApplication, RefundMember

    # As the demo window runs it: the refund programme on its own day (20 Dec 2019).
    with ui_ctx.db.read() as session:
        ui_ctx = replace(ui_ctx, refund_clock=FixedClock(stands(session).moment))
    due = service.refund_letters_due(ui_ctx)
    assert due["refund_confirmation"] > 0 and due["refund_refusal"] > 0
    with ui_ctx.db.read() as session:
        names = session.execute(select(RefundApplication.name, func.count())
                                .group_by(RefundApplication.name)).all()
        members, addressed = session.execute(select(
            func.count(), func.count(RefundMember.address))).one()
    assert len(names) > 20 and "デモ 会員" not in dict(names)
    assert 0 < addressed < members  # most, not all: some get no letter
    page = open_page(qtbot, ui_ctx, tmp_path)
    page.kind.setCurrentIndex(page.kind.findData(LetterKind.REFUND_REFUSAL.value))
    settle(qtbot, page.desk)
    assert f"{due['refund_refusal']} 件" in page.due_label.text()
    page.kind.setCurrentIndex(page.kind.findData(LetterKind.REFUND_CONFIRMATION.value))
    settle(qtbot, page.desk)
    assert f"{due['refund_confirmation']} 件" in page.due_label.text()
    # Three of them produced: each to the member's address on record, none refused.
    page.by_rule.setChecked(True)
    page.limit.setValue(3)
    page.produce_button.click()
    qtbot.waitUntil(lambda: not page.running, timeout=30000)
    settle(qtbot, page.desk)
    assert page.produced.rowCount() == 3 and page.refused.rowCount() == 0
    assert f"{due['refund_confirmation'] - 3} 件" in page.due_label.text()
    if os.environ.get("HOSHO_SCREENSHOTS"):
        qtbot.wait(300)  # QPdfView renders its pages asynchronously
        assert page.grab().save(str(SCREENSHOTS / "letters_refund_demo.png"))
