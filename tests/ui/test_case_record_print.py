"""「案件記録を印刷」 in the case detail (pytest-qt, the real window): a supervisor saves
the case record as a PDF after a fresh authenticator code, recorded on the case's
timeline; a wrong code leaves no file; operators have no such button."""

from __future__ import annotations

import subprocess

from PySide6.QtCore import Qt
from sqlalchemy import text

from app.ui.main_window import MainWindow
from tests.conftest import step_up_code
from tests.ui.conftest import make_desk, settle


def _window(qtbot, ctx, login, answers=None, files=None):
    desk = make_desk(ctx, login, answers)
    desk.prompter.files = list(files or [])
    window = MainWindow(desk, login)
    qtbot.addWidget(window)
    window.show()
    settle(qtbot, desk)
    return window


def _open_some_case(qtbot, window) -> int:
    case_id = window.cases.model.rows[0].id
    window.open_case(case_id)
    qtbot.waitUntil(lambda: window.cases.detail.case is not None, timeout=5000)
    return case_id


def _exports(ctx, case_id):
    with ctx.db.engine.connect() as conn:
        return conn.execute(text("SELECT actor_login, after FROM audit_event WHERE action = "
                                 "'case.record_exported' AND case_id = :c"),
                            {"c": case_id}).all()


def test_a_supervisor_prints_the_case_record_to_a_pdf(ui_app, qtbot, ui_ctx, tmp_path):
    out = tmp_path / "record.pdf"
    sv1 = make_desk(ui_ctx, "sv1").actor
    window = _window(qtbot, ui_ctx, "sv1", answers=[step_up_code(ui_ctx, sv1)],
                     files=[str(out)])
    case_id = _open_some_case(qtbot, window)
    detail = window.cases.detail
    button = detail.print_record_button
    assert button.isVisible() and button.isEnabled() and button.text() == "案件記録を印刷…"
    with qtbot.waitSignal(detail.record_printed, timeout=10000) as printed:
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert printed.args[0] == str(out) and printed.args[1] >= 1
    words = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True,
                           check=True).stdout
    assert detail.case.case_number in words and detail.case.victim.name in words
    assert "経過" in words and "被害者" in words
    assert [login for login, _after in _exports(ui_ctx, case_id)] == ["sv1"]
    assert str(out) in window.desk.prompter.infos[-1]
    # The export is on the case's timeline, in words, once the case reloads.
    qtbot.waitUntil(lambda: any(e.action == "case.record_exported"
                                for e in detail.case.timeline), timeout=5000)
    assert detail.timeline.item(0, 2).text() == "案件記録を印刷（PDF）"


def test_a_wrong_code_prints_nothing(ui_app, qtbot, ui_ctx, tmp_path):
    out = tmp_path / "record.pdf"
    window = _window(qtbot, ui_ctx, "sv1", answers=["000000"], files=[str(out)])
    case_id = _open_some_case(qtbot, window)
    qtbot.mouseClick(window.cases.detail.print_record_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(window.desk.prompter.errors), timeout=10000)
    assert not out.exists() and not list(tmp_path.glob(".record*"))  # no temporary left
    assert _exports(ui_ctx, case_id) == []


def test_operators_have_no_print_button(ui_app, qtbot, ui_ctx):
    window = _window(qtbot, ui_ctx, "op1")
    _open_some_case(qtbot, window)
    assert not window.cases.detail.print_record_button.isVisible()
