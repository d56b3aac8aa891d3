"""Sign-in, and the first administrator on an empty database."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from app.core.i18n import _, error_text
from app.services import operators
from app.services.context import AppContext
from app.services.operators import OperatorView
from app.ui.lane import ServiceLane


class _CredentialsDialog(QDialog):
    def __init__(self, ctx: AppContext, title: str, intro: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.lane = ServiceLane(self)
        self.operator: OperatorView | None = None
        self.setWindowTitle(title)
        self.setMinimumWidth(420)
        self.intro = QLabel(intro)
        self.intro.setWordWrap(True)
        self.login = QLineEdit()
        self.login.setObjectName("login")
        self.password = QLineEdit()
        self.password.setObjectName("password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
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
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addLayout(self.form)
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


class SignInDialog(_CredentialsDialog):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, _("Hosho Desk: sign in"),
                         _("Sign in with your operator name and password."), parent)

    def submit(self) -> None:
        self.buttons.setEnabled(False)
        self.message.setText(_("Checking…"))
        self.lane.submit(operators.authenticate, self.ctx, self.login.text(),
                         self.password.text(), on_done=self._done, on_error=self._failed)


class FirstAdminDialog(_CredentialsDialog):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, _("Hosho Desk: first administrator"),
                         _("This database has no operators yet. Create the first "
                           "administrator account (at least 12 characters of password)."),
                         parent)
        self.display_name = QLineEdit()
        self.display_name.setObjectName("display_name")
        self.again = QLineEdit()
        self.again.setObjectName("password_again")
        self.again.setEchoMode(QLineEdit.EchoMode.Password)
        self.form.insertRow(1, _("Full name"), self.display_name)
        self.form.addRow(_("Password again"), self.again)

    def submit(self) -> None:
        if self.password.text() != self.again.text():
            self.message.setText(_("The two passwords differ."))
            return
        self.buttons.setEnabled(False)
        self.lane.submit(operators.create_first_admin, self.ctx, self.login.text(),
                         self.display_name.text(), self.password.text(),
                         on_done=self._done, on_error=self._failed)
