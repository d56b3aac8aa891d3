"""Sign out and switch user from the window's menu (pytest-qt, the real window): the
session ends (audited, the queue hold released), the sign-in dialog comes back, the
next operator gets a window of their own with nothing of the first operator's work on
it, and the first operator's sign-in acts no more. At a centre desk the session ends
at the server, through the gateway."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication
from sqlalchemy import text

from app.services import cases, operators, queue
from app.services.context import SessionEnded
from app.ui.application import DeskRun
from app.ui.desk import Desk
from app.ui.main_window import MainWindow
from app.ui.prompts import ScriptedPrompter
from app.ui.signin import SignInDialog
from tests.conftest import PASSWORD, step_up_code
from tests.ui.conftest import make_desk, settle


def _view(ctx, login):
    return next(o for o in operators.list_operators(ctx) if o.login == login)


def _run(qtbot, ctx, login="op1"):
    run = DeskRun(lambda: SignInDialog(ctx),
                  lambda dialog: Desk(ctx, dialog.operator.as_actor(), ScriptedPrompter()))
    # Not qtbot.addWidget: the window deletes itself once signed out.
    window = run.show_window(make_desk(ctx, login), _view(ctx, login))
    settle(qtbot, window.desk)
    return run, window


def _hold_and_open(qtbot, window: MainWindow) -> int:
    """The operator takes a call from the queue and opens the case."""
    window.show_page("queue")
    window.queue.take_next()
    qtbot.waitUntil(lambda: window.queue.held is not None, timeout=5000)
    case_id = window.queue.held.case_id
    window.queue.open_held()
    qtbot.waitUntil(lambda: window.cases.detail.case is not None, timeout=5000)
    assert window.cases.detail.case.id == case_id
    return case_id


def _alive(widget) -> bool:
    from shiboken6 import isValid

    return isValid(widget)


def _menu_action(window: MainWindow, name: str) -> QAction:
    action = window.findChild(QAction, name)
    assert action in window.account_menu.actions()
    return action


def _events(ctx, action):
    with ctx.db.engine.connect() as conn:
        return conn.execute(text("SELECT actor_login, after FROM audit_event WHERE action = :a"
                                 " ORDER BY id"), {"a": action}).all()


def _holder(ctx, case_id):
    with ctx.db.engine.connect() as conn:
        return conn.execute(text("SELECT holder_id FROM case_queue WHERE case_id = :c"),
                            {"c": case_id}).scalar()


def test_sign_out_ends_the_session_and_returns_to_the_sign_in(ui_app, qtbot, ui_ctx):
    run, window = _run(qtbot, ui_ctx)
    old_actor = window.desk.actor
    case_id = _hold_and_open(qtbot, window)
    assert _holder(ui_ctx, case_id) == old_actor.operator_id
    with qtbot.waitSignal(window.signed_out, timeout=5000) as signal:
        _menu_action(window, "sign_out").trigger()
    assert signal.args == ["sign_out"]
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=5000)
    dialog = run.dialog
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: not _alive(window), timeout=5000)
    assert dialog.isVisible() and dialog.stage == "password" and dialog.login.text() == ""
    assert [w for w in QApplication.topLevelWidgets() if w.isVisible()] == [dialog]
    # Audited; the queue hold is given back.
    (login, after), = _events(ui_ctx, "operator.sign_out")
    assert login == "op1" and '"released_cases": 1' in after
    assert _holder(ui_ctx, case_id) is None
    # The signed-out sign-in acts no more, for reads and writes alike.
    with pytest.raises(SessionEnded):
        cases.get_case(ui_ctx, old_actor, case_id)
    with pytest.raises(SessionEnded):
        queue.next_case(ui_ctx, old_actor)
    # Leaving the sign-in dialog ends the program.
    with qtbot.waitSignal(run.finished, timeout=2000):
        dialog.reject()


def test_switch_user_signs_the_next_operator_in_with_nothing_of_the_first(
        ui_app, qtbot, ui_ctx):
    run, window = _run(qtbot, ui_ctx)
    first = window.desk.actor
    window.show_page("cases")
    window.cases.search.setText("佐藤")
    case_id = _hold_and_open(qtbot, window)
    with qtbot.waitSignal(window.signed_out, timeout=5000):
        _menu_action(window, "switch_user").trigger()
    dialog = run.dialog  # deleted once it has signed op2 in
    assert "切り替え" in dialog.windowTitle() and "op1" in dialog.intro.text()
    dialog.login.setText("op2")
    dialog.password.setText(PASSWORD)
    dialog.submit()
    qtbot.waitUntil(lambda: dialog.stage == "code", timeout=5000)
    op2 = _view(ui_ctx, "op2").as_actor()
    dialog.code.setText(step_up_code(ui_ctx, op2))
    with qtbot.waitSignal(run.window_shown, timeout=5000) as shown:
        dialog.submit()
    second = shown.args[0]
    qtbot.addWidget(second)
    settle(qtbot, second.desk)
    qtbot.waitUntil(lambda: not _alive(window) and not _alive(dialog), timeout=5000)
    assert second.desk.actor.login == "op2"
    assert "OP2" in second.findChild(type(second.clock_label), "signed_in").text()
    # Nothing of op1's work: no open case, no search, no hold; the old window is gone.
    assert second.cases.detail.case is None and second.cases.search.text() == ""
    assert second.queue.held is None
    assert [w for w in QApplication.topLevelWidgets() if w.isVisible()] == [second]
    assert _holder(ui_ctx, case_id) is None
    assert [row[0] for row in _events(ui_ctx, "operator.sign_out")] == ["op1"]
    with pytest.raises(SessionEnded):
        cases.get_case(ui_ctx, first, case_id)
    # op2 can take the case op1 gave back.
    second.show_page("queue")
    second.queue.take_next()
    qtbot.waitUntil(lambda: second.queue.held is not None, timeout=5000)
    assert _holder(ui_ctx, second.queue.held.case_id) == op2.operator_id


def test_a_centre_desk_signs_out_at_the_server(ui_app, qtbot, ui_ctx):
    from app.remote.gateway import RemoteGateway
    from tests.server.conftest import running_server

    with running_server(ui_ctx) as url:
        gateway = RemoteGateway(url)
        view = gateway.sign_in("op1", PASSWORD)
        gateway.verify_code(step_up_code(ui_ctx, view.as_actor()))
        token = gateway.token
        desk = Desk(gateway, prompter=ScriptedPrompter())
        held = []
        desk.act(queue.next_case, on_done=held.append)
        settle(qtbot, desk)
        case_id = held[0].case_id
        done, failed = [], []
        desk.sign_out(on_done=done.append, on_error=failed.append)
        settle(qtbot, desk)
        assert done and not failed
        with ui_ctx.db.engine.connect() as conn:
            reason = conn.execute(text("SELECT end_reason FROM server_session ORDER BY id DESC"
                                       " LIMIT 1")).scalar()
        assert reason == "signed_out"
        (login, after), = _events(ui_ctx, "operator.sign_out")
        assert login == "op1" and '"session"' in after and '"released_cases": 1' in after
        assert _holder(ui_ctx, case_id) is None
        # Neither this desk nor anyone holding its old token acts any more.
        with pytest.raises(SessionEnded):
            gateway.read(cases.get_case, case_id)
        stale = RemoteGateway(url, token=token)
        with pytest.raises(SessionEnded):
            stale.read(cases.get_case, case_id)
        stale.close()
        gateway.close()
