"""Sign-in defences on screen: the code step, enrolment with a QR code, a forced
new password, step-up before approvals, and the idle lock (pytest-qt)."""

from __future__ import annotations

import os

import pyotp
from PySide6.QtWidgets import QLineEdit

from app.domain.roles import SYSTEM_ACTOR, Role
from app.domain.states import Status
from app.services import cases, intake, operators
from app.services.cases import MoveRequest
from app.services.payout_details import set_payout_details
from app.ui.main_window import MainWindow
from app.ui.signin import SignInDialog
from tests.conftest import PASSWORD, step_up_code
from tests.services.helpers import BANK, incident, victim
from tests.ui.conftest import make_desk, settle

SHOTS = os.environ.get("HOSHO_SHOTS")  # a folder: save screenshots there when set


def shot(widget, name: str) -> None:
    if SHOTS:
        widget.grab().save(os.path.join(SHOTS, name))


def actor_of(ctx, login: str):
    return next(o for o in operators.list_operators(ctx) if o.login == login).as_actor()


def sign_in_dialog(qtbot, ctx, login: str, password: str = PASSWORD) -> SignInDialog:
    dialog = SignInDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.login.setText(login)
    dialog.password.setText(password)
    dialog.submit()
    return dialog


def test_supervisor_signs_in_with_a_code(ui_app, qtbot, ui_ctx):
    dialog = sign_in_dialog(qtbot, ui_ctx, "sv1")
    qtbot.waitUntil(lambda: dialog.stage == "code", timeout=5000)
    assert dialog.operator is None and dialog.code.isVisible()
    shot(dialog, "signin_code.png")
    dialog.code.setText("000000")
    dialog.submit()
    qtbot.waitUntil(lambda: "既に使われて" in dialog.message.text(), timeout=5000)
    assert dialog.operator is None and dialog.stage == "code"
    sv1 = next(o for o in operators.list_operators(ui_ctx) if o.login == "sv1").as_actor()
    dialog.code.setText(step_up_code(ui_ctx, sv1))
    with qtbot.waitSignal(dialog.accepted, timeout=5000):
        dialog.submit()
    assert dialog.operator.login == "sv1"


def test_unenrolled_supervisor_is_taken_through_enrolment(ui_app, qtbot, ui_ctx):
    operators.add_operator(ui_ctx, SYSTEM_ACTOR, "sv9", "佐々木 由美", Role.SUPERVISOR,
                           "lanterns over the river")
    dialog = sign_in_dialog(qtbot, ui_ctx, "sv9", "lanterns over the river")
    qtbot.waitUntil(lambda: dialog.enrol is not None and dialog.enrol.enrolment is not None,
                    timeout=5000)
    panel = dialog.enrol
    pixmap = panel.qr.pixmap()
    assert not pixmap.isNull() and pixmap.width() > 150 and panel.qr.isVisible()
    image = pixmap.toImage()
    assert image.pixelColor(0, 0).name() == "#ffffff"  # the quiet zone
    assert any(image.pixelColor(x, x).name() == "#000000" for x in range(pixmap.width()))
    assert panel.enrolment.secret[:4] in panel.secret.text()
    dialog.resize(520, 640)
    shot(dialog, "totp_enrolment.png")
    panel.code.setText(pyotp.TOTP(panel.enrolment.secret).at(ui_ctx.clock.now()))
    dialog.submit()
    qtbot.waitUntil(lambda: panel.done, timeout=5000)
    codes = panel.recovery.toPlainText().split()
    assert len(codes) == 10 and dialog.operator is None
    shot(dialog, "totp_recovery_codes.png")
    with qtbot.waitSignal(dialog.accepted, timeout=5000):
        dialog.submit()
    assert dialog.operator.login == "sv9"


def test_reset_password_must_be_changed_at_sign_in(ui_app, qtbot, ui_ctx):
    one_time = operators.reset_password(ui_ctx, SYSTEM_ACTOR, "op1")
    dialog = sign_in_dialog(qtbot, ui_ctx, "op1", one_time)
    # Operators give their authenticator code too, before choosing the new password.
    qtbot.waitUntil(lambda: dialog.stage == "code", timeout=5000)
    dialog.code.setText(step_up_code(ui_ctx, actor_of(ui_ctx, "op1")))
    dialog.submit()
    qtbot.waitUntil(lambda: dialog.stage == "new_password", timeout=5000)
    assert dialog.new_password.echoMode() is QLineEdit.EchoMode.Password
    dialog.new_password.setText("SakuraSakura")
    dialog.new_again.setText("SakuraSakura")
    dialog.submit()
    qtbot.waitUntil(lambda: dialog.buttons.isEnabled(), timeout=5000)
    assert "よく使われる" in dialog.message.text() and dialog.operator is None
    dialog.new_password.setText("paper boats at low tide")
    dialog.new_again.setText("paper boats at low tide")
    with qtbot.waitSignal(dialog.accepted, timeout=5000):
        dialog.submit()
    assert not dialog.operator.must_change_password
    assert operators.authenticate(ui_ctx, "op1", "paper boats at low tide").login == "op1"


def test_five_wrong_passwords_lock_with_the_same_message(ui_app, qtbot, ui_ctx):
    dialog = SignInDialog(ui_ctx)
    qtbot.addWidget(dialog)
    for _ in range(5):
        dialog.login.setText("op2")
        dialog.password.setText("not my password at all")
        dialog.submit()
        qtbot.waitUntil(lambda: dialog.buttons.isEnabled(), timeout=5000)
    refused = dialog.message.text()
    dialog.password.setText(PASSWORD)
    dialog.submit()
    qtbot.waitUntil(lambda: dialog.buttons.isEnabled(), timeout=5000)
    assert dialog.operator is None and dialog.message.text() == refused
    assert "5回" in dialog.hint.text()
    dialog.show()
    shot(dialog, "signin_locked.png")
    ui_ctx.clock.advance(minutes=2)
    dialog.password.setText(PASSWORD)
    dialog.submit()
    qtbot.waitUntil(lambda: dialog.stage == "code", timeout=5000)
    dialog.code.setText(step_up_code(ui_ctx, actor_of(ui_ctx, "op2")))
    with qtbot.waitSignal(dialog.accepted, timeout=5000):
        dialog.submit()


def supervisor_window(qtbot, ctx, answers=None) -> MainWindow:
    desk = make_desk(ctx, "sv1", answers)
    window = MainWindow(desk, "sv1")
    qtbot.addWidget(window)
    window.show()
    settle(qtbot, desk)
    return window


def verified_case(ctx):
    op1 = next(o for o in operators.list_operators(ctx) if o.login == "op1").as_actor()
    case = intake.take_phone_intake(ctx, op1, victim(phone="03-5555-0009"), incident())
    cases.move_case(ctx, op1, case.id, MoveRequest(Status.CONTACTED))
    set_payout_details(ctx, op1, case.id, BANK)
    cases.move_case(ctx, op1, case.id, MoveRequest(Status.DOCUMENTS_RECEIVED))
    cases.move_case(ctx, op1, case.id, MoveRequest(Status.VERIFIED, verified_amount=30_000))
    return case


def open_case(qtbot, window, case_id):
    window.cases.detail.load(case_id)
    settle(qtbot, window.desk)


def test_approval_asks_for_a_code_first(ui_app, qtbot, ui_ctx):
    case = verified_case(ui_ctx)
    window = supervisor_window(qtbot, ui_ctx, answers=[True, None])
    open_case(qtbot, window, case.id)
    window.cases.detail.move_buttons()["move_approve_approved"].click()
    settle(qtbot, window.desk)
    assert [kind for kind, _text in window.desk.prompter.asked] == ["confirm", "code"]
    assert cases.get_case(ui_ctx, window.desk.actor, case.id).status is Status.VERIFIED
    window.desk.prompter.answers = [True, step_up_code(ui_ctx, window.desk.actor)]
    window.cases.detail.move_buttons()["move_approve_approved"].click()
    qtbot.waitUntil(lambda: window.cases.detail.case.status is Status.APPROVED, timeout=5000)
    settle(qtbot, window.desk)


def test_rejection_with_a_wrong_code_is_refused(ui_app, qtbot, ui_ctx):
    case = verified_case(ui_ctx)
    window = supervisor_window(qtbot, ui_ctx, answers=[True, "重複した申出", "111111"])
    open_case(qtbot, window, case.id)
    window.cases.detail.move_buttons()["move_reject_rejected"].click()
    qtbot.waitUntil(lambda: bool(window.desk.prompter.errors), timeout=5000)
    assert "確認コード" in window.desk.prompter.errors[0]
    assert cases.get_case(ui_ctx, window.desk.actor, case.id).status is Status.VERIFIED


def test_idle_lock_hides_the_case_and_unlocks_with_password_and_code(ui_app, qtbot, ui_ctx):
    case = verified_case(ui_ctx)
    window = supervisor_window(qtbot, ui_ctx)
    open_case(qtbot, window, case.id)
    window.resize(1100, 700)
    assert window.cases.isVisible() and case.case_number in window.cases.detail.header.text()
    lock = window.idle_lock
    with qtbot.waitSignal(lock.locked, timeout=5000):
        lock.set_timeout(50)
    assert not window.cases.isVisible() and window.centralWidget() is lock.panel
    assert lock.panel.isVisible() and lock.panel.password.isVisible()
    assert not window.statusBar().isVisible()
    assert case.case_number not in window.windowTitle()
    texts = " ".join(w.text() for w in window.findChildren(type(lock.panel.message))
                     if w.isVisible())
    assert case.case_number not in texts
    shot(window, "idle_lock.png")
    lock.panel.password.setText("wrong password again")
    lock.panel.submit()
    qtbot.waitUntil(lambda: lock.panel.button.isEnabled(), timeout=5000)
    assert "パスワード" in lock.panel.message.text() and lock.is_locked
    lock.panel.password.setText(PASSWORD)
    lock.panel.code.setText(step_up_code(ui_ctx, window.desk.actor))
    with qtbot.waitSignal(lock.unlocked, timeout=5000):
        lock.panel.submit()
    assert window.cases.isVisible() and window.statusBar().isVisible()
    assert case.case_number in window.cases.detail.header.text()
    lock.set_timeout(600_000)
    settle(qtbot, window.desk)


def test_input_keeps_the_window_unlocked(ui_app, qtbot, ui_ctx):
    window = supervisor_window(qtbot, ui_ctx)
    lock = window.idle_lock
    lock.set_timeout(400)
    window.cases.search.setFocus()
    for _ in range(6):  # typed through the window system, as a keyboard does
        qtbot.wait(100)
        qtbot.keyClick(window.windowHandle(), "a")
    assert not lock.is_locked and "aaaaaa" in window.cases.search.text()
    with qtbot.waitSignal(lock.locked, timeout=3000):
        pass  # and with no more input it locks
    lock.set_timeout(600_000)


def test_a_new_operator_is_taken_through_enrolment(ui_app, qtbot, ui_ctx):
    operators.add_operator(ui_ctx, SYSTEM_ACTOR, "kato", "加藤 直人", Role.OPERATOR,
                           "umbrellas fold on tuesdays")
    dialog = sign_in_dialog(qtbot, ui_ctx, "kato", "umbrellas fold on tuesdays")
    qtbot.waitUntil(lambda: dialog.enrol is not None and dialog.enrol.enrolment is not None,
                    timeout=5000)
    assert dialog.operator is None and not dialog.enrol.qr.pixmap().isNull()
    dialog.enrol.code.setText(pyotp.TOTP(dialog.enrol.enrolment.secret).at(ui_ctx.clock.now()))
    dialog.submit()
    qtbot.waitUntil(lambda: dialog.enrol.done, timeout=5000)
    assert len(dialog.enrol.recovery.toPlainText().split()) == 10
    with qtbot.waitSignal(dialog.accepted, timeout=5000):
        dialog.submit()
    assert dialog.operator.login == "kato"


def test_relaxed_rule_lets_a_new_operator_in_with_the_password_and_the_dashboard_says_so(
        ui_app, qtbot, ui_ctx):
    from app.services import settings
    from app.ui.dashboard_page import DashboardPage

    settings.change(ui_ctx, SYSTEM_ACTOR, "operator_second_factor", "relaxed")
    operators.add_operator(ui_ctx, SYSTEM_ACTOR, "kato", "加藤 直人", Role.OPERATOR,
                           "umbrellas fold on tuesdays")
    dialog = sign_in_dialog(qtbot, ui_ctx, "kato", "umbrellas fold on tuesdays")
    qtbot.waitUntil(lambda: dialog.operator is not None, timeout=5000)
    assert dialog.stage == "password" and dialog.enrol is None
    desk = make_desk(ui_ctx, "sv1")
    page = DashboardPage(desk)
    qtbot.addWidget(page)
    page.show()
    qtbot.waitUntil(lambda: page.board is not None, timeout=10_000)
    assert page.security_warning.isVisible()
    assert "コードなしでサインインできます" in page.security_warning.text()
    settle(qtbot, desk)


def test_the_idle_lock_asks_an_operator_for_the_code(ui_app, qtbot, ui_ctx):
    desk = make_desk(ui_ctx, "op1")
    window = MainWindow(desk, "op1")
    qtbot.addWidget(window)
    window.show()
    settle(qtbot, desk)
    lock = window.idle_lock
    with qtbot.waitSignal(lock.locked, timeout=5000):
        lock.set_timeout(50)
    settle(qtbot, desk)
    assert lock.panel.code.isVisible()
    lock.panel.password.setText(PASSWORD)
    lock.panel.submit()
    qtbot.waitUntil(lambda: lock.panel.button.isEnabled(), timeout=5000)
    assert lock.is_locked and "確認コード" in lock.panel.message.text()
    lock.panel.password.setText(PASSWORD)
    lock.panel.code.setText(step_up_code(ui_ctx, desk.actor))
    with qtbot.waitSignal(lock.unlocked, timeout=5000):
        lock.panel.submit()
    lock.set_timeout(600_000)
    settle(qtbot, desk)


def test_guessing_approval_codes_locks_the_window_until_a_new_sign_in(ui_app, qtbot, ui_ctx):
    case = verified_case(ui_ctx)
    window = supervisor_window(qtbot, ui_ctx)
    window.resize(1100, 700)
    open_case(qtbot, window, case.id)
    desk, lock = window.desk, window.idle_lock
    before = desk.actor
    for attempt in range(5):
        desk.prompter.answers = [True, f"{attempt:06d}"]
        desk.prompter.errors.clear()
        window.cases.detail.move_buttons()["move_approve_approved"].click()
        qtbot.waitUntil(lambda: bool(desk.prompter.errors), timeout=5000)
        settle(qtbot, desk)
    assert not lock.is_locked  # five wrong codes: the account is now locked
    desk.prompter.answers = [True, step_up_code(ui_ctx, desk.actor)]
    desk.prompter.errors.clear()
    with qtbot.waitSignal(lock.locked, timeout=5000):
        window.cases.detail.move_buttons()["move_approve_approved"].click()
    settle(qtbot, desk)
    assert "ロック" in desk.prompter.errors[-1]
    assert not window.cases.isVisible()
    shot(window, "session_ended_lock.png")
    # While the account is locked the right password and code do not unlock.
    lock.panel.password.setText(PASSWORD)
    lock.panel.code.setText(step_up_code(ui_ctx, desk.actor))
    lock.panel.submit()
    qtbot.waitUntil(lambda: lock.panel.button.isEnabled(), timeout=5000)
    assert lock.is_locked
    ui_ctx.clock.advance(minutes=2)
    lock.panel.password.setText(PASSWORD)
    lock.panel.code.setText(step_up_code(ui_ctx, desk.actor))
    with qtbot.waitSignal(lock.unlocked, timeout=5000):
        lock.panel.submit()
    assert desk.actor.epoch != before.epoch
    assert cases.get_case(ui_ctx, desk.actor, case.id).status is Status.VERIFIED
    desk.prompter.answers = [True, step_up_code(ui_ctx, desk.actor)]
    window.cases.detail.move_buttons()["move_approve_approved"].click()
    qtbot.waitUntil(lambda: window.cases.detail.case.status is Status.APPROVED, timeout=5000)
    lock.set_timeout(600_000)
    settle(qtbot, desk)
