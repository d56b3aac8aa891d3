"""A person's page: the same person in both programmes, side by side.

Opened from a case (its victim) or from a refund application (its member): the
compensation cases and the refund applications, each with its state and what the
programme has paid and will pay, and the two together (app.services.people). Each
half carries its programme's name and colour, as the pages do.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QGroupBox,
    QLabel,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from app.core.i18n import N_, _, error_text, format_moment, format_yen
from app.domain.channels import Channel
from app.domain.refunds import RefundState
from app.domain.states import Status
from app.services import people
from app.services.people import Person
from app.ui.desk import Desk
from app.ui.import_page import STATE_LABELS
from app.ui.labels import channel_label, status_label
from app.ui.tables import fill_table, make_table

COMPENSATION_COLOUR = "#0d47a1"
REFUND_COLOUR = "#1b5e20"
ROUTES = {"app": N_("App"), "web": N_("Web form"), "phone": N_("Phone call")}


def programme_badge(text: str, colour: str, name: str) -> QLabel:
    """The programme's name in its colour: on the pages, the case and the person."""
    badge = QLabel(text)
    badge.setObjectName(name)
    badge.setStyleSheet(f"QLabel {{ color: white; background: {colour}; font-weight: bold; "
                        "padding: 2px 8px; border-radius: 3px; }")
    badge.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
    return badge


class PersonDialog(QDialog):
    loaded = Signal()

    def __init__(self, desk: Desk, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.desk = desk
        self.person: Person | None = None
        self.setWindowTitle(_("Person in both programmes"))
        self.resize(900, 620)
        self.heading = QLabel()
        self.heading.setObjectName("person_heading")
        self.heading.setTextFormat(Qt.TextFormat.RichText)
        self.cases = make_table("person_cases", (
            N_("Case number"), N_("Channel"), N_("Status"), N_("Claimed"), N_("Paid so far"),
            N_("To pay")), (130, 200, 120, 110, 110), single=True, wrap=False)
        self.case_totals = QLabel()
        self.case_totals.setObjectName("person_case_totals")
        self.applications = make_table("person_applications", (
            N_("Application"), N_("Route"), N_("Applied"), N_("State"), N_("Refundable"),
            N_("Paid so far"), N_("To pay")), (120, 110, 150, 150, 100, 100), single=True,
            wrap=False)
        self.balance = QLabel()
        self.balance.setObjectName("person_balance")
        self.refund_totals = QLabel()
        self.refund_totals.setObjectName("person_refund_totals")
        self.together = QLabel()
        self.together.setObjectName("person_together")
        self.together.setStyleSheet("font-weight: bold;")
        self.message = QLabel()
        self.message.setObjectName("person_message")
        self.message.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self._half(_("Compensation"), COMPENSATION_COLOUR,
                                    "programme_compensation", self.cases, self.case_totals))
        layout.addWidget(self._half(_("Balance refund"), REFUND_COLOUR, "programme_refund",
                                    self.balance, self.applications, self.refund_totals))
        layout.addWidget(self.together)
        layout.addWidget(self.message)
        layout.addWidget(buttons)

    @staticmethod
    def _half(title: str, colour: str, name: str, *widgets: QWidget) -> QGroupBox:
        box = QGroupBox()
        box.setObjectName(f"{name}_box")
        inner = QVBoxLayout(box)
        inner.addWidget(programme_badge(title, colour, name))
        for widget in widgets:
            inner.addWidget(widget, 1 if widget.inherits("QTableWidget") else 0)
        return box

    # -- loading -----------------------------------------------------------------
    def load_case(self, case_id: int) -> None:
        self.desk.call(people.person_for_case, case_id, on_done=self.show_person,
                       on_error=self._error)

    def load_application(self, application_ref: int) -> None:
        self.desk.call(people.person_for_application, application_ref,
                       on_done=self.show_person, on_error=self._error)

    def show_person(self, person: Person) -> None:
        self.person = person
        member = (_("Member ID (7iD) {member}").format(member=person.member_id)
                  if person.member_id else _("No member ID on record"))
        self.heading.setText(f"<p style='font-size:15pt; margin:0'><b>{person.name}</b>"
                             f"　{member}</p>")
        fill_table(self.cases, [[c.case_number, channel_label(Channel(c.channel)),
                                 status_label(Status(c.status)), format_yen(c.claimed),
                                 format_yen(c.paid), format_yen(c.due)]
                                for c in person.cases],
                   right=(3, 4, 5), data=[c.case_id for c in person.cases])
        self.case_totals.setText(
            _("Compensation has paid {paid} and will pay {due}.").format(
                paid=format_yen(person.compensation_paid), due=format_yen(person.compensation_due))
            if person.cases else _("No compensation case for this person."))
        if person.balance is None:
            self.balance.setText(_("No closing balance on record for this person."))
        else:
            text = _("Closing balance {balance}").format(balance=format_yen(person.balance))
            if person.fraud_charge_balance is not None:
                text += "　" + _("of which from fraudulent charges {amount}").format(
                    amount=format_yen(person.fraud_charge_balance))
            self.balance.setText(text)
        fill_table(self.applications, [
            [a.application_id, _(ROUTES.get(a.route, a.route)), format_moment(a.applied_at),
             _(STATE_LABELS[RefundState(a.state)]),
             "" if a.refundable is None else format_yen(a.refundable), format_yen(a.paid),
             format_yen(a.due)] for a in person.applications],
            right=(4, 5, 6), data=[a.id for a in person.applications])
        self.refund_totals.setText(
            _("The refund has paid {paid} and will pay {due}.").format(
                paid=format_yen(person.refund_paid), due=format_yen(person.refund_due))
            if person.applications else _("No refund application for this person."))
        self.together.setText(_("Both programmes together: paid {paid}, will pay {due}.").format(
            paid=format_yen(person.compensation_paid + person.refund_paid),
            due=format_yen(person.compensation_due + person.refund_due)))
        self.message.setText("")
        self.loaded.emit()

    def _error(self, exc: Exception) -> None:
        self.message.setText(error_text(exc))
        self.loaded.emit()
