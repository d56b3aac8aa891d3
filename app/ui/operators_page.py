"""Operator accounts, for administrators: add, deactivate, reset a password or a
second factor, with the rules and audit of the ``hosho operator`` commands and a
fresh authenticator code before each (app.services.operator_admin)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.i18n import N_, _, error_text, format_moment
from app.domain.roles import Role
from app.services import operator_admin, operators
from app.ui.desk import Desk
from app.ui.labels import role_label
from app.ui.step_up import ask_fresh_code

HEADERS = (N_("Operator name"), N_("Full name"), N_("Role"), N_("Active"),
           N_("Authenticator"), N_("Added"))


class AddOperatorDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(_("Add an operator"))
        self.login = QLineEdit(objectName="new_login")
        self.display_name = QLineEdit(objectName="new_display_name")
        self.role = QComboBox(objectName="new_role")
        for role in Role:
            self.role.addItem(role_label(role), role.value)
        form = QFormLayout()
        form.addRow(_("Operator name"), self.login)
        form.addRow(_("Full name"), self.display_name)
        form.addRow(_("Role"), self.role)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(_("A one-time password is made; the operator chooses their "
                                  "own at the first sign-in.")))
        layout.addLayout(form)
        layout.addWidget(buttons)


class OperatorsPage(QWidget):
    loaded = Signal()

    def __init__(self, desk: Desk, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.desk = desk
        self.rows: list[operators.OperatorView] = []
        self.table = QTableWidget(0, len(HEADERS), objectName="operators_table")
        self.table.setHorizontalHeaderLabels([_(h) for h in HEADERS])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        for column, width in enumerate((110, 130, 140, 70, 100)):
            self.table.setColumnWidth(column, width)
        self.buttons = {}
        row = QHBoxLayout()
        for key, text, slot in (("add", _("Add…"), self.add),
                                ("deactivate", _("Deactivate"), self.deactivate),
                                ("reset_password", _("Reset password"), self.reset_password),
                                ("reset_second_factor", _("Reset authenticator"),
                                 self.reset_second_factor)):
            button = QPushButton(text, objectName=f"operators_{key}")
            button.clicked.connect(slot)
            self.buttons[key] = button
            row.addWidget(button)
        row.addStretch(1)
        self.note = QLabel(objectName="operators_note")
        self.note.setWordWrap(True)
        self.note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # The centre server's sessions are listed here once it serves them.
        self.sessions = QLabel(_("Sessions: listed here when the desk runs against a "
                                 "centre server."), objectName="operators_sessions")
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.note)
        layout.addWidget(self.sessions)
        self.refresh()

    def refresh(self) -> None:
        self.desk.call(operators.list_operators, on_done=self._show, on_error=self._error)

    def _show(self, rows: list[operators.OperatorView]) -> None:
        self.rows = rows
        self.table.setRowCount(len(rows))
        for index, view in enumerate(rows):
            values = (view.login, view.display_name, role_label(view.role),
                      _("yes") if view.active else _("no"),
                      _("enrolled") if view.totp_enrolled else _("not enrolled"),
                      format_moment(view.created_at))
            for column, value in enumerate(values):
                self.table.setItem(index, column, QTableWidgetItem(value))
        self.loaded.emit()

    def _error(self, exc: Exception) -> None:
        self.desk.prompter.error(self, error_text(exc))

    def selected(self) -> operators.OperatorView | None:
        index = self.table.currentRow()
        return self.rows[index] if 0 <= index < len(self.rows) else None

    def _code(self, confirm: str | None = None) -> str | None:
        """After the confirmation, a fresh code: "" where the role gives none, None when
        the administrator cancelled."""
        if confirm and not self.desk.prompter.confirm(self, _("Operators"), confirm):
            return None
        return ask_fresh_code(self, self.desk)

    def _done(self, then=None):
        return lambda result: (then(result) if then else None, self.refresh())

    def add(self) -> None:
        dialog = AddOperatorDialog(self)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        self.add_operator(dialog.login.text(), dialog.display_name.text(),
                          Role(dialog.role.currentData()))

    def add_operator(self, login: str, display_name: str, role: Role) -> None:
        code = self._code()
        if code is not None:
            self.desk.act(operator_admin.add, login, display_name, role, code or None,
                          on_done=self._done(lambda result: self._one_time(
                              result[0].login, result[1])), on_error=self._error)

    def _one_time(self, login: str, password: str) -> None:
        self.note.setText(_("One-time password for {login}: {password} (to be changed at "
                            "the first sign-in)").format(login=login, password=password))

    def deactivate(self) -> None:
        view = self.selected()
        if view is not None:
            code = self._code(_("Deactivate {login}? Their sessions end.").format(
                login=view.login))
            if code is not None:
                self.desk.act(operator_admin.set_active, view.login, False, code or None,
                              on_done=self._done(), on_error=self._error)

    def reset_password(self) -> None:
        view = self.selected()
        if view is not None:
            code = self._code(_("Reset the password of {login}?").format(login=view.login))
            if code is not None:
                self.desk.act(operator_admin.reset_password, view.login, code or None,
                              on_done=self._done(lambda password: self._one_time(
                                  view.login, password)), on_error=self._error)

    def reset_second_factor(self) -> None:
        view = self.selected()
        if view is not None:
            code = self._code(_("Reset the authenticator of {login}? They enrol again at "
                                "the next sign-in.").format(login=view.login))
            if code is not None:
                self.desk.act(operator_admin.reset_second_factor, view.login, code or None,
                              on_done=self._done(), on_error=self._error)
