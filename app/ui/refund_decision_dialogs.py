"""The refund page's dialogs for its decisions: matching an unmatched application to a
closing-balance member, a 払出証書 issued, and a new payout method after a returned
certificate (the compensation payout form's bank lookup, app.ui.payout_dialog).

Each acts through the desk only; the services check everything again and audit it.
"""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import ValidationError
from app.core.i18n import N_, _, error_text, format_yen
from app.domain import banks
from app.domain.channels import PayoutKind
from app.domain.payout import PayoutDetails, japan_post_bank
from app.domain.refunds import IDENTITY_HOW, Method
from app.services import refunds
from app.ui.desk import Desk
from app.ui.payout_dialog import FIELD_LABELS, PayoutDialog

MEMBER_HEADERS = (N_("Member ID"), N_("Name"), N_("Kana"), N_("Phone on record"),
                  N_("Balance"), N_("Closed on"))
METHOD_LABELS = {Method.BANK_TRANSFER: N_("Bank transfer"),
                 Method.POSTAL_ORDER: N_("Postal money order (払出証書)")}
HOW_LABELS = {"phone_on_record": N_("Called the phone number on record"),
              "email_on_record": N_("By the e-mail address on record"),
              "letter_to_address": N_("By a letter to the address on record")}


def _message() -> QLabel:
    label = QLabel()
    label.setObjectName("message")
    label.setWordWrap(True)
    label.setStyleSheet("QLabel { color: #a11; }")
    return label


class _DecisionDialog(QDialog):
    """A decision's form: its problems in red under the fields, the buttons off while
    the desk works, back on (with the refusal said) when it is refused."""

    def _close_form(self, layout: QVBoxLayout,
                    accept: QDialogButtonBox.StandardButton = QDialogButtonBox.StandardButton.Save,
                    accept_text: str | None = None) -> None:
        self.message = _message()
        layout.addWidget(self.message)
        self.buttons = QDialogButtonBox(accept | QDialogButtonBox.StandardButton.Cancel)
        if accept_text:
            self.buttons.button(accept).setText(accept_text)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)

    def _failed(self, exc: Exception) -> None:
        self.buttons.setEnabled(True)
        self.message.setText(error_text(exc))


class MatchMemberDialog(_DecisionDialog):
    """Find the member of an unmatched application among the closing balances (by member
    ID, name or phone), say why it is that member, and match it."""

    def __init__(self, desk: Desk, application: refunds.ApplicationView | None,
                 application_ref: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.desk, self.application_ref = desk, application_ref
        self.matched: refunds.ApplicationView | None = None
        self.found: list[refunds.MemberFound] = []
        number = application.application_id if application else str(application_ref)
        self.setWindowTitle(_("Match to a member") + f" — {number}")
        self.setMinimumWidth(820)
        layout = QVBoxLayout(self)
        if application is not None:
            layout.addWidget(QLabel(_("Application {number}: {name}").format(
                number=application.application_id, name=application.name)))
        row = QHBoxLayout()
        self.search = QLineEdit(application.name if application else "")
        self.search.setObjectName("member_search")
        self.search.setPlaceholderText(_("Member ID, name, kana or phone"))
        self.search.returnPressed.connect(self.find)
        self.search_button = QPushButton(_("Search"))
        self.search_button.clicked.connect(self.find)
        row.addWidget(self.search, 1)
        row.addWidget(self.search_button)
        layout.addLayout(row)
        self.results = QTableWidget(0, len(MEMBER_HEADERS))
        self.results.setObjectName("members_found")
        self.results.setHorizontalHeaderLabels([_(h) for h in MEMBER_HEADERS])
        self.results.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.results.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.results.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.results.verticalHeader().setVisible(False)
        self.results.horizontalHeader().setStretchLastSection(True)
        for column, width in enumerate((130, 130, 150, 140, 100)):
            self.results.setColumnWidth(column, width)
        layout.addWidget(self.results, 1)
        form = QFormLayout()
        self.reason = QLineEdit()
        self.reason.setObjectName("match_reason")
        self.reason.setPlaceholderText(_("e.g. the member ID read out on the phone on record"))
        form.addRow(_("Why this member"), self.reason)
        layout.addLayout(form)
        self._close_form(layout, QDialogButtonBox.StandardButton.Ok, _("Match"))
        self.resize(860, 440)
        if self.search.text():
            self.find()

    def find(self) -> None:
        self.desk.call(refunds.find_members, self.search.text(), on_done=self._show,
                       on_error=lambda exc: self.message.setText(error_text(exc)))

    def _show(self, found: list[refunds.MemberFound]) -> None:
        self.found = found
        self.results.setRowCount(len(found))
        for index, m in enumerate(found):
            values = (m.member_id, m.name or "", m.name_kana or "", m.phone or "",
                      format_yen(m.balance), m.closed_on.isoformat() if m.closed_on else "")
            for column, value in enumerate(values):
                item = QTableWidgetItem(value)
                item.setData(Qt.ItemDataRole.UserRole, m.member_id)
                self.results.setItem(index, column, item)
        self.message.setText("" if found else _("No member found: try the member ID or "
                                                "the phone number."))

    def chosen(self) -> str | None:
        row = self.results.currentRow()
        item = self.results.item(row, 0) if row >= 0 else None
        return item.data(Qt.ItemDataRole.UserRole) if item else None

    def submit(self) -> None:
        self.message.clear()
        member_id = self.chosen()
        if member_id is None:
            self.message.setText(_("Choose the member in the list first."))
            return
        if not self.reason.text().strip():
            self.message.setText(_("Say why the application is this member's."))
            return
        self.buttons.setEnabled(False)
        self.desk.act(refunds.match_member, self.application_ref, member_id,
                      self.reason.text().strip(), on_done=self._matched, on_error=self._failed)

    def _matched(self, view: refunds.ApplicationView) -> None:
        self.matched = view
        self.accept()

class PostalIssuedDialog(_DecisionDialog):
    """Japan Post issued the certificate: its number and the day it can be cashed by."""

    def __init__(self, desk: Desk, view: refunds.PostalView, today: date,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.desk, self.view = desk, view
        self.done_ok = False
        self.setWindowTitle(_("Postal money order issued") + f" — {view.application_id}")
        self.setMinimumWidth(460)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(_("{number}: {name}, {amount}").format(
            number=view.application_id, name=view.name,
            amount=format_yen(view.refundable_amount or 0))))
        form = QFormLayout()
        self.number = QLineEdit()
        self.number.setObjectName("certificate_number")
        self.expires = QDateEdit()
        self.expires.setObjectName("expires_on")
        self.expires.setCalendarPopup(True)
        self.expires.setDisplayFormat("yyyy/MM/dd")
        later = QDate(today.year, today.month, today.day).addMonths(6)
        self.expires.setDate(later)
        form.addRow(_("Certificate number"), self.number)
        form.addRow(_("Can be cashed until"), self.expires)
        layout.addLayout(form)
        self._close_form(layout)

    def submit(self) -> None:
        self.message.clear()
        number = self.number.text().strip()
        if not number:
            self.message.setText(_("Enter the certificate number."))
            return
        day = self.expires.date()
        self.buttons.setEnabled(False)
        self.desk.act(refunds.postal_issued, self.view.id, number,
                      date(day.year(), day.month(), day.day()), on_done=self._saved,
                      on_error=self._failed)

    def _saved(self, _value) -> None:
        self.done_ok = True
        self.accept()

class RefundMethodDialog(_DecisionDialog):
    """A new payout method after a returned 払出証書: a bank transfer to an account in the
    member's name (the compensation payout form's bank lookup) or a new 払出証書,
    confirmed through the contact on record."""

    # The bank page and its lookups are the compensation payout form's own.
    _bank_page = PayoutDialog._bank_page
    _find_banks = PayoutDialog._find_banks
    _find_branches = PayoutDialog._find_branches

    def __init__(self, desk: Desk, view: refunds.PostalView,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.desk, self.view = desk, view
        self.saved: refunds.ApplicationView | None = None
        desk.locally(banks.preload)
        self.setWindowTitle(_("New payout method") + f" — {view.application_id}")
        self.setMinimumWidth(560)
        self.method = QComboBox()
        self.method.setObjectName("method")
        for method, label in METHOD_LABELS.items():
            self.method.addItem(_(label), method.value)
        self.pages = QStackedWidget()
        self.pages.addWidget(self._bank_page())
        postal = QLabel(_("A new 払出証書 goes on the next request list for Japan Post, "
                          "to the address on record."))
        postal.setWordWrap(True)
        self.pages.addWidget(postal)
        self.method.currentIndexChanged.connect(
            lambda index: self.pages.setCurrentIndex(index))
        self.how = QComboBox()
        self.how.setObjectName("how")
        self.how.addItem(_("(choose how the new method was confirmed)"), None)
        for how in IDENTITY_HOW:
            self.how.addItem(_(HOW_LABELS[how]), how)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(_("{number}: {name}, {amount}").format(
            number=view.application_id, name=view.name,
            amount=format_yen(view.refundable_amount or 0))))
        form = QFormLayout()
        form.addRow(_("Method"), self.method)
        layout.addLayout(form)
        layout.addWidget(self.pages)
        form2 = QFormLayout()
        form2.addRow(_("Confirmed how"), self.how)
        layout.addLayout(form2)
        self._close_form(layout)

    def _account(self) -> PayoutDetails:
        if self.post_kigou.text() or self.post_bangou.text():
            return japan_post_bank(self.post_kigou.text(), self.post_bangou.text(),
                                   self.holder_kana.text().strip())
        return PayoutDetails(PayoutKind.BANK_ACCOUNT, bank_code=self.bank.currentData(),
                             branch_code=self.branch.currentData(),
                             account_type=self.account_type.currentData(),
                             account_number=self.account_number.text().strip() or None,
                             holder_kana=self.holder_kana.text().strip() or None)

    def submit(self) -> None:
        self.message.clear()
        how = self.how.currentData()
        if how is None:
            self.message.setText(_("Say how the new method was confirmed through the contact "
                                   "on record."))
            return
        method = self.method.currentData()
        account: dict = {}
        if method == Method.BANK_TRANSFER.value:
            try:
                details = self._account()
            except ValidationError as exc:
                self.message.setText(error_text(exc))
                return
            missing = details.missing_fields()
            if missing:
                self.message.setText(_("Please fill in: {fields}").format(
                    fields=", ".join(_(FIELD_LABELS.get(n, n)) for n in missing)))
                return
            account = dict(bank_code=details.bank_code, branch_code=details.branch_code,
                           account_type=details.account_type,
                           account_number=details.account_number,
                           holder_kana=details.holder_kana)
        self.buttons.setEnabled(False)
        self.desk.act(refunds.change_method, self.view.id, method, how=how, **account,
                      on_done=self._saved, on_error=self._failed)

    def _saved(self, view: refunds.ApplicationView) -> None:
        self.saved = view
        self.accept()
