"""First start filled from the keyboard, leaving it asks first, and a locked sign-in
says that sign-in is paused and until when, for any name (pytest-qt)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox

from app.services import operators
from app.ui.prompts import ScriptedPrompter
from app.ui.signin import FirstAdminDialog, SignInDialog
from tests.conftest import PASSWORD
from tests.ui.conftest import settle  # noqa: F401  (the lane is the dialog's own)


def _focus_chain(dialog, start, steps):
    chain, widget = [start.objectName()], start
    for _ in range(steps):
        widget = widget.nextInFocusChain()
        while not (widget.focusPolicy() & Qt.FocusPolicy.TabFocus) or not widget.isVisible():
            widget = widget.nextInFocusChain()
        chain.append(widget.objectName() or widget.text())
    return chain


def test_first_run_form_tabs_field_by_field_and_enter_creates(ui_app, qtbot, ctx):
    dialog = FirstAdminDialog(ctx, prompter=ScriptedPrompter())
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert ok.isDefault()
    assert _focus_chain(dialog, dialog.login, 4) == [
        "login", "display_name", "password", "password_again", ok.text()]
    widget = dialog.login
    for text in ("chief", "Chief", "a sturdy passphrase", "a sturdy passphrase"):
        widget.setFocus()
        qtbot.keyClicks(widget, text)
        qtbot.keyClick(widget, Qt.Key.Key_Tab)
        last, widget = widget, dialog.focusWidget()
    assert widget is ok
    with qtbot.waitSignal(dialog.accepted, timeout=5000):
        qtbot.keyClick(last, Qt.Key.Key_Return)
    assert dialog.operator.login == "chief" and dialog.operator.display_name == "Chief"


def test_leaving_the_first_run_form_asks_first(ui_app, qtbot, ctx):
    prompter = ScriptedPrompter([False, True])
    dialog = FirstAdminDialog(ctx, prompter=prompter)
    qtbot.addWidget(dialog)
    dialog.show()
    cancel = dialog.buttons.button(QDialogButtonBox.StandardButton.Cancel)
    qtbot.mouseClick(cancel, Qt.MouseButton.LeftButton)
    assert dialog.isVisible() and dialog.result() == 0
    assert "終了" in prompter.asked[0][1]
    with qtbot.waitSignal(dialog.rejected, timeout=1000):
        qtbot.mouseClick(cancel, Qt.MouseButton.LeftButton)


def _fail(qtbot, dialog, login, password):
    dialog.login.setText(login)
    dialog.password.setText(password)
    dialog.submit()
    qtbot.waitUntil(lambda: dialog.buttons.isEnabled(), timeout=10000)
    return dialog.message.text()


def test_after_a_lock_the_sign_in_says_paused_until_when(ui_app, qtbot, ui_ctx):
    dialog = SignInDialog(ui_ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    for _ in range(operators.FAILURES_BEFORE_LOCK - 1):
        assert "違います" in _fail(qtbot, dialog, "op1", "wrong password here")
    fifth = _fail(qtbot, dialog, "op1", "wrong password here")
    assert "一時停止" in fifth and "10:01" in fifth
    right = _fail(qtbot, dialog, "op1", PASSWORD)  # the right password, too late
    assert right == fifth and dialog.operator is None


def test_an_unknown_name_locks_alike_so_that_nothing_is_revealed(ui_app, qtbot, ui_ctx):
    dialog = SignInDialog(ui_ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    texts = [_fail(qtbot, dialog, "nobody", "wrong password here")
             for _ in range(operators.FAILURES_BEFORE_LOCK + 1)]
    known = SignInDialog(ui_ctx)
    qtbot.addWidget(known)
    known_texts = [_fail(qtbot, known, "op2", "wrong password here")
                   for _ in range(operators.FAILURES_BEFORE_LOCK + 1)]
    assert texts == known_texts
    assert "一時停止" in texts[-1] and "違います" in texts[0]
