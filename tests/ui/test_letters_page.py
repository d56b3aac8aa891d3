"""The letters page driven as an operator would: build a batch, preview, print, mail."""

from __future__ import annotations

from pypdf import PdfReader
from PySide6.QtPrintSupport import QPrinter
from sqlmodel import select

from app.domain.states import Status
from app.letters import LetterKind
from app.services import cases
from app.storage.models import Letter, LetterBatch
from app.ui.letters_page import LettersPage
from tests.ui.conftest import make_desk, settle


def open_page(qtbot, ctx, tmp_path, answers=None, files=None):
    desk = make_desk(ctx, "op1", answers)
    desk.prompter.files = list(files or [])
    page = LettersPage(desk)
    qtbot.addWidget(page)
    page.resize(1200, 800)
    page.show()
    settle(qtbot, desk)
    page.folder.setText(str(tmp_path / "letters"))
    return page


def produce(qtbot, page, limit: int) -> None:
    page.kind.setCurrentIndex(page.kind.findData(LetterKind.GUIDANCE.value))
    page.by_rule.setChecked(True)
    page.limit.setValue(limit)
    page.produce_button.click()
    assert page.running
    qtbot.waitUntil(lambda: not page.running, timeout=20000)
    settle(qtbot, page.desk)


def test_batch_preview_print_save_and_mark_mailed(ui_app, qtbot, ui_ctx, tmp_path):
    page = open_page(qtbot, ui_ctx, tmp_path, answers=[True], files=[tmp_path / "copy.pdf"])
    produce(qtbot, page, 3)
    assert page.produced.rowCount() == 3 and page.refused.rowCount() == 0
    assert page.preview.document.pageCount() > 0  # the preview shows the batch
    assert page.batch_table.rowCount() == 1 and page.mail_button.isEnabled()
    qtbot.wait(300)  # QPdfView renders its pages asynchronously
    page.grab().save(str(tmp_path / "letters_page.png"))

    printer = QPrinter(QPrinter.PrinterMode.ScreenResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(tmp_path / "printed.pdf"))
    assert page.preview.print_to(printer) == page.preview.page_count
    assert len(PdfReader(str(tmp_path / "printed.pdf")).pages) == page.preview.page_count
    page.print_button.click()
    # the system print dialog was asked for (and closed: nothing printed)
    assert len(page.desk.prompter.printers) == 1

    page.save_button.click()
    assert (tmp_path / "copy.pdf").read_bytes() == page.preview.path.read_bytes()

    numbers = [page.produced.item(r, 0).text() for r in range(3)]
    with qtbot.waitSignal(page.desk.changed, timeout=5000):
        page.mail_button.click()
    settle(qtbot, page.desk)
    assert page.desk.prompter.asked[0][0] == "confirm"
    assert "3" in page.desk.prompter.infos[0]
    for number in numbers:
        case_id = cases.find_case_id(ui_ctx, number)
        assert cases.get_case(ui_ctx, page.desk.actor, case_id).status is Status.CONTACTED
    assert not page.mail_button.isEnabled()  # the batch is mailed


def test_cancelled_batch_leaves_nothing(ui_app, qtbot, ui_ctx, tmp_path):
    page = open_page(qtbot, ui_ctx, tmp_path)
    page.limit.setValue(40)
    page.produce_button.click()
    page.cancel_button.click()
    qtbot.waitUntil(lambda: not page.running, timeout=20000)
    assert page.summary is not None and page.summary.cancelled
    assert "中止しました" in page.status.text()  # said in Japanese, the default locale
    folder = tmp_path / "letters"
    assert not folder.exists() or list(folder.iterdir()) == []
    with ui_ctx.db.read() as session:
        assert session.exec(select(Letter)).all() == []
        assert session.exec(select(LetterBatch)).all() == []


def test_case_numbers_and_deficiency_items_are_required(ui_app, qtbot, ui_ctx, tmp_path):
    page = open_page(qtbot, ui_ctx, tmp_path)
    page.by_number.setChecked(True)
    page.produce_button.click()
    assert not page.running and page.status.text()
    page.kind.setCurrentIndex(page.kind.findData(LetterKind.DEFICIENCY.value))
    assert page.items.isVisibleTo(page)
    page.numbers.setPlainText("H-0000001-8")
    page.produce_button.click()
    assert not page.running and page.status.text()
