"""`hosho --server`: the sign-in dialog at a real server, and a desk over it (pytest-qt)."""

from __future__ import annotations

import pyotp
import pytest

from app.core.clock import DemoClock
from app.domain.roles import SYSTEM_ACTOR, Role
from app.remote.gateway import RemoteGateway
from app.services import operators, settings
from app.services.settings import Settings
from app.ui.desk import Desk
from app.ui.remote_signin import RemoteSignInDialog
from tests.conftest import PASSWORD, step_up_code

pytestmark = pytest.mark.gui


def dialog_for(qtbot, server: str, login: str, password: str = PASSWORD):
    gateway = RemoteGateway(server)
    dialog = RemoteSignInDialog(gateway)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.login.setText(login)
    dialog.password.setText(password)
    dialog.submit()
    return gateway, dialog


def test_supervisor_signs_in_at_the_server(qapp, qtbot, ctx, server, staff):
    gateway, dialog = dialog_for(qtbot, server, "sv1")
    qtbot.waitUntil(lambda: dialog.stage == "code", timeout=5000)
    dialog.code.setText("000000")
    dialog.submit()
    qtbot.waitUntil(lambda: "既に使われて" in dialog.message.text(), timeout=5000)
    assert dialog.operator is None and gateway.stage == "code"
    dialog.code.setText(step_up_code(ctx, staff["sv1"]))
    with qtbot.waitSignal(dialog.accepted, timeout=5000):
        dialog.submit()
    assert dialog.operator.login == "sv1" and gateway.stage == "active"
    desk = Desk(gateway)
    got = []
    desk.call(settings.get, on_done=got.append)
    qtbot.waitUntil(lambda: bool(got), timeout=5000)
    assert isinstance(got[0], Settings) and desk.actor.login == "sv1"
    gateway.close()


def test_wrong_password_is_refused_by_the_server(qapp, qtbot, server, staff):
    gateway, dialog = dialog_for(qtbot, server, "op1", "not the password at all")
    qtbot.waitUntil(lambda: "パスワードが違います" in dialog.message.text(), timeout=5000)
    assert dialog.operator is None and dialog.stage == "password"
    gateway.close()


def test_enrolment_at_the_server(qapp, qtbot, ctx, server, staff):
    operators.add_operator(ctx, SYSTEM_ACTOR, "sv9", "佐々木 由美", Role.SUPERVISOR,
                           "lanterns over the river")
    gateway, dialog = dialog_for(qtbot, server, "sv9", "lanterns over the river")
    qtbot.waitUntil(lambda: dialog.enrol is not None and dialog.enrol.enrolment is not None,
                    timeout=5000)
    panel = dialog.enrol
    panel.code.setText(pyotp.TOTP(panel.enrolment.secret).at(ctx.clock.now()))
    dialog.submit()
    qtbot.waitUntil(lambda: panel.done, timeout=5000)
    assert len(panel.recovery.toPlainText().split()) == 10
    assert panel.keep.when == "2019/08/20 10:00"  # the sheet carries the server's time
    with qtbot.waitSignal(dialog.accepted, timeout=5000):
        dialog.submit()
    assert dialog.operator.login == "sv9" and gateway.stage == "active"
    gateway.close()


class DemoOfTheTest(DemoClock):
    """The demo's clock on the test's day, moving when the test's clock moves."""

    def advance(self, **delta) -> None:
        self.real.advance(**delta)


def test_the_centre_windows_clock_is_the_servers_demo_time(qapp, qtbot, ctx, clock, server,
                                                           request):
    """The status bar shows the server's time, and says it is the demo's when the server
    runs the demo: not this machine's clock (December 2026 here)."""
    from app.core.i18n import _
    from app.ui.application import DeskRun, centre_desk
    from app.ui.prompts import ScriptedPrompter
    from tests.server.conftest import sign_in
    from tests.ui.conftest import settle

    ctx.clock = DemoOfTheTest(start=clock.now(), real=clock)  # the server reads it
    staff = request.getfixturevalue("staff")
    gateway = sign_in(ctx, server, staff, "op1").gateway
    window = DeskRun(lambda: None, lambda dialog: None).show_window(
        centre_desk(gateway, ScriptedPrompter()), gateway.operator)
    qtbot.addWidget(window)
    settle(qtbot, window.desk)
    demo = _("Demo time: {time}")
    assert window.clock_label.text() == demo.format(time="2019/08/20 10:00")
    clock.advance(minutes=5)
    window.desk.clock.refresh()  # the 15-second tick
    qtbot.waitUntil(lambda: window.clock_label.text() == demo.format(time="2019/08/20 10:05"),
                    timeout=5000)
    window.close()
    gateway.close()
