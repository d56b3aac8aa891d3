"""Entering where a case's money goes: a bank account (bank and branch found by code or
name), a nanaco number, or the card whose charge is to be cancelled.

The service checks everything again; this form only helps the operator type it right.
A change of an existing destination must name how it was confirmed through the
contact on record, never through a contact given in the same call.
"""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QDate
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import ConflictError, ValidationError
from app.core.i18n import N_, _, error_text
from app.domain import banks
from app.domain.channels import PayoutKind, allowed_payout_kinds
from app.domain.payout import ACCOUNT_TYPES, PayoutDetails, japan_post_bank
from app.services.payout_details import Confirmation, ConfirmedVia, set_payout_details
from app.services.views import CaseView
from app.ui.desk import Desk
from app.ui.labels import PAYOUT_KIND_LABELS

CONFIRMED_LABELS = {
    ConfirmedVia.PHONE_ON_RECORD: N_("Called back the phone number on record"),
    ConfirmedVia.EMAIL_ON_RECORD: N_("Confirmed by the e-mail address on record"),
    ConfirmedVia.LETTER_ON_RECORD: N_("Confirmed by letter to the address on record"),
}


def _date_edit() -> QDateEdit:
    edit = QDateEdit()
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("yyyy/MM/dd")
    edit.setDate(QDate(2019, 8, 1))
    return edit


class PayoutDialog(QDialog):
    def __init__(self, desk: Desk, case: CaseView, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.desk, self.case = desk, case
        self.saved: CaseView | None = None
        self.conflict = False  # closed because someone else changed the case first
        desk.locally(banks.preload)  # the bank table loads while the operator reads
        self.setWindowTitle(_("Payout details") + f" — {case.case_number}")
        self.setMinimumWidth(560)
        self.kind = QComboBox()
        for kind in sorted(allowed_payout_kinds(case.channel), key=list(PAYOUT_KIND_LABELS).index):
            self.kind.addItem(_(PAYOUT_KIND_LABELS[kind]), kind.value)
        self.pages = QStackedWidget()
        self.pages.addWidget(self._bank_page())
        self.pages.addWidget(self._nanaco_page())
        self.pages.addWidget(self._card_page())
        self.kind.currentIndexChanged.connect(self._kind_changed)
        self.confirmed = QComboBox()
        self.confirmed.addItem(_("(new details: no confirmation needed)") if case.payout is None
                               else _("(choose how the change was confirmed)"), None)
        for via, label in CONFIRMED_LABELS.items():
            self.confirmed.addItem(_(label), via.value)
        self.message = QLabel()
        self.message.setObjectName("payout_message")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("QLabel { color: #a11; }")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.submit)
        buttons.rejected.connect(self.reject)
        self.buttons = buttons
        form = QFormLayout()
        form.addRow(_("Method"), self.kind)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.pages)
        if case.payout is not None:
            note = QLabel(_("This case already has payout details. A change of where the money "
                            "goes must be confirmed through the contact on record, and sends a "
                            "verified case back for verification."))
            note.setWordWrap(True)
            layout.addWidget(note)
            form2 = QFormLayout()
            form2.addRow(_("Confirmed how"), self.confirmed)
            layout.addLayout(form2)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        self._fill(case.payout)
        self._kind_changed()

    # -- the three pages -------------------------------------------------------------
    def _bank_page(self) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        self.bank_search = QLineEdit()
        self.bank_search.setPlaceholderText(_("Bank code or name, e.g. 0001 or みずほ"))
        self.bank = QComboBox()
        self.bank.setObjectName("bank")
        self.branch_search = QLineEdit()
        self.branch_search.setPlaceholderText(_("Branch code or name"))
        self.branch = QComboBox()
        self.branch.setObjectName("branch")
        self.account_type = QComboBox()
        for value, label in ACCOUNT_TYPES.items():
            self.account_type.addItem(label, value)
        self.account_number = QLineEdit()
        self.account_number.setPlaceholderText(_("7 digits"))
        self.holder_kana = QLineEdit()
        self.holder_kana.setPlaceholderText(_("Account holder in katakana, e.g. ヤマダ タロウ"))
        self.bank_search.textChanged.connect(self._find_banks)
        self.bank.currentIndexChanged.connect(lambda _i: self._find_branches())
        self.branch_search.textChanged.connect(lambda _t: self._find_branches())
        # A ゆうちょ銀行 passbook shows 記号・番号, not a branch and account: convert them.
        self.post_kigou = QLineEdit()
        self.post_kigou.setPlaceholderText(_("Japan Post Bank: 5-digit 記号"))
        self.post_bangou = QLineEdit()
        self.post_bangou.setPlaceholderText(_("Japan Post Bank: 番号"))
        post = QHBoxLayout()
        post.addWidget(self.post_kigou)
        post.addWidget(self.post_bangou)
        form.addRow(_("ゆうちょ 記号・番号"), post)
        form.addRow(_("Find bank"), self.bank_search)
        form.addRow(_("Bank"), self.bank)
        form.addRow(_("Find branch"), self.branch_search)
        form.addRow(_("Branch"), self.branch)
        form.addRow(_("Account type"), self.account_type)
        form.addRow(_("Account number"), self.account_number)
        form.addRow(_("Account holder (kana)"), self.holder_kana)
        return page

    def _nanaco_page(self) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        self.nanaco_number = QLineEdit()
        self.nanaco_number.setPlaceholderText(_("16 digits"))
        form.addRow(_("nanaco number"), self.nanaco_number)
        return page

    def _card_page(self) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        self.card_issuer = QLineEdit()
        self.card_last4 = QLineEdit()
        self.card_last4.setPlaceholderText(_("4 digits"))
        self.billing_date = _date_edit()
        self.payment_date = _date_edit()
        form.addRow(_("Card issuer"), self.card_issuer)
        form.addRow(_("Card last 4"), self.card_last4)
        form.addRow(_("Billing-confirmation date"), self.billing_date)
        form.addRow(_("Payment date"), self.payment_date)
        return page

    # -- lookups (zengin-code data held in memory) -------------------------------------
    def _find_banks(self, text: str) -> None:
        self.bank.clear()
        for entry in banks.find_banks(text.strip()) if text.strip() else []:
            self.bank.addItem(f"{entry.code} {entry.name}", entry.code)

    def _find_branches(self) -> None:
        self.branch.clear()
        code = self.bank.currentData()
        if code:
            for entry in banks.find_branches(code, self.branch_search.text().strip()):
                self.branch.addItem(f"{entry.code} {entry.name}", entry.code)

    def _kind_changed(self) -> None:
        order = [PayoutKind.BANK_ACCOUNT, PayoutKind.NANACO, PayoutKind.CARD_CANCELLATION]
        self.pages.setCurrentIndex(order.index(PayoutKind(self.kind.currentData())))

    def _fill(self, details: PayoutDetails | None) -> None:
        """Start from what is on file (masked numbers are not filled: they must be retyped)."""
        if details is None:
            return
        self.kind.setCurrentIndex(max(0, self.kind.findData(details.kind.value)))
        if details.bank_code:
            self.bank_search.setText(details.bank_code)
            if details.branch_code:
                self.branch_search.setText(details.branch_code)
        self.account_type.setCurrentIndex(max(0, self.account_type.findData(
            details.account_type)))
        self.holder_kana.setText(details.holder_kana or "")
        self.card_issuer.setText(details.card_issuer or "")
        self.card_last4.setText(details.card_last4 or "")
        for edit, day in ((self.billing_date, details.billing_confirmation_date),
                          (self.payment_date, details.payment_date)):
            if day:
                edit.setDate(QDate(day.year, day.month, day.day))

    # -- saving ----------------------------------------------------------------------
    def details(self) -> PayoutDetails:
        kind = PayoutKind(self.kind.currentData())
        if kind is PayoutKind.BANK_ACCOUNT and (self.post_kigou.text() or self.post_bangou.text()):
            return japan_post_bank(self.post_kigou.text(), self.post_bangou.text(),
                                   self.holder_kana.text().strip())
        if kind is PayoutKind.BANK_ACCOUNT:
            return PayoutDetails(
                kind, bank_code=self.bank.currentData(), branch_code=self.branch.currentData(),
                account_type=self.account_type.currentData(),
                account_number=self.account_number.text().strip() or None,
                holder_kana=self.holder_kana.text().strip() or None)
        if kind is PayoutKind.NANACO:
            return PayoutDetails(kind, nanaco_number=self.nanaco_number.text().strip() or None)
        return PayoutDetails(
            kind, card_issuer=self.card_issuer.text().strip() or None,
            card_last4=self.card_last4.text().strip() or None,
            billing_confirmation_date=_day(self.billing_date),
            payment_date=_day(self.payment_date))

    def submit(self) -> None:
        try:
            details = self.details()
        except ValidationError as exc:  # 記号・番号 that cannot be a ゆうちょ account
            self.message.setText(error_text(exc))
            return
        missing = details.missing_fields()
        if missing:
            self.message.setText(_("Please fill in: {fields}").format(
                fields=", ".join(_(FIELD_LABELS.get(name, name)) for name in missing)))
            return
        via = self.confirmed.currentData()
        confirmation = Confirmation(ConfirmedVia(via)) if via else None
        self.buttons.setEnabled(False)
        self.desk.act(set_payout_details, self.case.id, details, confirmation=confirmation,
                      expected_version=self.case.version, on_done=self._saved,
                      on_error=self._failed)

    def _saved(self, view: CaseView) -> None:
        self.saved = view
        self.accept()

    def _failed(self, exc: Exception) -> None:
        if isinstance(exc, ConflictError):
            # This form was built on the case as it was: close it, so that the case
            # (reloaded behind it) shows what the other desk saved.
            self.conflict = True
            self.desk.prompter.error(self, error_text(exc))
            self.reject()
            return
        self.buttons.setEnabled(True)
        self.message.setText(error_text(exc))


FIELD_LABELS = {
    "bank_code": N_("Bank"), "branch_code": N_("Branch"), "account_type": N_("Account type"),
    "account_number": N_("Account number"), "holder_kana": N_("Account holder (kana)"),
    "nanaco_number": N_("nanaco number"), "card_issuer": N_("Card issuer"),
    "card_last4": N_("Card last 4"), "billing_confirmation_date": N_("Billing-confirmation date"),
    "payment_date": N_("Payment date"),
}


def _day(edit: QDateEdit) -> date:
    value = edit.date()
    return date(value.year(), value.month(), value.day())
