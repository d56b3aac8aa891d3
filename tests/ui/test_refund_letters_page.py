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
