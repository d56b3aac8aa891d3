"""Sign-in at a centre server (``hosho --server URL``): the same dialog and steps as
the single desk's (app.ui.signin), each step checked by the server, which keeps the
session; the desk keeps only its token."""

from __future__ import annotations

from datetime import UTC, datetime

from PySide6.QtWidgets import QDialog, QWidget

from app.core.errors import HoshoError
from app.core.i18n import _
from app.remote.gateway import RemoteGateway
from app.services import second_factor
from app.services.operators import OperatorView
from app.ui.enrol_dialog import EnrolPanel
from app.ui.signin import SignInDialog


class RemoteEnrolPanel(EnrolPanel):
    """Enrolment through the server's pending session."""

    def __init__(self, gateway: RemoteGateway, lane, parent: QWidget | None = None) -> None:
        super().__init__(None, gateway.actor, lane, parent)
        self.gateway = gateway
        self.deferred: list = []
        self._confirmed_at: datetime | None = None

    def start(self, on_error) -> None:
        self.lane.submit(self.gateway.begin_enrolment, on_done=self._show, on_error=on_error)

    def confirm(self, on_error) -> None:
        self.lane.submit(self._confirm_at_server, self.code.text(),
                         on_done=self._confirmed, on_error=on_error)

    def _confirm_at_server(self, code: str) -> list[str]:
        """On the lane: the codes, and the server's time they were made at (the sheet
        of codes is dated with it), so that nothing asks the server on the GUI thread."""
        codes = self.gateway.confirm_enrolment(code)
        try:
            self._confirmed_at = self.gateway.now()
        except HoshoError:  # out of reach a moment: the sheet carries this desk's time
            self._confirmed_at = None
        return codes

    def now(self):
        return self._confirmed_at or datetime.now(UTC)

    def record_kept(self, how: str, on_done, on_error) -> None:
        """At the server, through the session's gateway. A session still to choose a
        new password cannot call services yet: kept codes are recorded once it can."""
        if self.gateway.stage != "active":
            self.deferred.append((how, on_done, on_error))
            return
        self.lane.submit(self.gateway.write, second_factor.record_recovery_codes_kept, how,
                         on_done=on_done, on_error=on_error)

    def flush(self) -> None:
        for how, on_done, on_error in self.deferred:
            self.lane.submit(self.gateway.write, second_factor.record_recovery_codes_kept,
                             how, on_done=on_done, on_error=on_error)
        self.deferred = []


class RemoteSignInDialog(SignInDialog):
    def __init__(self, gateway: RemoteGateway, parent: QWidget | None = None) -> None:
        super().__init__(None, parent)
        self.gateway = gateway
        self.setWindowTitle(_("Hosho Desk: sign in") + f" — {gateway.url}")

    def submit(self) -> None:
        if self.stage == "password":
            self.buttons.setEnabled(False)
            self.message.setText(_("Checking…"))
            self._typed_password = self.password.text()
            self.lane.submit(self.gateway.sign_in, self.login.text(), self._typed_password,
                             on_done=self._password_ok, on_error=self._failed)
        elif self.stage == "code":
            self.buttons.setEnabled(False)
            self.message.setText(_("Checking…"))
            self.lane.submit(self.gateway.verify_code, self.code.text(),
                             on_done=self._code_ok, on_error=self._step_failed)
        else:
            super().submit()

    def _password_ok(self, view: OperatorView) -> None:
        if view.totp_required and not view.totp_enrolled:
            self.pending = view
            self.password.clear()
            self.enrol = RemoteEnrolPanel(self.gateway, self.lane)
            self.enrol.keep.prompter = self.prompter
            self.enrol.enrolled.connect(lambda _codes: self._enrolled())
            self.stack.addWidget(self.enrol)
            self._go("enrol", self.enrol)
            self.enrol.start(self._step_failed)
            return
        super()._password_ok(view)

    def _change_password(self) -> None:
        if self.new_password.text() != self.new_again.text():
            self._step_failed(None, _("The two passwords differ."))
            return
        self.lane.submit(self.gateway.change_password, self._typed_password,
                         self.new_password.text(), on_done=self._code_ok,
                         on_error=self._step_failed)


def sign_in_remote(gateway: RemoteGateway) -> OperatorView | None:
    """The start-up sign-in at the server, modal: None when the operator gave up."""
    dialog = RemoteSignInDialog(gateway)
    dialog.show()
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    return dialog.operator
