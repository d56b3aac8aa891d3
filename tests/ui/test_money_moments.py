"""The money moments in the window (issue #12): a batch is built from a preview whose
calendar offers only bank business days, its release asks for a fresh code, and the
transfer-file export checks the sender settings before it asks for anything."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import QPushButton

from app.domain.roles import SYSTEM_ACTOR
from app.services import payouts, settings
from app.services.payouts import BatchPreview
from app.ui.batch_preview import BatchPreviewDialog
from tests.conftest import step_up_code
from tests.services.helpers import SENDER
from tests.ui.test_payouts_page import click, page_for

pytestmark = pytest.mark.gui
SHOTS = Path("docs/screenshots")

PREVIEW = BatchPreview(transfer_date=date(2019, 9, 13),
                       case_numbers=("H-0000012-1", "H-0000034-5", "H-0000056-9"),
                       total_amount=172_084,
                       refused=("H-0000078-2: 口座名義に振込データに使えない文字"
                                "（漢字）があります",))


def test_preview_lists_the_batch_and_offers_only_business_days(ui_app, qtbot):
    dialog = BatchPreviewDialog(PREVIEW, earliest=date(2019, 9, 11))
    qtbot.addWidget(dialog)
    dialog.resize(760, 420)
    dialog.show()
    assert "3件" in dialog.findChild(type(dialog.date_label), "previewSummary").text()
    assert "172,084円" in dialog.findChild(type(dialog.date_label), "previewSummary").text()
    assert [dialog.cases.item(i).text() for i in range(dialog.cases.count())] == list(
        PREVIEW.case_numbers)
    assert "H-0000078-2" in dialog.findChild(type(dialog.date_label), "previewRefused").text()
    # 2019-09-16 is 敬老の日 (a Monday): clicking it leaves the chosen day as it was.
    dialog.calendar.setSelectedDate(QDate(2019, 9, 16))
    assert dialog.chosen == date(2019, 9, 13)
    assert dialog.calendar.selectedDate() == QDate(2019, 9, 13)
    assert "敬老の日" in dialog.date_label.text()
    dialog.calendar.setSelectedDate(QDate(2019, 9, 15))  # a Sunday
    assert dialog.chosen == date(2019, 9, 13)
    dialog.calendar.setSelectedDate(QDate(2019, 9, 17))
    assert dialog.chosen == date(2019, 9, 17) and "2019" in dialog.date_label.text()
    assert dialog.calendar.minimumDate() == QDate(2019, 9, 11)  # no day before the earliest
    SHOTS.mkdir(parents=True, exist_ok=True)
    dialog.grab().save(str(SHOTS / "batch_preview.png"))
    qtbot.mouseClick(dialog.build_button, Qt.MouseButton.LeftButton)
    assert dialog.result() == dialog.DialogCode.Accepted


def test_the_batch_built_is_the_batch_previewed_on_the_day_chosen(ui_app, qtbot, ui_ctx):
    page = page_for(qtbot, ui_ctx, "sv1", answers=[date(2019, 9, 17)])
    click(qtbot, page, "buildBatch")
    qtbot.waitUntil(lambda: page.batches and page.batches[0].status == "built",
                    timeout=5000)
    kind, text = page.desk.prompter.asked[0]
    built = page.batches[0]
    assert kind == "batch" and text == f"{built.item_count} {built.total_amount}"
    assert built.transfer_date == date(2019, 9, 17)


def test_a_cancelled_preview_builds_nothing(ui_app, qtbot, ui_ctx):
    page = page_for(qtbot, ui_ctx, "sv1", answers=[None])
    before = len(page.batches)
    click(qtbot, page, "buildBatch")
    assert len(payouts.list_batches(ui_ctx)) == before
    assert not page.desk.prompter.errors


def test_release_asks_a_code_and_a_wrong_one_releases_nothing(ui_app, qtbot, ui_ctx):
    builder = page_for(qtbot, ui_ctx, "sv1", answers=[True])
    click(qtbot, builder, "buildBatch")
    batch = builder.batches[0]
    page = page_for(qtbot, ui_ctx, "sv2", answers=[True, "000000"])
    page.select_batch(batch.id)
    click(qtbot, page, "releaseBatch")
    qtbot.waitUntil(lambda: bool(page.desk.prompter.errors), timeout=5000)
    assert [kind for kind, _text in page.desk.prompter.asked] == ["confirm", "code"]
    assert "コード" in page.desk.prompter.errors[0]
    assert payouts.get_batch(ui_ctx, batch.id).status == "built"
    page.desk.prompter.answers = [True, step_up_code(ui_ctx, page.desk.actor)]
    page.select_batch(batch.id)
    click(qtbot, page, "releaseBatch")
    assert payouts.get_batch(ui_ctx, batch.id).status == "released"


def test_export_names_missing_sender_settings_before_asking_anything(ui_app, qtbot, ui_ctx,
                                                                      tmp_path):
    builder = page_for(qtbot, ui_ctx, "sv1", answers=[True])
    click(qtbot, builder, "buildBatch")
    batch = builder.batches[0]
    page = page_for(qtbot, ui_ctx, "sv2")
    page.desk.prompter.answers = [True, step_up_code(ui_ctx, page.desk.actor)]
    page.select_batch(batch.id)
    click(qtbot, page, "releaseBatch")
    page.desk.prompter.files = [tmp_path / "f.txt"]
    page.select_batch(batch.id)
    click(qtbot, page, "exportBatch")
    qtbot.waitUntil(lambda: bool(page.desk.prompter.errors), timeout=5000)
    error = page.desk.prompter.errors[0]
    assert "委託者コード" in error and "zengin_company_code" not in error
    # no file, no code asked
    assert page.desk.prompter.file_asks == [] and len(page.desk.prompter.asked) == 2
    page.resize(1280, 760)
    page.grab().save(str(SHOTS / "export_sender_check.png"))
    settings.change_many(ui_ctx, SYSTEM_ACTOR, SENDER)
    page.desk.prompter.answers = [step_up_code(ui_ctx, page.desk.actor)]
    click(qtbot, page, "exportBatch")
    qtbot.waitUntil((tmp_path / "f.txt").exists, timeout=5000)
    assert [kind for kind, *_rest in page.desk.prompter.file_asks] == ["save"]


def test_operators_see_no_supervisor_buttons(ui_app, qtbot, ui_ctx):
    page = page_for(qtbot, ui_ctx, "op1")
    for name in ("buildBatch", "releaseBatch", "cancelBatch", "withdrawRequest"):
        assert not page.findChild(QPushButton, name).isVisible(), name
    assert page.findChild(QPushButton, "markSent").isVisible()


def test_the_release_code_prompt_is_in_japanese(ui_app, qtbot):
    """The prompt the release (and every step-up) shows, as the operator sees it."""
    from app.core.i18n import _
    from app.ui.prompts import code_dialog

    dialog = code_dialog(None, _("Confirm with your authenticator"),
                         _("Enter the 6-digit code from your authenticator app "
                           "(or a recovery code)."))
    qtbot.addWidget(dialog)
    dialog.show()
    buttons = {b.text() for b in dialog.findChildren(QPushButton)}
    assert "中止" in buttons and "Cancel" not in buttons
    assert "認証アプリ" in dialog.labelText()
    dialog.grab().save(str(SHOTS / "release_code.png"))
