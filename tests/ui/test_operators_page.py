"""Operator management in the window, for administrators, with a fresh code before
each act and the commands' audit events (pytest-qt)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from sqlalchemy import select

from app.core.errors import PermissionDenied
from app.domain.roles import Role
from app.services import operator_admin, operators
from app.storage.models import AuditEvent
from app.ui.operators_page import OperatorsPage
from tests.conftest import PASSWORD, enrol_second_factor, step_up_code
from tests.ui.conftest import make_desk, settle
from tests.ui.test_main_screens import window_for


@pytest.fixture
def admin_desk(ui_ctx):
    desk = make_desk(ui_ctx, "admin")
    view = next(o for o in operators.list_operators(ui_ctx) if o.login == "admin")
    if not view.totp_enrolled:
        enrol_second_factor(ui_ctx, desk.actor)
    return desk


def open_page(qtbot, desk, answers) -> OperatorsPage:
    desk.prompter.answers = list(answers)
    page = OperatorsPage(desk)
    qtbot.addWidget(page)
    page.show()
    settle(qtbot, desk)
    return page


def actions(ctx) -> list[str]:
    with ctx.db.read() as session:
        return list(session.execute(select(AuditEvent.action)).scalars())


def test_admin_adds_then_deactivates_an_operator(ui_app, qtbot, ui_ctx, clock, admin_desk):
    page = open_page(qtbot, admin_desk, [])
    admin_desk.prompter.answers = [step_up_code(ui_ctx, admin_desk.actor)]
    page.add_operator("suzuki", "鈴木 一郎", Role.OPERATOR)
    settle(qtbot, admin_desk)
    settle(qtbot, admin_desk)
    added = next(o for o in operators.list_operators(ui_ctx) if o.login == "suzuki")
    assert added.active and added.must_change_password and "suzuki" in page.note.text()
    assert "suzuki" in [page.table.item(r, 0).text() for r in range(page.table.rowCount())]
    clock.advance(seconds=31)
    page.table.selectRow(next(i for i, r in enumerate(page.rows) if r.login == "suzuki"))
    admin_desk.prompter.answers = [True, step_up_code(ui_ctx, admin_desk.actor)]
    qtbot.mouseClick(page.buttons["deactivate"], Qt.MouseButton.LeftButton)
    settle(qtbot, admin_desk)
    assert not next(o for o in operators.list_operators(ui_ctx) if o.login == "suzuki").active
    assert {"operator.add", "operator.deactivated", "second_factor.step_up"} <= set(
        actions(ui_ctx))


def test_a_wrong_code_refuses_the_reset(ui_app, qtbot, ui_ctx, admin_desk):
    page = open_page(qtbot, admin_desk, [])
    page.table.selectRow(next(i for i, r in enumerate(page.rows) if r.login == "op1"))
    admin_desk.prompter.answers = [True, "000000"]
    qtbot.mouseClick(page.buttons["reset_password"], Qt.MouseButton.LeftButton)
    settle(qtbot, admin_desk)
    assert admin_desk.prompter.errors
    assert operators.authenticate(ui_ctx, "op1", PASSWORD).login == "op1"  # unchanged


def test_only_administrators_have_the_page_and_the_service(ui_app, qtbot, ui_ctx):
    assert window_for(qtbot, ui_ctx, "sv1").operators is None
    with pytest.raises(PermissionDenied):
        operator_admin.set_active(ui_ctx, make_desk(ui_ctx, "sv1").actor, "op1", False,
                                  step_up_code(ui_ctx, make_desk(ui_ctx, "sv1").actor))
