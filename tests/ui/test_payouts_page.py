"""The payouts page driven as two supervisors would: build, release (four eyes,
with confirmation), export through the save hook, mark sent, enter results, and
the reconciliation view."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from app.core.i18n import format_yen
from app.domain.roles import SYSTEM_ACTOR
from app.exports.zengin import split_records
from app.services import settings
from app.ui.payouts_page import PayoutsPage
from tests.conftest import step_up_code
from tests.services.test_payouts import SENDER
from tests.ui.conftest import make_desk, settle

pytestmark = pytest.mark.gui


def page_for(qtbot, ctx, login: str, answers=None) -> PayoutsPage:
    desk = make_desk(ctx, login, answers)
    page = PayoutsPage(desk)
    qtbot.addWidget(page)
    page.resize(1280, 760)
    page.show()
    settle(qtbot, desk)
    return page


def click(qtbot, page: PayoutsPage, name: str) -> None:
    from PySide6.QtWidgets import QPushButton

    button = page.findChild(QPushButton, name)
    assert button.isEnabled(), name
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    settle(qtbot, page.desk)


def test_batches_from_build_to_results(ui_app, qtbot, ui_ctx, tmp_path):
    settings.change_many(ui_ctx, SYSTEM_ACTOR, SENDER)
    first = page_for(qtbot, ui_ctx, "sv1", answers=[True])
    assert "振込待ち" in first.waiting.text() or first.waiting.text()
    before = first.batch_table.rowCount()
    with qtbot.waitSignal(first.desk.changed, timeout=5000):
        click(qtbot, first, "buildBatch")
    settle(qtbot, first.desk)
    assert first.desk.prompter.asked[0][0] == "batch"  # the preview came first
    assert first.batch_table.rowCount() == before + 1
    batch = first.batches[0]
    assert batch.status == "built" and batch.item_count > 1
    first.select_batch(batch.id)
    settle(qtbot, first.desk)
    assert first.item_table.rowCount() == batch.item_count

    # The same supervisor is refused, with the reason shown, before any code is asked.
    click(qtbot, first, "releaseBatch")
    qtbot.waitUntil(lambda: bool(first.desk.prompter.errors), timeout=5000)
    assert "二者確認" in first.desk.prompter.errors[0]
    assert [kind for kind, _text in first.desk.prompter.asked] == ["batch"]

    second = page_for(qtbot, ui_ctx, "sv2")
    second.desk.prompter.answers = [True, step_up_code(ui_ctx, second.desk.actor), True,
                                    "口座解約済"]
    second.select_batch(batch.id)
    settle(qtbot, second.desk)
    click(qtbot, second, "releaseBatch")
    settle(qtbot, second.desk)
    asked = [kind for kind, _text in second.desk.prompter.asked]
    assert asked == ["confirm", "code"]  # the moment money leaves asks for a code
    assert format_yen(batch.total_amount) in second.desk.prompter.asked[0][1]
    assert second.batches[0].status == "released" and second.batches[0].released_by == "sv2"

    target = tmp_path / "furikomi.txt"
    second.desk.prompter.files.append(target)
    second.select_batch(batch.id)
    settle(qtbot, second.desk)
    # A payment file: the page asks for a fresh authenticator code first.
    second.desk.prompter.answers.insert(0, step_up_code(ui_ctx, second.desk.actor))
    click(qtbot, second, "exportBatch")
    qtbot.waitUntil(target.exists, timeout=5000)
    assert second.desk.prompter.asked[2][0] == "code"
    records = split_records(target.read_bytes())
    assert all(len(r) == 120 for r in records) and len(records) == batch.item_count + 3

    second.select_batch(batch.id)
    settle(qtbot, second.desk)
    click(qtbot, second, "markSent")
    second.select_batch(batch.id)
    settle(qtbot, second.desk)
    assert second.batches[0].status == "sent"

    second.item_table.selectRow(0)
    click(qtbot, second, "resultReturned")
    second.select_batch(batch.id)
    settle(qtbot, second.desk)
    second.item_table.selectRow(1)
    click(qtbot, second, "resultDone")
    second.select_batch(batch.id)
    settle(qtbot, second.desk)
    results = [second.item_table.item(r, 8).text() for r in range(2)]
    assert results == ["返却", "入金済"]
    assert second.batches[0].returned == 1 and second.batches[0].done == 1

    second.tabs.setCurrentIndex(2)
    assert "一致" in second.verdict.text()
    assert second.recon_batches.rowCount() == len(second.batches)
    second.tabs.setCurrentIndex(0)
    second.item_table.selectRow(0)
    Path("docs/screenshots").mkdir(parents=True, exist_ok=True)
    second.grab().save("docs/screenshots/payouts.png")


def test_card_list_written_through_the_save_hook(ui_app, qtbot, ui_ctx, tmp_path):
    page = page_for(qtbot, ui_ctx, "sv1")
    page.tabs.setCurrentIndex(1)
    assert page.issuer.count() > 0
    target = tmp_path / "card.csv"
    page.desk.prompter.files.append(target)
    page.desk.prompter.answers = [step_up_code(ui_ctx, page.desk.actor)]
    waiting = page.request_table.rowCount()  # the demo's own lists, still unconfirmed
    click(qtbot, page, "cardList")
    qtbot.waitUntil(target.exists, timeout=5000)
    assert page.desk.prompter.asked == [("code", page.desk.prompter.asked[0][1])]
    settle(qtbot, page.desk)
    assert page.request_table.rowCount() == waiting + len(target.read_text(
        encoding="utf-8-sig").splitlines()) - 1
    page.request_table.selectRow(0)
    before = page.request_table.rowCount()
    click(qtbot, page, "confirmRequest")
    settle(qtbot, page.desk)
    qtbot.waitUntil(lambda: page.request_table.rowCount() == before - 1, timeout=5000)


def test_lists_and_transfer_file_are_not_for_operators(ui_app, qtbot, ui_ctx):
    page = page_for(qtbot, ui_ctx, "op1")
    page.tabs.setCurrentIndex(1)
    assert page.issuer.count() > 0
    assert not page.card_button.isEnabled() and not page.nanaco_button.isEnabled()
    assert not page.export_button.isEnabled()


def test_a_cancelled_code_writes_no_list(ui_app, qtbot, ui_ctx, tmp_path):
    page = page_for(qtbot, ui_ctx, "sv1", answers=[None, None])
    page.tabs.setCurrentIndex(1)
    waiting, requests = page.nanaco_label.text(), page.request_table.rowCount()
    for name in ("cardList", "nanacoList"):
        target = tmp_path / f"{name}.csv"
        page.desk.prompter.files.append(target)
        click(qtbot, page, name)
        assert not target.exists()
    assert [kind for kind, _text in page.desk.prompter.asked] == ["code", "code"]
    assert page.request_table.rowCount() == requests and page.nanaco_label.text() == waiting
    assert not page.desk.prompter.errors


def test_reconciliation_view_and_exports(ui_app, qtbot, ui_ctx, tmp_path):
    page = page_for(qtbot, ui_ctx, "sv1")
    page.tabs.setCurrentIndex(2)
    assert page.figure_table.rowCount() == 5  # four channels and the total
    assert page.figure_table.verticalHeaderItem(4).text() == "合計"
    assert "差異なし" in page.verdict.text()
    for name, suffix in (("reconcileCsv", "csv"), ("reconcilePdf", "pdf")):
        target = tmp_path / f"reconcile.{suffix}"
        page.desk.prompter.files.append(target)
        click(qtbot, page, name)
        qtbot.waitUntil(target.exists, timeout=10000)
    assert (tmp_path / "reconcile.pdf").read_bytes().startswith(b"%PDF")
    assert "請求額" in (tmp_path / "reconcile.csv").read_text(encoding="utf-8-sig")
