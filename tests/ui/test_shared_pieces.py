"""The pieces every page shares: one drop handler, one table builder, file questions
through the prompter."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QAbstractItemView, QApplication, QWidget

from app.ui.drops import FileDrop
from app.ui.tables import fill_table, make_table
from tests.ui.conftest import make_desk, settle


def _drag(widget, path) -> tuple[bool, bool]:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    enter = QDragEnterEvent(QPoint(5, 5), Qt.DropAction.CopyAction, mime,
                            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, enter)
    drop = QDropEvent(QPointF(5, 5), Qt.DropAction.CopyAction, mime,
                      Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, drop)
    return enter.isAccepted(), drop.isAccepted()


def test_a_drop_takes_one_file_of_the_kinds_named_and_only_when_ready(ui_app, qtbot, tmp_path):
    widget = QWidget()
    qtbot.addWidget(widget)
    taken, ready = [], [True]
    FileDrop(widget, taken.append, ready=lambda: ready[0])
    assert widget.acceptDrops()
    assert _drag(widget, tmp_path / "list.csv") == (True, True)
    assert taken == [str(tmp_path / "list.csv")]
    assert _drag(widget, tmp_path / "letter.pdf") == (False, False)
    ready[0] = False  # an import is running
    assert _drag(widget, tmp_path / "other.tsv") == (False, False)
    assert taken == [str(tmp_path / "list.csv")]


def test_the_import_page_refuses_a_drop_while_it_runs(ui_app, qtbot, ui_ctx, tmp_path):
    from app.ui.import_page import ImportPage

    desk = make_desk(ui_ctx, "op1")
    page = ImportPage(desk)
    qtbot.addWidget(page)
    page.running = True
    assert _drag(page, tmp_path / "list.csv") == (False, False)
    assert page.path is None
    page.running = False
    path = tmp_path / "list.csv"
    path.write_text("受付番号,氏名,電話番号\nR-1,佐藤 花子,090-1111-2222\n", encoding="utf-8")
    assert _drag(page, path) == (True, True)
    qtbot.waitUntil(lambda: page.preview is not None, timeout=5000)
    assert page.path == path
    settle(qtbot, desk)


def test_tables_are_read_only_translated_and_fill_with_figures_right_aligned(ui_app, qtbot):
    table = make_table("figures", ("Case no.", "Amount"), (80, 90))
    qtbot.addWidget(table)
    assert table.objectName() == "figures"
    assert table.editTriggers() == QAbstractItemView.EditTrigger.NoEditTriggers
    assert table.horizontalHeaderItem(0).text() == "案件番号"  # the operator's language
    assert table.columnWidth(0) == 80  # the last column stretches to the edge
    fill_table(table, [("H-0001", "1,000円"), ("H-0002", None)], right={1}, data=[7, 8])
    assert table.rowCount() == 2 and table.item(1, 1).text() == ""
    assert table.item(0, 1).textAlignment() & Qt.AlignmentFlag.AlignRight
    assert table.item(1, 0).data(Qt.ItemDataRole.UserRole) == 8


def test_file_questions_go_through_the_prompter(ui_app, qtbot, ui_ctx, tmp_path):
    from app.ui.audit_page import AuditPage

    desk = make_desk(ui_ctx, "op1")
    desk.prompter.files = [None]  # the operator closes the dialog
    page = AuditPage(desk)
    qtbot.addWidget(page)
    settle(qtbot, desk)
    page.export()
    [(kind, _caption, suggested)] = desk.prompter.file_asks
    assert (kind, suggested) == ("save", "audit_log.csv")
    assert desk.prompter.asked == []  # no code asked without a file
