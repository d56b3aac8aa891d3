"""`hosho --server`: the window's file work on a centre desk (pytest-qt, real widgets):
the import wizard uploads the file, shows the server's progress and the result."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from app.core.i18n import set_locale
from app.services.stats import programme_stats
from app.ui.desk import Desk
from app.ui.fonts import apply_ui_font
from app.ui.import_page import STEP_RESULT
from app.ui.main_window import MainWindow
from app.ui.prompts import ScriptedPrompter
from tests.server.conftest import sign_in
from tests.ui.test_import_wizard import LONG, big_file, counts, open_file, shoot, write_csv

pytestmark = pytest.mark.gui


@pytest.fixture
def qapp_font(qapp):
    apply_ui_font(qapp)  # Japanese in the window's font, as the desk shows it
    set_locale("ja")
    yield qapp
    set_locale("ja")


@pytest.fixture
def gateways():
    """Closed after the windows (this fixture comes before qtbot: torn down after it)."""
    made = []
    yield made
    for gateway in made:
        gateway.close()


def centre_window(qtbot, gateways, ctx, server, staff, login="op1") -> MainWindow:
    gateway = sign_in(ctx, server, staff, login).gateway
    gateways.append(gateway)
    desk = Desk(gateway, prompter=ScriptedPrompter())
    window = MainWindow(desk, login)
    window.resize(1280, 800)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: not desk.lane.busy, timeout=10_000)
    return window


def test_import_wizard_on_a_centre_desk(qapp_font, gateways, qtbot, ctx, server, staff, tmp_path):
    window = centre_window(qtbot, gateways, ctx, server, staff)
    page = open_file(qtbot, window, big_file(tmp_path, 3000))
    shown = []
    page.task.progressed.connect(lambda done, total: shown.append((done, total)))
    with qtbot.waitSignal(page.finished, timeout=LONG):
        qtbot.mouseClick(page.validate_button, Qt.MouseButton.LeftButton)
    assert counts(page)["accepted"] == "3,000" and shown  # the bar moved
    assert programme_stats(ctx)["cases"] == 0  # a dry run, at the server
    with qtbot.waitSignal(page.finished, timeout=LONG):
        qtbot.mouseClick(page.import_button, Qt.MouseButton.LeftButton)
    assert page.stack.currentIndex() == STEP_RESULT
    assert page.summary.batch_id is not None
    assert page.summary.cases_created == 3000 == programme_stats(ctx)["cases"]
    shoot(window, "centre_import_summary.png")


def test_refused_rows_come_back_to_the_centre_desk(qapp_font, gateways, qtbot, ctx, server,
                                                   staff, tmp_path):
    window = centre_window(qtbot, gateways, ctx, server, staff)
    page = open_file(qtbot, window, write_csv(tmp_path))
    with qtbot.waitSignal(page.finished, timeout=LONG):
        qtbot.mouseClick(page.validate_button, Qt.MouseButton.LeftButton)
    assert page.save_button.isEnabled()  # the refused rows, spooled on this desk
    target = tmp_path / "refused.csv"
    window.desk.prompter.files.append(str(target))
    page.save_refused()
    qtbot.waitUntil(target.exists, timeout=10_000)
    assert "R4" in target.read_text(encoding="utf-8-sig")


def test_cancel_on_a_centre_desk_leaves_the_database_unchanged(qapp_font, gateways, qtbot, ctx,
                                                               server, staff, tmp_path,
                                                               monkeypatch):
    from tests.server.test_remote_files import slow_planner
    from tests.ui.test_import_wizard import cancel_on_first_progress

    window = centre_window(qtbot, gateways, ctx, server, staff)
    page = open_file(qtbot, window, big_file(tmp_path, 3000))
    with qtbot.waitSignal(page.finished, timeout=LONG):
        qtbot.mouseClick(page.validate_button, Qt.MouseButton.LeftButton)
    slow_planner(monkeypatch)  # the server's import takes a while: time to cancel it
    before = programme_stats(ctx)
    with qtbot.waitSignal(page.finished, timeout=LONG):
        qtbot.mouseClick(page.import_button, Qt.MouseButton.LeftButton)
        cancel_on_first_progress(qtbot, page)
    assert "変更されていません" in page.message.text()
    assert programme_stats(ctx) == before
    assert page.import_button.isEnabled()  # the validated file can still be imported
