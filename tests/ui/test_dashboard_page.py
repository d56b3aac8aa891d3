"""The dashboard page on the demo data: figures, chart, deadline lists, exports, refresh."""

from __future__ import annotations

from app.core.i18n import format_yen
from app.services import dashboard, queue
from app.services.changes import Changed
from app.services.outreach import AttemptInput, Method, Outcome, record_attempt
from app.ui.dashboard_page import DashboardPage
from tests.ui.conftest import make_desk, settle


def open_page(qtbot, ctx) -> DashboardPage:
    desk = make_desk(ctx, "sv1")
    page = DashboardPage(desk)
    qtbot.addWidget(page)
    page.resize(1300, 850)
    page.show()
    with qtbot.waitSignal(page.loaded, timeout=10_000):
        pass
    settle(qtbot, desk)
    return page


def test_figures_beside_the_public_ones(ui_app, qtbot, ui_ctx):
    page = open_page(qtbot, ui_ctx)
    board = dashboard.dashboard(ui_ctx)
    text = page.headline.text()
    assert "120" in text and "808" in text and "−688" in text
    assert format_yen(board.totals.claimed) in text
    assert page.channel_table.rowCount() == 5  # four channels and the total
    assert page.channel_table.item(4, 1).text() == format_yen(board.totals.claimed)
    assert page.channel_table.item(4, 4).text() == format_yen(board.totals.paid)
    assert len(page.chart.series()) == 2
    assert page.outreach_labels["awaiting"].text() == f"{board.outreach['awaiting']:,}"


def test_deadline_button_opens_the_list(ui_app, qtbot, ui_ctx):
    page = open_page(qtbot, ui_ctx)
    count = page.board.deadlines["credit_overdue"]
    assert f"{count:,}" in page.deadline_buttons["credit_overdue"].text()
    page.open_deadline("credit_overdue", show=False)
    settle(qtbot, page.desk)
    assert page.last_dialog.table.rowCount() == count


def test_refreshes_when_cases_change(ui_app, qtbot, ui_ctx):
    page = open_page(qtbot, ui_ctx)
    before = page.board.outreach["awaiting"]
    actor = page.desk.actor
    held = queue.next_case(ui_ctx, actor)
    record_attempt(ui_ctx, actor, held.case_id, AttemptInput(Method.PHONE, Outcome.REACHED))
    with qtbot.waitSignal(page.loaded, timeout=10_000):
        page.desk.changed.emit(Changed(cases=frozenset({held.case_id})))
    assert page.board.outreach["awaiting"] == before - 1
    assert page.outreach_labels["awaiting"].text() == f"{before - 1:,}"


def test_exports_csv_and_pdf(ui_app, qtbot, ui_ctx, tmp_path):
    page = open_page(qtbot, ui_ctx)
    page.export_csv(str(tmp_path / "f.csv"))
    page.export_pdf(str(tmp_path / "r.pdf"))
    settle(qtbot, page.desk)
    assert "programme,public_victims,808" in (tmp_path / "f.csv").read_text(
        encoding="utf-8-sig")
    assert page.desk.prompter.errors == []
    assert (tmp_path / "r.pdf").read_bytes().startswith(b"%PDF")
    assert len(page.desk.prompter.infos) == 2
