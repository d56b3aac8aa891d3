"""The balance-refund programme's page (残高払戻し): its figures, the imports of the two
files (checked first, then committed), the work lists, and the people with money in
both programmes. The programme's name heads the page, so no one mistakes it for a
compensation page."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.core.i18n import (
    N_,
    _,
    current_locale,
    error_text,
    format_moment,
    format_yen,
    one_language,
)
from app.domain.refunds import IDENTITY_HOW, WORK_LISTS
from app.domain.roles import Role
from app.services import refunds, refunds_overlap, refunds_stats
from app.ui.desk import Desk
from app.ui.person_dialog import REFUND_COLOUR, PersonDialog, programme_badge
from app.ui.refresh import follow_changes, touches_refunds
from app.ui.refund_intake_dialog import RefundIntakeDialog
from app.ui.step_up import ask_fresh_code

LIST_TITLES = {"unmatched": N_("Member not found"),
               "awaiting_identity": N_("Awaiting identity check"),
               "late": N_("After the deadline"),
               "held_overlap": N_("Held: overlaps compensation")}
LIST_HEADERS = (N_("Application"), N_("Member ID"), N_("Name"), N_("Route"), N_("Applied"),
                N_("Refundable"), N_("Reason"))
BOTH_HEADERS = (N_("Member ID"), N_("Name"), N_("Charges"), N_("Balance"),
                N_("Compensation paid and due"), N_("Refund paid and due"), N_("Allowed"),
                N_("Excess"))
ROUTE_LABELS = {"app": N_("App"), "web": N_("Web form"), "phone": N_("Phone call")}
HOW_LABELS = {"phone_on_record": N_("Called the phone number on record"),
              "email_on_record": N_("By the e-mail address on record"),
              "letter_to_address": N_("By a letter to the address on record")}


def figures_text(figures: dict) -> str:
    """The programme's figures in one line (this page and the dashboard)."""
    states = figures["states"]
    refused = sum(states[s] for s in ("refused", "refused_closed", "refused_no_balance"))
    return _(
        "Members {members}, balances {balance}; applications {applications} "
        "(paid {paid}, refused {refused}); refundable {refundable}, refunded {refunded}"
    ).format(members=f"{figures['members']:,}", balance=format_yen(figures["balance_total"]),
             applications=f"{figures['applications']:,}", paid=f"{states['paid']:,}",
             refused=f"{refused:,}", refundable=format_yen(figures["refundable_total"]),
             refunded=format_yen(figures["refunded_total"]))


def demo_day_text(as_of: str | None) -> str:
    """In a demo, the day the refund programme stands on (its own: its applications
    only open on 1 October 2019), from the figures; outside a demo nothing."""
    if not as_of:
        return ""
    day = date.fromisoformat(as_of)
    shown = (f"{day.year}年{day.month}月{day.day}日" if current_locale() == "ja"
             else f"{day.day} {day:%b %Y}")
    return _("Demo: applications as of {day} (the balance refund works on this day; "
             "compensation on the demo time in the status bar)").format(day=shown)


def _reason(text: str | None) -> str:
    """A stored reason is "Japanese / English": shown in the interface's language."""
    ja, _sep, en = (text or "").partition(" / ")
    return one_language(ja, en or ja)


def _table(name: str, headers: tuple[str, ...], widths: tuple[int, ...] = ()) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setObjectName(name)
    table.setHorizontalHeaderLabels([_(h) for h in headers])
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.verticalHeader().setVisible(False)
    table.horizontalHeader().setStretchLastSection(True)
    for column, width in enumerate(widths):
        table.setColumnWidth(column, width)
    return table


class RefundsPage(QWidget):
    title = "Balance refund"
    loaded = Signal()
    # The operator asks to import "balances" or "applications": the window opens the wizard.
    import_wanted = Signal(str)

    def __init__(self, desk: Desk, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.desk = desk
        self._build()
        follow_changes(self, desk, touches_refunds, self.refresh)
        self.refresh()

    # -- layout ------------------------------------------------------------------
    def _build(self) -> None:
        layout = QVBoxLayout(self)
        self.programme = QLabel(_("Balance refund programme (closing balances of 30 September "
                                  "2019)"))
        self.programme.setObjectName("programme")
        self.programme.setStyleSheet("font-weight: bold; font-size: 15pt; color: #1b5e20;")
        heading = QHBoxLayout()
        heading.addWidget(programme_badge(_("Balance refund"), REFUND_COLOUR, "programme_badge"))
        heading.addWidget(self.programme, 1)
        layout.addLayout(heading)
        self.demo_day = QLabel()
        self.demo_day.setObjectName("demo_day")
        self.demo_day.setStyleSheet("color: #8a4b00; font-weight: bold;")
        self.demo_day.setVisible(False)
        layout.addWidget(self.demo_day)
        self.figures = QLabel()
        self.figures.setObjectName("figures")
        layout.addWidget(self.figures)
        layout.addWidget(self._import_box())
        self.tabs = QTabWidget()
        self.lists: dict[str, QTableWidget] = {}
        for name in WORK_LISTS:
            table = _table(f"list_{name}", LIST_HEADERS, (140, 130, 130, 90, 150, 100))
            self.lists[name] = table
            self.tabs.addTab(table, _(LIST_TITLES[name]))
        self.both = _table("both_programmes", BOTH_HEADERS,
                           (130, 130, 110, 110, 170, 170, 110))
        self.tabs.addTab(self.both, _("In both programmes"))
        layout.addWidget(self.tabs, 1)
        layout.addLayout(self._identity_row())
        self.message = QLabel()
        self.message.setObjectName("message")
        self.message.setWordWrap(True)
        layout.addWidget(self.message)

    def _import_box(self) -> QGroupBox:
        """The two files go through the import wizard (the same engine, preview, dry run,
        refused rows and cancel as the incident lists): these buttons open it."""
        box = QGroupBox(_("Import a file"))
        row = QHBoxLayout(box)
        self.import_balances_button = QPushButton(_("Import closing balances…"))
        self.import_balances_button.setObjectName("import_balances")
        self.import_balances_button.clicked.connect(
            lambda: self.import_wanted.emit("balances"))
        self.import_applications_button = QPushButton(_("Import applications…"))
        self.import_applications_button.setObjectName("import_applications")
        self.import_applications_button.clicked.connect(
            lambda: self.import_wanted.emit("applications"))
        self.phone_button = QPushButton(_("Application by phone…"))
        self.phone_button.setObjectName("phone_application")
        self.phone_button.clicked.connect(self.take_phone_application)
        for widget in (self.import_balances_button, self.import_applications_button,
                       self.phone_button):
            row.addWidget(widget)
        row.addStretch(1)
        return box

    def _identity_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.how = QComboBox()
        for how in IDENTITY_HOW:
            self.how.addItem(_(HOW_LABELS[how]), how)
        self.confirm_button = QPushButton(_("Identity confirmed"))
        self.confirm_button.clicked.connect(self.confirm_selected)
        self.refuse_button = QPushButton(_("Refuse…"))
        self.refuse_button.clicked.connect(self.refuse_selected)
        row.addWidget(QLabel(_("Selected application:")))
        row.addWidget(self.how)
        row.addWidget(self.confirm_button)
        row.addWidget(self.refuse_button)
        # Taking a late application in is a supervisor's, with a reason and a fresh code
        # (the service and the centre's server refuse anyone else): absent for operators.
        self.accept_late_button = QPushButton(_("Accept late…"))
        self.accept_late_button.setObjectName("accept_late")
        self.accept_late_button.clicked.connect(self.accept_late_selected)
        self.accept_late_button.setVisible(self.desk.actor.role in (Role.SUPERVISOR,
                                                                    Role.ADMIN))
        row.addWidget(self.accept_late_button)
        self.person_button = QPushButton(_("Person in both programmes…"))
        self.person_button.setObjectName("refund_person")
        self.person_button.clicked.connect(self.show_person)
        row.addWidget(self.person_button)
        row.addStretch(1)
        return row

    # -- reading -----------------------------------------------------------------
    def refresh(self) -> None:
        self.desk.call(refunds_stats.figures, on_done=self._show_figures, on_error=self._error)
        for name in WORK_LISTS:
            self.desk.call(refunds.work_list, name, on_done=lambda rows, n=name:
                           self._fill_list(n, rows), on_error=self._error)
        self.desk.call(refunds_overlap.both_programmes, on_done=self._fill_both,
                       on_error=self._error)

    def _show_figures(self, figures: dict) -> None:
        self.figures.setText(figures_text(figures))
        demo = demo_day_text(figures.get("demo_as_of"))
        self.demo_day.setText(demo)
        self.demo_day.setVisible(bool(demo))
        self.loaded.emit()

    def _fill_list(self, name: str, rows: list[refunds.ApplicationView]) -> None:
        table = self.lists[name]
        table.setRowCount(len(rows))
        for index, r in enumerate(rows):
            amount = "" if r.refundable_amount is None else format_yen(r.refundable_amount)
            values = (r.application_id, r.member_id or "", r.name,
                      _(ROUTE_LABELS.get(r.route, r.route)), format_moment(r.applied_at),
                      amount, _reason(r.state_reason))
            for column, value in enumerate(values):
                item = QTableWidgetItem(value)
                item.setData(Qt.ItemDataRole.UserRole, r.id)
                table.setItem(index, column, item)
        self.tabs.setTabText(list(WORK_LISTS).index(name),
                             f"{_(LIST_TITLES[name])} ({len(rows):,})")

    def _fill_both(self, people: list[refunds_overlap.PersonInBoth]) -> None:
        self.both.setRowCount(len(people))
        for index, p in enumerate(people):
            values = (p.member_id, p.name, format_yen(p.charges), format_yen(p.balance),
                      format_yen(p.compensation_paid + p.compensation_due),
                      format_yen(p.refund_paid + p.refund_due), format_yen(p.allowed),
                      format_yen(p.excess) if p.excess else "")
            for column, value in enumerate(values):
                self.both.setItem(index, column, QTableWidgetItem(value))

    # -- a phone application ----------------------------------------------------
    def take_phone_application(self) -> RefundIntakeDialog:
        dialog = RefundIntakeDialog(self.desk, self)
        dialog.accepted.connect(lambda: self._phoned(dialog))
        dialog.open()
        return dialog

    def _phoned(self, dialog: RefundIntakeDialog) -> None:
        if dialog.created is not None:  # the lists refresh from the desk's changed
            self.message.setText(dialog.message.text())

    # -- decisions ---------------------------------------------------------------
    def _selected(self) -> int | None:
        table = self.tabs.currentWidget()
        if not isinstance(table, QTableWidget) or table is self.both:
            return None
        item = table.item(table.currentRow(), 0) if table.currentRow() >= 0 else None
        return item.data(Qt.ItemDataRole.UserRole) if item else None

    def show_person(self) -> PersonDialog | None:
        """The applicant's page in both programmes: the refund applications and any
        compensation case of the same member."""
        selected = self._selected()
        if selected is None:
            self.message.setText(_("Select an application in a list first."))
            return None
        dialog = PersonDialog(self.desk, self)
        dialog.load_application(selected)
        dialog.open()
        return dialog

    def confirm_selected(self) -> None:
        selected = self._selected()
        if selected is None:
            self.message.setText(_("Select an application in a list first."))
            return
        self.desk.act(refunds.confirm_identity, selected, self.how.currentData(),
                      on_done=self._decided, on_error=self._error)

    def refuse_selected(self) -> None:
        selected = self._selected()
        if selected is None:
            self.message.setText(_("Select an application in a list first."))
            return
        reason = self.desk.prompter.ask_text(self, _("Refuse"), _("Reason for the refusal:"))
        if reason:
            self.desk.act(refunds.refuse, selected, reason, on_done=self._decided,
                          on_error=self._error)

    def accept_late_selected(self) -> None:
        selected = self._selected()
        if selected is None or self.tabs.currentWidget() is not self.lists["late"]:
            self.message.setText(_("Select an application in the list after the deadline "
                                   "first."))
            return
        reason = self.desk.prompter.ask_text(
            self, _("Accept after the deadline"),
            _("Why the application is taken in after the deadline:"))
        if not reason:
            return
        code = ask_fresh_code(self, self.desk)
        if code is None:
            return
        self.desk.act(refunds.accept_late, selected, reason, second_factor=code or None,
                      on_done=self._decided, on_error=self._error)

    def _decided(self, view: refunds.ApplicationView) -> None:
        self.message.setText(f"{view.application_id}: {view.state_label}")

    def _error(self, exc: Exception) -> None:
        self.message.setText(error_text(exc))
