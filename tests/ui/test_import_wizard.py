"""The import wizard, driven as an operator would (pytest-qt, offscreen, real widgets).

Set HOSHO_SCREENSHOTS=1 to refresh docs/screenshots/import_preview.png and
import_summary.png from these runs.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication
from sqlalchemy import select

from app.importers.incident_csv import IGNORE
from app.services.stats import programme_stats
from app.storage.models import AuditEvent
from app.ui.import_page import STEP_CHOOSE, STEP_PREVIEW, STEP_RESULT, UNMAPPED, ImportPage
from app.ui.main_window import MainWindow
from tests.ui.conftest import make_desk, settle

HEADER = "受付番号,氏名,フリガナ,電話番号,被害区分,発生日時,被害金額,担当メモ"
ROWS = [
    'R1,髙橋 一郎,タカハシ イチロウ,090-1111-2222,nanaco,2019/07/03,"1,000円",①初回',
    "R2,髙橋　一郎,ﾀｶﾊｼ ｲﾁﾛｳ,09011112222,nanaco,2019年7月3日,￥2000,",
    "R3,佐藤 花子,サトウ ハナコ,080-9999-0000,クレジット,R1.7.2,500,",
    "R4,鈴木 次郎,,,debit,2019/07/01,100,",  # no phone nor e-mail: invalid
    "R5,田中 三郎,,070-1234-5678,nanaco,2019/02/30,100,",  # no such date: invalid
    "R1,髙橋 一郎,タカハシ イチロウ,090-1111-2222,nanaco,2019/07/03,1500,①初回",  # conflict
    "R3,佐藤 花子,サトウ ハナコ,080-9999-0000,クレジット,R1.7.2,500,",  # duplicate
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
LONG = 60_000  # ms, for runs over a large file


def write_csv(tmp_path, rows=ROWS, header=HEADER, name="カード会社_20190820.csv",
              encoding="cp932") -> Path:
    path = tmp_path / name
    path.write_bytes((header + "\r\n" + "".join(r + "\r\n" for r in rows)).encode(encoding))
    return path


def window_for(qtbot, ctx, login="op1") -> MainWindow:
    desk = make_desk(ctx, login)
    window = MainWindow(desk, login)
    window.resize(1280, 800)
    qtbot.addWidget(window)
    window.show()
    settle(qtbot, desk)
    return window


def open_file(qtbot, window, path) -> ImportPage:
    page = window.imports
    window.show_page("import")
    page.load_file(path)
    qtbot.waitUntil(lambda: page.stack.currentIndex() == STEP_PREVIEW, timeout=5000)
    qtbot.waitUntil(lambda: not page.reader.busy, timeout=5000)
    return page


def combo_for(page, header):
    return page.combos[page.preview.header.index(header)]


def validate(qtbot, page, timeout=10_000) -> None:
    assert page.validate_button.isEnabled()
    with qtbot.waitSignal(page.finished, timeout=timeout):
        qtbot.mouseClick(page.validate_button, Qt.MouseButton.LeftButton)


def shoot(window, name: str) -> None:
    if os.environ.get("HOSHO_SCREENSHOTS"):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        QApplication.processEvents()
        assert window.grab().save(str(SCREENSHOTS / name))


def counts(page) -> dict[str, str]:
    return {key: label.text() for key, label in page.counts.items()}


def refused_lines(page) -> list[str]:
    return [page.refused.item(r, 0).text() for r in range(page.refused.rowCount())]


def test_preview_shows_encoding_rows_and_detected_columns(ui_app, qtbot, ui_ctx, tmp_path):
    window = window_for(qtbot, ui_ctx)
    page = open_file(qtbot, window, write_csv(tmp_path))
    assert "CP932" in page.format_label.text() and "カンマ" in page.format_label.text()
    assert "カード会社_20190820.csv" in page.file_label.text()
    assert combo_for(page, "受付番号").currentData() == "report_id"
    assert combo_for(page, "被害金額").currentText() == "被害金額（必須）"
    assert combo_for(page, "担当メモ").currentData() == UNMAPPED
    assert "担当メモ" in page.unknown_label.text()
    # The rows as written, decoded from CP932 (髙 and ① are not in plain Shift_JIS).
    assert page.table.rowCount() == 1 + len(ROWS)
    assert page.table.item(1, 1).text() == "髙橋 一郎"
    assert page.table.item(1, 7).text() == "①初回"
    assert page.table.verticalHeaderItem(1).text() == "2"  # the file's line number
    assert page.validate_button.isEnabled() and page.problems.text() == ""
    shoot(window, "import_preview.png")

    combo_for(page, "担当メモ").setCurrentIndex(combo_for(page, "担当メモ").findData("note"))
    qtbot.waitUntil(lambda: page.preview.columns.get("担当メモ") == "note", timeout=5000)
    assert page.overrides == {"担当メモ": "note"}  # only what the operator changed
    assert combo_for(page, "担当メモ").currentText() == "備考"
    assert "担当メモ" not in page.unknown_label.text()

    combo_for(page, "フリガナ").setCurrentIndex(combo_for(page, "フリガナ").findData(IGNORE))
    qtbot.waitUntil(lambda: "フリガナ" not in page.preview.columns, timeout=5000)
    assert page.overrides == {"担当メモ": "note", "フリガナ": IGNORE}
    assert "フリガナ" in page.unknown_label.text()  # listed among the ignored columns
    # Back to what was detected: the override goes away.
    combo_for(page, "フリガナ").setCurrentIndex(combo_for(page, "フリガナ").findData("name_kana"))
    qtbot.waitUntil(lambda: page.preview.columns.get("フリガナ") == "name_kana", timeout=5000)
    assert page.overrides == {"担当メモ": "note"}


def test_missing_required_column_disables_validate_and_names_it(ui_app, qtbot, ui_ctx,
                                                                tmp_path):
    header = "受付番号,氏名,電話番号,被害区分,発生日時,請求額"
    rows = ["R1,山田 太郎,090-1111-2222,nanaco,2019/07/03,1000"]
    window = window_for(qtbot, ui_ctx)
    page = open_file(qtbot, window, write_csv(tmp_path, rows, header, name="list.csv",
                                              encoding="utf-8-sig"))
    assert "UTF-8" in page.format_label.text()
    assert not page.validate_button.isEnabled()
    assert "被害金額" in page.problems.text() and page.problems.isVisible()
    page.set_mapping("請求額", "amount")
    qtbot.waitUntil(page.validate_button.isEnabled, timeout=5000)
    assert page.problems.text() == ""
    assert page.overrides == {"請求額": "amount"}


def test_two_columns_for_one_field_must_be_settled(ui_app, qtbot, ui_ctx, tmp_path):
    header = "受付番号,氏名,お名前,電話番号,被害区分,発生日時,被害金額"
    rows = ["R1,山田 太郎,山田 太郎,090-1111-2222,nanaco,2019/07/03,1000"]
    window = window_for(qtbot, ui_ctx)
    page = open_file(qtbot, window, write_csv(tmp_path, rows, header, name="list.csv"))
    assert not page.validate_button.isEnabled()
    assert "氏名、お名前" in page.problems.text()
    page.set_mapping("お名前", IGNORE)
    qtbot.waitUntil(page.validate_button.isEnabled, timeout=5000)


def test_a_file_that_is_not_csv_is_refused_with_the_reason(ui_app, qtbot, ui_ctx, tmp_path):
    window = window_for(qtbot, ui_ctx)
    book = tmp_path / "book.csv"
    book.write_bytes(b"PK\x03\x04" + bytes(200))
    page = window.imports
    page.load_file(book)
    qtbot.waitUntil(lambda: "Excel" in page.message.text(), timeout=5000)
    assert "book.csv" in page.message.text()
    assert page.stack.currentIndex() == STEP_CHOOSE


def test_choose_file_goes_through_the_seam(ui_app, qtbot, ui_ctx, tmp_path):
    window = window_for(qtbot, ui_ctx)
    page = window.imports
    window.desk.prompter.files = [write_csv(tmp_path)]  # the operator picks the file
    window.show_page("import")
    qtbot.mouseClick(page.choose_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.stack.currentIndex() == STEP_PREVIEW, timeout=5000)
    assert page.table.item(3, 1).text() == "佐藤 花子"


def test_validate_import_and_save_refused_rows(ui_app, qtbot, ui_ctx, tmp_path):
    window = window_for(qtbot, ui_ctx)
    page = open_file(qtbot, window, write_csv(tmp_path))
    page.set_mapping("担当メモ", "note")
    qtbot.waitUntil(lambda: page.preview.columns.get("担当メモ") == "note", timeout=5000)
    before = programme_stats(ui_ctx)

    validate(qtbot, page)
    assert page.stack.currentIndex() == STEP_RESULT
    assert "書き込まれていません" in page.result_heading.text()
    assert counts(page) == {"read": "7", "accepted": "3", "duplicate": "1", "conflict": "1",
                            "rejected": "2", "victims_created": "2", "cases_created": "2"}
    assert page.amounts["nanaco_charge"].text() == "3,000円"
    assert page.amounts["credit_charge"].text() == "500円"
    assert "3,500円" in page.amounts["total"].text()
    assert refused_lines(page) == ["5", "6", "7"]
    assert page.refused.item(2, 1).text() == "内容不一致"
    assert "（被害金額）" in page.refused.item(2, 2).text()  # the field named in Japanese
    assert " / " not in page.refused.item(2, 2).text()  # one language on screen
    assert "電話番号" in page.refused.item(0, 2).text()
    assert page.import_button.text() == "3件を取り込む"
    assert programme_stats(ui_ctx) == before  # validation writes nothing

    with qtbot.waitSignal(window.desk.changed, timeout=10_000):
        qtbot.mouseClick(page.import_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not page.running, timeout=5000)
    after = programme_stats(ui_ctx)
    assert after["cases"] == before["cases"] + 2
    assert after["victims"] == before["victims"] + 2
    assert after["incidents"] == before["incidents"] + 3
    assert after["claimed_total"] == before["claimed_total"] + 3500
    assert "取込完了" in page.result_heading.text()
    assert counts(page)["accepted"] == "3" and counts(page)["cases_created"] == "2"
    assert "3件" in page.message.text()
    assert not page.import_button.isVisible() and page.again_button.isVisible()
    shoot(window, "import_summary.png")

    target = tmp_path / "refused.csv"
    window.desk.prompter.files = [target]
    qtbot.mouseClick(page.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: target.exists() and not window.desk.lane.busy, timeout=5000)
    kind, _caption, suggested = window.desk.prompter.file_asks[-1]
    assert kind == "save" and suggested.endswith("カード会社_20190820_取込不可.csv")
    data = target.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM, for Excel
    rows = list(csv.reader(data.decode("utf-8-sig").splitlines()))
    assert rows[0][:3] == ["行番号 line", "結果 outcome", "理由 reasons"]
    assert rows[0][3:] == HEADER.split(",")
    assert [r[0] for r in rows[1:]] == ["5", "6", "7"]
    assert rows[3][3] == "R1" and "1500" in rows[3]
    assert "3件" in page.message.text() and str(target) in page.message.text()
    # The rows hold names and phones: the operator who imported saves them (no
    # authenticator code), and the trail records who took them out, and where.
    with ui_ctx.db.read() as session:
        saved = session.execute(select(AuditEvent.actor_login, AuditEvent.entity_id,
                                       AuditEvent.after).where(
            AuditEvent.action == "import.refused_rows_saved")).all()
    details = [(login, json.loads(after)) for login, _batch, after in saved]
    assert [(login, d["rows"], d["file"]) for login, d in details] == [("op1", 3, "refused.csv")]
    assert saved[0][1] == page.summary.batch_id is not None

    # Re-importing the same file adds nothing: everything accepted is now a duplicate.
    qtbot.mouseClick(page.again_button, Qt.MouseButton.LeftButton)
    assert page.stack.currentIndex() == STEP_CHOOSE
    page = open_file(qtbot, window, write_csv(tmp_path))
    validate(qtbot, page)
    assert counts(page)["accepted"] == "0" and not page.import_button.isEnabled()


def big_file(tmp_path, rows: int) -> Path:
    lines = [f"B{i:06d},被害者 {i},090-{i // 10000:04d}-{i % 10000:04d},nanaco,"
             f"2019/07/03,1000" for i in range(rows)]
    return write_csv(tmp_path, lines, "受付番号,氏名,電話番号,被害区分,発生日時,被害金額",
                     name="big.csv")


def cancel_on_first_progress(qtbot, page) -> int:
    """Press cancel as soon as the bar moves; returns where it stood."""
    qtbot.waitUntil(lambda: page.bar.value() > 0, timeout=LONG)
    shown = page.bar.value()
    qtbot.mouseClick(page.cancel_button, Qt.MouseButton.LeftButton)
    assert "中止しています" in page.status.text() and not page.cancel_button.isEnabled()
    return shown


def test_cancel_a_large_import_leaves_the_database_unchanged(ui_app, qtbot, ui_ctx, tmp_path):
    window = window_for(qtbot, ui_ctx)
    page = open_file(qtbot, window, big_file(tmp_path, 30_000))
    before = programme_stats(ui_ctx)

    with qtbot.waitSignal(page.finished, timeout=LONG):
        qtbot.mouseClick(page.validate_button, Qt.MouseButton.LeftButton)
        assert page.progress_box.isVisible() and page.cancel_button.isEnabled()
        assert not page.stack.isEnabled()  # nothing else to press while it runs
        shown = cancel_on_first_progress(qtbot, page)
    assert 0 < shown < 1000 and "中止" in page.message.text()
    assert page.stack.currentIndex() == STEP_PREVIEW and page.validate_button.isEnabled()
    assert not page.progress_box.isVisible()

    # While the page validates, the desk's own lane stays free for the other pages.
    answered = []
    with qtbot.waitSignal(page.finished, timeout=LONG):
        qtbot.mouseClick(page.validate_button, Qt.MouseButton.LeftButton)
        window.desk.call(programme_stats, on_done=lambda figures: answered.append(page.running))
        qtbot.waitUntil(lambda: bool(answered), timeout=LONG)
        qtbot.waitUntil(lambda: "MB" in page.status.text(), timeout=LONG)
    assert answered == [True]
    assert counts(page)["accepted"] == "30,000"
    assert not page.progress_box.isVisible()

    with qtbot.waitSignal(page.finished, timeout=LONG):
        qtbot.mouseClick(page.import_button, Qt.MouseButton.LeftButton)
        shown = cancel_on_first_progress(qtbot, page)
    assert 0 < shown < 1000  # cancelled part-way
    assert "変更されていません" in page.message.text()
    assert programme_stats(ui_ctx) == before
    assert page.import_button.isEnabled()  # the validated file can still be imported


def test_dropping_a_file_on_the_window_opens_it_in_the_wizard(ui_app, qtbot, ui_ctx, tmp_path):
    window = window_for(qtbot, ui_ctx)
    assert window.stack.currentWidget() is window.cases
    path = write_csv(tmp_path)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    enter = QDragEnterEvent(QPoint(400, 300), Qt.DropAction.CopyAction, mime,
                            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    drop = QDropEvent(QPointF(400, 300), Qt.DropAction.CopyAction, mime,
                      Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, drop)
    assert drop.isAccepted()
    assert window.stack.currentWidget() is window.imports
    qtbot.waitUntil(lambda: window.imports.stack.currentIndex() == STEP_PREVIEW, timeout=5000)
    assert path.name in window.imports.file_label.text()


def test_other_files_are_not_taken_by_a_drop(ui_app, qtbot, ui_ctx, tmp_path):
    window = window_for(qtbot, ui_ctx)
    other = tmp_path / "letter.pdf"
    other.write_bytes(b"%PDF-1.7")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(other)), QUrl("https://example.jp/list.csv")])
    enter = QDragEnterEvent(QPoint(400, 300), Qt.DropAction.CopyAction, mime,
                            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, enter)
    assert not enter.isAccepted()
    assert window.stack.currentWidget() is window.cases
