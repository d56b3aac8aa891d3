"""A person's page in both programmes, opened from a case and from an application,
and each page's programme shown (pytest-qt, offscreen, real widgets).

Set HOSHO_SCREENSHOTS=1 to refresh docs/screenshots/person_both_programmes.png."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from sqlalchemy import text

from app.domain.channels import Channel
from app.domain.roles import SYSTEM_ACTOR
from app.services import intake
from app.services.refunds_import import import_applications, import_balances
from app.ui.case_detail import CaseDetail
from app.ui.labels import channel_label
from app.ui.person_dialog import PersonDialog
from app.ui.refunds_page import RefundsPage
from tests.services.helpers import incident, victim
from tests.services.refund_helpers import (
    APPLICATION_HEADER,
    BALANCE_HEADER,
    application,
    member,
    write_csv,
)
from tests.ui.conftest import make_desk, settle
from tests.ui.test_import_wizard import shoot, window_for

pytestmark = pytest.mark.gui


@pytest.fixture
def person(ui_ctx, clock, tmp_path):
    with ui_ctx.db.write() as session:
        for table in ("refund_payment", "postal_order", "refund_application", "refund_member"):
            session.execute(text(f"DELETE FROM {table}"))
    clock.advance(days=200)
    case = intake.take_phone_intake(ui_ctx, SYSTEM_ACTOR, victim(
        name="高田 一美", name_kana="タカダ カズミ", member_id="7iP0001", phone="090-5555-0001"),
        incident(Channel.CREDIT_CHARGE, amount=30_000))
    intake.take_phone_intake(ui_ctx, SYSTEM_ACTOR, victim(
        name="高田 一美", name_kana="タカダ カズミ", member_id="7iP0001", phone="090-5555-0001"),
        incident(Channel.NANACO_CHARGE, amount=4_000), existing_victim_id=case.victim.id)
    import_balances(ui_ctx, SYSTEM_ACTOR, write_csv(tmp_path / "b.csv", BALANCE_HEADER, [
        member("7iP0001", 12_000, 10_000, kana="タカダ カズミ", phone="090-5555-0001")]))
    import_applications(ui_ctx, SYSTEM_ACTOR, write_csv(tmp_path / "a.csv", APPLICATION_HEADER, [
        application("W-101", "7iP0001", route="Web", kana="タカダ カズミ",
                    phone="090-5555-0001"),
        application("A-102", "7iP0001", applied="2019-11-20 10:00", kana="タカダ カズミ",
                    phone="090-5555-0001")]))
    return case


def opened(qtbot, parent) -> PersonDialog:
    dialog = parent.findChild(PersonDialog)
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.person is not None, timeout=5000)
    return dialog


def cells(table) -> list[list[str]]:
    return [[table.item(r, c).text() for c in range(table.columnCount())]
            for r in range(table.rowCount())]


def test_from_a_case_the_victims_page_shows_both_programmes(ui_app, qtbot, ui_ctx, person):
    desk = make_desk(ui_ctx, "op1")
    detail = CaseDetail(desk)
    qtbot.addWidget(detail)
    detail.resize(700, 700)
    detail.show()
    assert not detail.person_button.isEnabled()
    detail.load(person.id)
    qtbot.waitUntil(lambda: detail.case is not None, timeout=5000)
    assert detail.programme.text() == "補償" and detail.programme.isVisible()
    qtbot.mouseClick(detail.person_button, Qt.MouseButton.LeftButton)
    dialog = opened(qtbot, detail)
    assert dialog.isVisible()
    assert "高田 一美" in dialog.heading.text() and "7iP0001" in dialog.heading.text()
    rows = cells(dialog.cases)
    assert sorted(r[1:2] + r[3:] for r in rows) == sorted([
        [channel_label(Channel.CREDIT_CHARGE), "30,000円", "0円", "30,000円"],
        [channel_label(Channel.NANACO_CHARGE), "4,000円", "0円", "4,000円"]])
    assert person.case_number in [r[0] for r in rows]
    assert "34,000円" in dialog.case_totals.text()
    assert "12,000円" in dialog.balance.text() and "10,000円" in dialog.balance.text()
    assert cells(dialog.applications) == [
        ["W-101", "Webフォーム", cells(dialog.applications)[0][2], "本人確認待ち", "2,000円",
         "0円", "2,000円"],
        ["A-102", "アプリ", cells(dialog.applications)[1][2], "重複申出", "2,000円", "0円",
         "0円"]]
    assert "2,000円" in dialog.refund_totals.text()
    assert "36,000円" in dialog.together.text()
    assert dialog.findChild(type(detail.programme), "programme_compensation").text() == "補償"
    assert dialog.findChild(type(detail.programme), "programme_refund").text() == "残高払戻し"
    dialog.resize(960, 640)
    shoot(dialog, "person_both_programmes.png")


def test_from_an_application_the_applicants_page(ui_app, qtbot, ui_ctx, person):
    desk = make_desk(ui_ctx, "op1")
    page = RefundsPage(desk)
    qtbot.addWidget(page)
    page.show()
    settle(qtbot, desk)
    assert page.findChild(type(page.programme), "programme_badge").text() == "残高払戻し"
    page.tabs.setCurrentIndex(1)
    page.lists["awaiting_identity"].selectRow(0)
    qtbot.mouseClick(page.person_button, Qt.MouseButton.LeftButton)
    dialog = opened(qtbot, page)
    assert [r[0] for r in cells(dialog.applications)] == ["W-101", "A-102"]
    assert [r[0] for r in cells(dialog.cases)] == sorted(r[0] for r in cells(dialog.cases))
    assert dialog.cases.rowCount() == 2 and "34,000円" in dialog.case_totals.text()


def test_the_window_names_the_programme_of_each_area(ui_app, qtbot, ui_ctx, person):
    window = window_for(qtbot, ui_ctx)
    badge = window.cases.findChild(type(window.cases.count_label), "cases_programme")
    assert badge.text() == "補償" and badge.isVisible()
    window.show_page("refunds")
    assert "残高払戻し" in window.refunds.programme.text()
    window.show_page("import")
    assert window.imports.kind_combo.isVisible()
