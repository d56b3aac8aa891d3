"""A balance-refund application by phone (電話での払戻申出): the hotline operator types
what the caller says, checked by the applications file's own rules (the same fields,
parsers and reasons) and decided by the same table (app.services.refunds_intake).

The caller's own words are the application; identity is confirmed later, through
the contact on record, never through what the caller says here.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from app.core.i18n import N_, _, current_locale, error_text, format_yen
from app.services import refunds_intake
from app.services.refunds import ApplicationView
from app.ui.desk import Desk

FIELDS = (
    ("member_id", N_("Member ID (7iD)"), ""),
    ("name", N_("Name"), ""),
    ("name_kana", N_("Kana"), "ヤマダ タロウ"),
    ("phone", N_("Phone"), "090-1234-5678"),
    ("email", N_("E-mail"), ""),
    ("birth_date", N_("Date of birth"), "1980/01/02"),
    ("applied_at", N_("Applied at"), N_("now, unless the call was earlier")),
)
BANK_FIELDS = (
    ("bank_code", N_("Bank code"), "0001"),
    ("branch_code", N_("Branch code"), "001"),
    ("account_number", N_("Account number"), "1234567"),
    ("account_holder_kana", N_("Account holder (kana)"), "ヤマダ タロウ"),
)
METHODS = (("bank_transfer", N_("Bank transfer")), ("postal_order", N_("Postal money order")))
ACCOUNT_TYPES = (("ordinary", N_("Ordinary")), ("current", N_("Current")),
                 ("savings", N_("Savings")))


class RefundIntakeDialog(QDialog):
    def __init__(self, desk: Desk, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.desk = desk
        self.created: ApplicationView | None = None
        self.setWindowTitle(_("Balance refund: application by phone"))
        self.setMinimumWidth(520)
        self.programme = QLabel(_("Balance refund programme"))
        self.programme.setObjectName("programme")
        self.programme.setStyleSheet("font-weight: bold; color: #1b5e20;")
        self.edits: dict[str, QLineEdit] = {}
        form = QFormLayout()
        self.form = form
        for key, label, hint in FIELDS:
            self._edit(form, key, label, hint)
        self.method = QComboBox()
        self.method.setObjectName("refund_intake_method")
        for value, label in METHODS:
            self.method.addItem(_(label), value)
        self.method.currentIndexChanged.connect(self._method_changed)
        form.addRow(_("Refund method"), self.method)
        self.account_type = QComboBox()
        self.account_type.setObjectName("refund_intake_account_type")
        for value, label in ACCOUNT_TYPES:
            self.account_type.addItem(_(label), value)
        for key, label, hint in BANK_FIELDS[:2]:
            self._edit(form, key, label, hint)
        form.addRow(_("Account type"), self.account_type)
        for key, label, hint in BANK_FIELDS[2:]:
            self._edit(form, key, label, hint)
        self.message = QLabel()
        self.message.setObjectName("refund_intake_message")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #b00020")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.programme)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)

    def _edit(self, form: QFormLayout, key: str, label: str, hint: str) -> None:
        edit = QLineEdit()
        edit.setObjectName(f"refund_intake_{key}")
        edit.setPlaceholderText(_(hint) if hint else "")
        self.edits[key] = edit
        form.addRow(_(label), edit)

    def _method_changed(self) -> None:
        bank = self.method.currentData() == "bank_transfer"
        for key, _label, _hint in BANK_FIELDS:
            self.form.setRowVisible(self.edits[key], bank)
        self.form.setRowVisible(self.account_type, bank)

    def read_form(self) -> dict[str, str]:
        values = {key: edit.text().strip() for key, edit in self.edits.items()}
        values["method"] = self.method.currentData()
        if values["method"] == "bank_transfer":
            values["account_type"] = self.account_type.currentData()
        else:
            for key, _label, _hint in BANK_FIELDS:
                values.pop(key)
        if not values["applied_at"]:
            values.pop("applied_at")  # the service stamps the call's time
        return {key: value for key, value in values.items() if value}

    def submit(self) -> None:
        self.message.setText("")
        self.desk.act(refunds_intake.take_phone_application, self.read_form(),
                      on_done=self._saved, on_error=self._failed)

    def _failed(self, exc: Exception) -> None:
        problems = getattr(exc, "problems", None)
        if not problems:
            self.message.setText(error_text(exc))
            return
        labels = {key: label for key, label, _hint in (*FIELDS, *BANK_FIELDS)}
        labels["phone/email"] = N_("Phone or e-mail")
        lines = []
        for field, (ja, en) in problems.items():
            where = _(labels[field]) if field in labels else field
            lines.append(f"{where}: {ja if current_locale() == 'ja' else en}")
        self.message.setText("\n".join(lines))

    def _saved(self, view: ApplicationView) -> None:
        self.created = view
        amount = "" if view.refundable_amount is None else format_yen(view.refundable_amount)
        self.message.setStyleSheet("color: #1b5e20")
        self.message.setText(f"{view.application_id}: {view.state_label} {amount}".strip())
        self.accept()
