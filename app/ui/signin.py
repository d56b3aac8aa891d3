"""Sign-in, and the first administrator on an empty database.

A sign-in runs in steps inside one dialog: the password; for supervisors and
administrators the authenticator code (or, the first time, enrolment with a QR
code); and a new password when an administrator has just reset it.
"""

from __future__ import annotations

from itertools import pairwise

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import PermissionDenied
from app.core.i18n import _, error_text
from app.services import operators, second_factor
from app.services.context import AppContext
from app.services.operators import FAILURES_BEFORE_LOCK, OperatorView
from app.ui.enrol_dialog import EnrolPanel
from app.ui.lane import ServiceLane
from app.ui.prompts import Prompter


def _password_edit(name: str) -> QLineEdit:
    edit = QLineEdit()
    edit.setObjectName(name)
    edit.setEchoMode(QLineEdit.EchoMode.Password)
    return edit


class _CredentialsDialog(QDialog):
    def __init__(self, ctx: AppContext, title: str, intro: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.lane = ServiceLane(self)
        self.operator: OperatorView | None = None
        self.setWindowTitle(title)
        self.setMinimumWidth(440)
        self.intro = QLabel(intro)
        self.intro.setWordWrap(True)
        self.login = QLineEdit()
        self.login.setObjectName("login")
        self.password = _password_edit("password")
        self.message = QLabel()
        self.message.setObjectName("message")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #b00020")
        self.form = QFormLayout()
        self.form.addRow(_("Operator name"), self.login)
        self.form.addRow(_("Password"), self.password)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        # Enter anywhere in the form is OK; the focused Cancel is never pressed by Enter.
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setDefault(True)
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setAutoDefault(False)
        first = QWidget()
        first_layout = QVBoxLayout(first)
        first_layout.setContentsMargins(0, 0, 0, 0)
        first_layout.addWidget(self.intro)
        first_layout.addLayout(self.form)
        self.stack = QStackedWidget()
        self.stack.addWidget(first)
        layout = QVBoxLayout(self)
        layout.addWidget(self.stack)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)

    def submit(self) -> None:
        raise NotImplementedError

    def _done(self, operator: OperatorView) -> None:
        self.buttons.setEnabled(True)
        self.operator = operator
        self.accept()

    def _failed(self, exc: Exception) -> None:
        self.buttons.setEnabled(True)
        self.password.clear()
        self.message.setText(error_text(exc))
        self.adjustSize()  # a two-line message (a pause) is shown whole, not clipped


class SignInDialog(_CredentialsDialog):
    """Password, then (by role) the authenticator code or enrolment, then (after a
    reset) a new password. ``operator`` is set only when every step passed."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, _("Hosho Desk: sign in"),
                         _("Sign in with your operator name and password."), parent)
        self.hint = QLabel(_("After {count} wrong attempts in a row, sign-in pauses for a "
                             "while.").format(count=FAILURES_BEFORE_LOCK))
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet("color: #555")
        self.stack.widget(0).layout().addWidget(self.hint)
        self.stage = "password"
        self.pending: OperatorView | None = None
        self._typed_password = ""
        self.code = QLineEdit()
        self.code.setObjectName("code")
        self.code.setMaxLength(16)
        self.code.setPlaceholderText("123456")
        self.code_page = self._page(
            _("Enter the 6-digit code from your authenticator app. If you lost your "
              "phone, enter one of your recovery codes."), [(_("Code"), self.code)])
        self.new_password = _password_edit("new_password")
        self.new_again = _password_edit("new_password_again")
        self.new_password_page = self._page(
            _("An administrator reset your password. Choose a new one: at least 12 "
              "characters; not a common password and not your name. A short sentence "
              "is easy to remember."),
            [(_("New password"), self.new_password), (_("New password again"),
                                                       self.new_again)])
        self.enrol: EnrolPanel | None = None
        self.prompter = Prompter()  # the enrolment's print and save dialogs

    def _page(self, text: str, rows: list[tuple[str, QWidget]]) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        label = QLabel(text)
        label.setWordWrap(True)
        layout.addWidget(label)
        form = QFormLayout()
        for title, widget in rows:
            form.addRow(title, widget)
        layout.addLayout(form)
        layout.addStretch(1)
        self.stack.addWidget(page)
        return page

    def submit(self) -> None:
        self.buttons.setEnabled(False)
        self.message.setText(_("Checking…"))
        if self.stage == "password":
            self._typed_password = self.password.text()
            self.lane.submit(operators.authenticate, self.ctx, self.login.text(),
                             self._typed_password, on_done=self._password_ok,
                             on_error=self._failed)
        elif self.stage == "code":
            self.lane.submit(second_factor.verify_sign_in, self.ctx, self.pending.id,
                             self.code.text(), on_done=self._code_ok, on_error=self._step_failed)
        elif self.stage == "enrol":
            if self.enrol.done:
                self._code_ok(self.pending)
            else:
                self.enrol.confirm(self._step_failed)
        elif self.stage == "new_password":
            self._change_password()

    def _password_ok(self, view: OperatorView) -> None:
        self.pending = view
        self.password.clear()
        if view.totp_required and view.totp_enrolled:
            self._go("code", self.code_page)
            self.code.setFocus()
        elif view.totp_required:
            self.enrol = EnrolPanel(self.ctx, view.as_actor(), self.lane,
                                    prompter=self.prompter)
            self.enrol.enrolled.connect(lambda _codes: self._enrolled())
            self.stack.addWidget(self.enrol)
            self._go("enrol", self.enrol)
            self.enrol.start(self._step_failed)
        else:
            self._code_ok(view)

    def _go(self, stage: str, page: QWidget) -> None:
        self.stage = stage
        self.stack.setCurrentWidget(page)
        self.message.clear()
        self.buttons.setEnabled(True)

    def _enrolled(self) -> None:
        self.message.clear()
        self.buttons.setEnabled(True)
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setEnabled(False)

    def _code_ok(self, view: OperatorView) -> None:
        if view.must_change_password:
            self.pending = view
            self._go("new_password", self.new_password_page)
            self.new_password.setFocus()
            return
        self._typed_password = ""
        if self.enrol is not None and hasattr(self.enrol, "flush"):
            self.enrol.flush()  # codes kept before the session could record it
        self._done(view)

    def _change_password(self) -> None:
        if self.new_password.text() != self.new_again.text():
            self._step_failed(None, _("The two passwords differ."))
            return
        self.lane.submit(operators.change_password, self.ctx, self.pending.as_actor(),
                         self._typed_password, self.new_password.text(),
                         on_done=self._code_ok, on_error=self._step_failed)

    def _step_failed(self, exc: Exception | None, text: str | None = None) -> None:
        self.buttons.setEnabled(True)
        self.code.clear()
        self.new_password.clear()
        self.new_again.clear()
        if self.enrol is not None and not self.enrol.done:
            self.enrol.code.clear()
        self.message.setText(text or error_text(exc))
        if isinstance(exc, PermissionDenied) and self.stage != "new_password" \
                and not isinstance(exc, second_factor.SecondFactorRefused):
            self._restart()

    def _restart(self) -> None:
        """A refusal that is not about the code (e.g. a lock): back to the password."""
        self.stage, self.pending, self._typed_password = "password", None, ""
        self.stack.setCurrentIndex(0)


class FirstAdminDialog(_CredentialsDialog):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None,
                 prompter: Prompter | None = None) -> None:
        super().__init__(ctx, _("Hosho Desk: first administrator"),
                         _("This database has no operators yet. Create the first "
                           "administrator account (at least 12 characters of password)."),
                         parent)
        self.display_name = QLineEdit()
        self.display_name.setObjectName("display_name")
        self.again = _password_edit("password_again")
        self.form.insertRow(1, _("Full name"), self.display_name)
        self.form.addRow(_("Password again"), self.again)
        self.prompter = prompter or Prompter()
        # Tab goes down the form as it reads, then to OK.
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        cancel = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        chain = [self.login, self.display_name, self.password, self.again, ok, cancel]
        for first, second in pairwise(chain):
            self.setTabOrder(first, second)

    def reject(self) -> None:
        """Leaving the first start closes the program: ask first."""
        if self.prompter.confirm(self, _("Hosho Desk: first administrator"),
                                 _("Quit without creating the first administrator? The "
                                   "program will close.")):
            super().reject()

    def submit(self) -> None:
        if self.password.text() != self.again.text():
            self.message.setText(_("The two passwords differ."))
            return
        self.buttons.setEnabled(False)
        self.lane.submit(operators.create_first_admin, self.ctx, self.login.text(),
                         self.display_name.text(), self.password.text(),
                         on_done=self._done, on_error=self._failed)


def sign_in(ctx: AppContext) -> OperatorView | None:
    """The whole start-up sign-in, modal: None when the operator gave up."""
    if not operators.has_operators(ctx):
        first = FirstAdminDialog(ctx)
        if first.exec() != QDialog.DialogCode.Accepted or first.operator is None:
            return None
        # The first administrator enrols the second factor before anything else.
        from app.ui.enrol_dialog import EnrolDialog

        enrol = EnrolDialog(ctx, first.operator.as_actor())
        if enrol.exec() != QDialog.DialogCode.Accepted or not enrol.panel.done:
            return None
        return first.operator
    dialog = SignInDialog(ctx)
    dialog.show()
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    return dialog.operator
