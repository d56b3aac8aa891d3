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
from app.services.gateway import FileOut
from app.ui.desk import Desk
from app.ui.person_dialog import REFUND_COLOUR, PersonDialog, programme_badge
from app.ui.refresh import follow_changes, touches_refunds
from app.ui.refund_decision_dialogs import (
    HOW_LABELS,
    MatchMemberDialog,
    PostalIssuedDialog,
    RefundMethodDialog,
)
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
POSTAL_HEADERS = (N_("Application"), N_("Member ID"), N_("Name"), N_("Refundable"),
                  N_("Certificate status"), N_("Certificate number"), N_("Cash by"))
POSTAL_STATUS = {None: N_("Waiting for the request list"),
                 "requested": N_("Requested from Japan Post"),
                 "issued": N_("Issued"),
                 "returned": N_("Expired and returned: a new method is needed")}
ROUTE_LABELS = {"app": N_("App"), "web": N_("Web form"), "phone": N_("Phone call")}


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
        self._shown: dict[str, list[refunds.ApplicationView]] = {}
        for name in WORK_LISTS:
            table = _table(f"list_{name}", LIST_HEADERS, (140, 130, 130, 90, 150, 100))
            self.lists[name] = table
            self.tabs.addTab(table, _(LIST_TITLES[name]))
        self.postal = _table("postal_orders", POSTAL_HEADERS,
                             (140, 130, 130, 100, 300, 150))
        self.postal_rows: list[refunds.PostalView] = []
        self.postal_counts: dict[str, int] = {}
        self.tabs.addTab(self.postal, _("Postal money orders"))
        self.both = _table("both_programmes", BOTH_HEADERS,
                           (130, 130, 110, 110, 170, 170, 110))
        self.tabs.addTab(self.both, _("In both programmes"))
        layout.addWidget(self.tabs, 1)
        self.people: list[refunds_overlap.PersonInBoth] = []
        self.decisions = QWidget()
        rows = QVBoxLayout(self.decisions)
        rows.setContentsMargins(0, 0, 0, 0)
        rows.addLayout(self._identity_row())
        rows.addLayout(self.supervisor_row)
        layout.addWidget(self.decisions)
        self.postal_actions = QWidget()
        self.postal_actions.setLayout(self._postal_row())
        layout.addWidget(self.postal_actions)
        self.tabs.currentChanged.connect(self._tab_changed)
        self._tab_changed()
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
        row.setContentsMargins(0, 0, 0, 0)
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
        # An unmatched application: the operator finds its member among the balances.
        self.match_button = QPushButton(_("Match to a member…"))
        self.match_button.setObjectName("match_member")
        self.match_button.clicked.connect(self.match_selected)
        row.addWidget(self.match_button)
        # Taking a late application in is a supervisor's, with a reason and a fresh code
        # (the service and the centre's server refuse anyone else): absent for operators.
        self.accept_late_button = QPushButton(_("Accept late…"))
        self.accept_late_button.setObjectName("accept_late")
        self.accept_late_button.clicked.connect(self.accept_late_selected)
        supervisor = self.desk.actor.role in (Role.SUPERVISOR, Role.ADMIN)
        self.accept_late_button.setVisible(supervisor)
        # The supervisor's decisions on a row of their own (absent for operators).
        self.supervisor_row = QHBoxLayout()
        label = QLabel(_("Supervisor's decisions:"))
        label.setVisible(supervisor)
        self.supervisor_row.addWidget(label)
        self.supervisor_row.addWidget(self.accept_late_button)
        # How much of the balance came from compensated charges: a supervisor's, as late.
        self.settle_button = QPushButton(_("Settle the overlap…"))
        self.settle_button.setObjectName("settle_overlap")
        self.settle_button.clicked.connect(self.settle_selected)
        self.settle_button.setVisible(supervisor)
        self.supervisor_row.addWidget(self.settle_button)
        self.supervisor_row.addStretch(1)
        self.person_button = QPushButton(_("Person in both programmes…"))
        self.person_button.setObjectName("refund_person")
        self.person_button.clicked.connect(self.show_person)
        row.addWidget(self.person_button)
        row.addStretch(1)
        return row

    def _postal_row(self) -> QHBoxLayout:
        """The 払出証書 rail: the request list (a supervisor's), then what Japan Post
        reports (issued, cashed, expired and returned) and a new method after a return."""
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        self.request_list_button = QPushButton(_("Request list for Japan Post…"))
        self.request_list_button.setObjectName("postal_request_list")
        self.request_list_button.clicked.connect(self.write_request_list)
        self.request_list_button.setVisible(self.desk.actor.role in (Role.SUPERVISOR,
                                                                     Role.ADMIN))
        self.issued_button = QPushButton(_("Issued…"))
        self.issued_button.setObjectName("postal_issued")
        self.issued_button.clicked.connect(self.record_issued)
        self.cashed_button = QPushButton(_("Cashed"))
        self.cashed_button.setObjectName("postal_cashed")
        self.cashed_button.clicked.connect(self.record_cashed)
        self.returned_button = QPushButton(_("Expired and returned…"))
        self.returned_button.setObjectName("postal_returned")
        self.returned_button.clicked.connect(self.record_returned)
        self.method_button = QPushButton(_("New payout method…"))
        self.method_button.setObjectName("change_method")
        self.method_button.clicked.connect(self.change_method)
        row.addWidget(QLabel(_("Postal money order:")))
        for button in (self.issued_button, self.cashed_button, self.returned_button,
                       self.method_button, self.request_list_button):
            row.addWidget(button)
        row.addStretch(1)
        return row

    def _tab_changed(self, _index: int = 0) -> None:
        """The decisions under the work lists, the rail's under its list."""
        current = self.tabs.currentWidget()
        self.decisions.setVisible(current is not self.postal)
        self.postal_actions.setVisible(current is self.postal)

    # -- reading -----------------------------------------------------------------
    def refresh(self) -> None:
        self.desk.call(refunds_stats.figures, on_done=self._show_figures, on_error=self._error)
        for name in WORK_LISTS:
            self.desk.call(refunds.work_list, name, on_done=lambda rows, n=name:
                           self._fill_list(n, rows), on_error=self._error)
        self.desk.call(refunds.postal_list, on_done=self._fill_postal, on_error=self._error)
        self.desk.call(refunds.postal_counts, on_done=self._count_postal, on_error=self._error)
        self.desk.call(refunds_overlap.both_programmes, on_done=self._fill_both,
                       on_error=self._error)

    def _show_figures(self, figures: dict) -> None:
        self.figures.setText(figures_text(figures))
        demo = demo_day_text(figures.get("demo_as_of"))
        self.demo_day.setText(demo)
        self.demo_day.setVisible(bool(demo))
        self.loaded.emit()

    def _fill_list(self, name: str, rows: list[refunds.ApplicationView]) -> None:
        self._shown[name] = rows
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

    def _fill_postal(self, rows: list[refunds.PostalView]) -> None:
        self.postal_rows = rows
        self.postal.setRowCount(len(rows))
        for index, r in enumerate(rows):
            amount = "" if r.refundable_amount is None else format_yen(r.refundable_amount)
            values = (r.application_id, r.member_id or "", r.name, amount,
                      _(POSTAL_STATUS.get(r.order_status, r.order_status or "")),
                      r.certificate_number or "",
                      r.expires_on.isoformat().replace("-", "/") if r.expires_on else "")
            for column, value in enumerate(values):
                item = QTableWidgetItem(value)
                item.setData(Qt.ItemDataRole.UserRole, r.id)
                self.postal.setItem(index, column, item)

    def _count_postal(self, counts: dict[str, int]) -> None:
        """The tab counts the whole rail (the list shows its first rows)."""
        self.postal_counts = counts
        self.tabs.setTabText(self.tabs.indexOf(self.postal),
                             f"{_('Postal money orders')} ({sum(counts.values()):,})")

    def _fill_both(self, people: list[refunds_overlap.PersonInBoth]) -> None:
        self.people = people
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
        if not isinstance(table, QTableWidget) or table in (self.both, self.postal):
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

    def _selected_in(self, name: str) -> int | None:
        """The application selected in the work list ``name`` (None when another list
        is shown or nothing is selected)."""
        table = self.lists[name]
        if self.tabs.currentWidget() is not table or table.currentRow() < 0:
            return None
        item = table.item(table.currentRow(), 0)
        return item.data(Qt.ItemDataRole.UserRole) if item else None

    def match_selected(self) -> MatchMemberDialog | None:
        """An unmatched application: find its member among the closing balances."""
        selected = self._selected_in("unmatched")
        if selected is None:
            self.message.setText(_("Select an application in the list of members not found "
                                   "first."))
            return None
        application = next((v for v in self._shown.get("unmatched", [])
                            if v.id == selected), None)
        dialog = MatchMemberDialog(self.desk, application, selected, self)
        dialog.accepted.connect(lambda: dialog.matched and self._decided(dialog.matched))
        dialog.open()
        return dialog

    def settle_selected(self) -> None:
        """Held for the overlap: the supervisor says how much of the balance came from
        charges compensation reversed or repaid; the refund is the rest."""
        selected = self._selected_in("held_overlap")
        if selected is None:
            self.message.setText(_("Select an application in the list held for the overlap "
                                   "first."))
            return
        view = next(v for v in self._shown["held_overlap"] if v.id == selected)
        balance = view.balance or 0
        person = next((p for p in self.people if p.member_id == view.member_id), None)
        suggested = min(balance, person.charges) if person else balance
        from_charges = self.desk.prompter.ask_amount(
            self, _("Settle the overlap"),
            _("Of the closing balance {balance}, how much came from charges that "
              "compensation reversed or repaid? (the refund is the rest)").format(
                balance=format_yen(balance)), suggested)
        if from_charges is None:
            return
        if not 0 <= from_charges <= balance:  # the service says so too, after the code
            self.message.setText(one_language(
                f"0円から残高（{balance:,}円）までで入力してください。",
                f"Give 0 to {balance:,} yen (the closing balance)."))
            return
        reason = self.desk.prompter.ask_text(self, _("Settle the overlap"),
                                             _("Reason for the decision:"))
        if not reason:
            return
        code = ask_fresh_code(self, self.desk)
        if code is None:
            return
        self.desk.act(refunds.settle_overlap, selected, from_charges, reason,
                      second_factor=code or None, on_done=self._decided, on_error=self._error)

    # -- the 払出証書 rail ---------------------------------------------------------
    def _postal_selected(self) -> refunds.PostalView | None:
        row = self.postal.currentRow()
        if self.tabs.currentWidget() is not self.postal or not 0 <= row < len(
                self.postal_rows):
            self.message.setText(_("Select an application in the list of postal money "
                                   "orders first."))
            return None
        return self.postal_rows[row]

    def write_request_list(self) -> None:
        waiting = self.postal_counts.get("waiting", 0)
        if not self.desk.prompter.confirm(
                self, _("Request list for Japan Post"),
                _("Every confirmed postal-order application not yet requested ({count:,} "
                  "now) goes on the list, and can then be paid only by its 払出証書. "
                  "Write the list?").format(count=waiting)):
            return
        stamp = self.desk.now().strftime("%Y%m%d_%H%M")
        path = self.desk.prompter.save_file(self, _("Request list for Japan Post"),
                                            f"払出証書依頼_{stamp}.csv", "CSV (*.csv)")
        if not path:
            return
        code = ask_fresh_code(self, self.desk)  # names and addresses leave the program
        if code is None:
            return
        self.desk.act(refunds.postal_request_list, FileOut(path), second_factor=code or None,
                      on_done=lambda count: self.message.setText(
                          _("{count:,} postal money orders requested: {path}").format(
                              count=count, path=path)),
                      on_error=self._error)

    def record_issued(self) -> PostalIssuedDialog | None:
        view = self._postal_selected()
        if view is None:
            return None
        dialog = PostalIssuedDialog(self.desk, view, self.desk.now().date(), self)
        dialog.accepted.connect(lambda: self.message.setText(
            _("{number}: postal money order issued").format(number=view.application_id)))
        dialog.open()
        return dialog

    def record_cashed(self) -> None:
        view = self._postal_selected()
        if view is None:
            return
        if not self.desk.prompter.confirm(
                self, _("Postal money order cashed"),
                _("Japan Post reports the 払出証書 of {number} ({amount}) cashed: the refund "
                  "is recorded as paid, once and for all. Record it?").format(
                    number=view.application_id,
                    amount=format_yen(view.refundable_amount or 0))):
            return
        self.desk.act(refunds.postal_cashed, view.id, on_done=lambda _v: self.message.setText(
            _("{number}: refunded by postal money order").format(number=view.application_id)),
            on_error=self._error)

    def record_returned(self) -> None:
        view = self._postal_selected()
        if view is None:
            return
        if not self.desk.prompter.confirm(
                self, _("Postal money order returned"),
                _("The 払出証書 of {number} expired or came back: it can no longer be cashed, "
                  "and the member must give a new payout method. Record it?").format(
                    number=view.application_id)):
            return
        reason = self.desk.prompter.ask_text(self, _("Postal money order returned"),
                                             _("What happened (e.g. expired unpaid):"))
        if not reason:
            return
        self.desk.act(refunds.postal_returned, view.id, reason,
                      on_done=lambda _v: self.message.setText(
                          _("{number}: returned; a new payout method is needed").format(
                              number=view.application_id)), on_error=self._error)

    def change_method(self) -> RefundMethodDialog | None:
        view = self._postal_selected()
        if view is None:
            return None
        if view.state != "awaiting_method":
            self.message.setText(_("A new method is given only after the 払出証書 came back."))
            return None
        dialog = RefundMethodDialog(self.desk, view, self)
        dialog.accepted.connect(lambda: dialog.saved and self._decided(dialog.saved))
        dialog.open()
        return dialog

    def _decided(self, view: refunds.ApplicationView) -> None:
        self.message.setText(f"{view.application_id}: {view.state_label}")

    def _error(self, exc: Exception) -> None:
        self.message.setText(error_text(exc))
